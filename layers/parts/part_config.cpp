// layers/parts/part_config.cpp — reading part identifiers and their configs.
#include "layers/parts/part_config.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/errors.h"
#include "core/message.h"
#include "layers/base/json_text.h"

namespace minidl::detail {

PartIdentifier parse_part_identifier(const json& id, std::string_view kind) {
  PartIdentifier out;
  if (id.is_string()) {
    out.class_name = id.get<std::string>();
    out.config = json::object();
    out.from_string = true;
    return out;
  }
  MINIDL_CHECK(id.is_object(), ValueError,
               "Could not interpret {} identifier: expected a name or a {{\"class_name\", \"config\"}} object, "
               "received {}",
               kind, json_preview(id));
  if (id.contains("class_name")) {
    MINIDL_CHECK(id["class_name"].is_string(), ValueError, "Could not interpret {} identifier {}: class_name is not a string",
                 kind, json_preview(id));
    out.class_name = id["class_name"].get<std::string>();
    // Keras 3 may carry "module" and "registered_name" beside these; they add
    // nothing for built-in parts, so they are ignored.
    out.config = id.contains("config") && !id["config"].is_null() ? id["config"] : json::object();
    return out;
  }
  MINIDL_CHECK(id.contains("name") && id["name"].is_string(), ValueError,
               "Could not interpret {} identifier {}: expected a \"class_name\" key", kind, json_preview(id));
  // Keras 1 wrote {"name": "MaxNorm", "m": 2, "axis": 0}: parameters inline.
  out.class_name = id["name"].get<std::string>();
  out.config = id;
  out.config.erase("name");
  return out;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string quoted_list(const std::vector<std::string>& names) {
  // These lists are minidl's own names (registries, accepted keys): show them all unless
  // one grows past what a message can hold.
  return join_capped_by(names, [](const std::string& n) { return "'" + n + "'"; }, 60, 600);
}

void raise_unknown_part(std::string_view kind, const json& identifier, const std::vector<std::string>& known) {
  raise<ValueError>("Unknown {}: {}. Known {}s: {}", kind, json_preview(identifier), kind, quoted_list(known));
}

void check_config_keys(const json& config, const std::vector<std::string>& allowed, std::string_view owner) {
  MINIDL_CHECK(config.is_object(), ValueError, "{}: config must be a JSON object, received {}", owner,
               json_preview(config));
  for (const auto& [key, value] : config.items()) {
    if (key == "dtype" || key == "name") continue;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      raise<ValueError>("{}: unexpected config key '{}' (accepted keys: {})", owner, key, quoted_list(allowed));
  }
}

double config_number(const json& config, const char* key, double fallback, std::string_view owner) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  const json& v = config[key];
  MINIDL_CHECK(v.is_number(), ValueError, "{}: config key '{}' must be a number, received {}", owner, key,
               json_preview(v));
  return v.get<double>();
}

std::string config_string(const json& config, const char* key, const std::string& fallback, std::string_view owner) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  MINIDL_CHECK(config[key].is_string(), ValueError, "{}: config key '{}' must be a string, received {}", owner, key,
               json_preview(config[key]));
  return config[key].get<std::string>();
}

std::optional<uint64_t> config_seed(const json& config, std::string_view owner) {
  if (!config.contains("seed") || config["seed"].is_null()) return std::nullopt;
  const json& v = config["seed"];
  MINIDL_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0), ValueError,
               "{}: seed must be null or a non-negative integer, received {}", owner, json_preview(v));
  return v.get<uint64_t>();
}

std::optional<std::vector<int64_t>> config_int_list(const json& config, const char* key, std::string_view owner) {
  if (!config.contains(key) || config[key].is_null()) return std::nullopt;
  const json& v = config[key];
  const auto bad = [&] {
    raise<ValueError>("{}: config key '{}' must be null or a list of integers, received {}", owner, key,
                      json_preview(v));
  };
  if (!v.is_array()) bad();
  std::vector<int64_t> out;
  for (const json& e : v) {
    if (!e.is_number_integer()) bad();
    out.push_back(e.get<int64_t>());
  }
  return out;
}

json seed_json(const std::optional<uint64_t>& seed) { return seed ? json(*seed) : json(nullptr); }

}  // namespace minidl::detail
