// applications/application_options.cpp — the registry of architectures by Keras name.
#include "applications/application_options.h"

#include <map>

#include "core/errors.h"

namespace minidl::applications {
namespace {

std::map<std::string, ApplicationBuilder>& registry() {
  static std::map<std::string, ApplicationBuilder> builders;
  return builders;
}

}  // namespace

ApplicationRegistrar::ApplicationRegistrar(const std::string& name, ApplicationBuilder builder) {
  registry()[name] = std::move(builder);
}

Model build(const std::string& name, const ApplicationOptions& options) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (const std::string& n : names()) known += (known.empty() ? "" : ", ") + n;
    throw ValueError("Unknown keras.applications architecture '" + name + "'. Known: " + known);
  }
  return it->second(options);
}

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& [name, builder] : registry()) out.push_back(name);
  return out;  // std::map keeps them sorted
}

}  // namespace minidl::applications
