// tools/model_source.cpp — the MODEL argument shared by the model-taking subcommands, saving by extension, and
// the up-front checks of file arguments.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <system_error>

#include "core/errors.h"
#include "io/keras_model.h"
#include "tools/commands.h"

namespace minidl::cli {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void add_model_options(CLI::App& sub, ModelSource& source) {
  sub.add_option("MODEL", source.path, "full-model file (.h5 or .keras)");
  auto* arch = sub.add_option("--architecture", source.architecture,
                              "architecture JSON (Keras model.to_json()), with --weights");
  auto* weights = sub.add_option("--weights", source.weights, "weights file (.h5 or .weights.h5), with --architecture");
  arch->needs(weights);
  weights->needs(arch);
}

std::shared_ptr<ModelImpl> load_model_source(const ModelSource& source) {
  const bool has_parts = !source.architecture.empty() || !source.weights.empty();
  if (!source.path.empty() && has_parts)
    throw UsageError("give either MODEL or --architecture/--weights, not both (MODEL '" + source.path + "')");
  if (source.path.empty() && !has_parts)
    throw UsageError("missing MODEL (a .h5 or .keras file, or --architecture ARCH.json --weights WEIGHTS.h5)");
  if (has_parts) {
    if (source.architecture.empty() || source.weights.empty())
      throw UsageError("--architecture and --weights go together");
    check_input_file(source.architecture, "--architecture");
    check_input_file(source.weights, "--weights");
    return load_model_from_parts(source.architecture, source.weights);
  }
  check_input_file(source.path, "MODEL");
  return load_model(source.path);
}

void check_save_path(const std::string& path) {
  if (!ends_with(path, ".h5") && !ends_with(path, ".keras"))
    throw UsageError("output '" + path + "': expected a name ending in .h5, .keras or .weights.h5");
}

void check_input_file(const std::string& path, const std::string& argument) {
  std::error_code ec;
  const fs::file_type type = fs::status(path, ec).type();
  if (type == fs::file_type::not_found) raise<IOError>("{} '{}' does not exist", argument, path);
  if (type == fs::file_type::directory) raise<IOError>("{} '{}' is a directory, not a file", argument, path);
}

void check_output_file(const std::string& path, const std::string& argument) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) raise<IOError>("{} '{}' is a directory, not a file", argument, path);
  const fs::path folder = fs::path(path).parent_path();
  if (!folder.empty() && !fs::is_directory(folder, ec))
    raise<IOError>("{} '{}': the folder '{}' does not exist", argument, path, folder.string());
}

void save_by_extension(const ModelImpl& model, const std::string& path) {
  check_save_path(path);
  // .weights.h5 is Keras 3's weights-only name; plain .h5 stays the legacy full model.
  if (ends_with(path, ".weights.h5"))
    save_weights(model, path, /*keras3=*/true);
  else
    save_model(model, path);
}

}  // namespace minidl::cli
