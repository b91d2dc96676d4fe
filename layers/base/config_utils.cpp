// layers/base/config_utils.cpp — ConfigReader (tolerant, type-checked config reading) and shape/pair to JSON.
#include "layers/base/config_utils.h"

#include <nlohmann/json.hpp>

#include <set>

#include "core/errors.h"
#include "layers/base/json_text.h"

namespace minidl {

json shape_to_json(const Shape& shape) {
  json s = json::array();
  for (int64_t d : shape) s.push_back(d == kNone ? json(nullptr) : json(d));
  return s;
}

json pair_to_json(std::pair<int64_t, int64_t> p) { return json::array({p.first, p.second}); }

ConfigReader::ConfigReader(const json& config, std::string owner) : config_(config), owner_(std::move(owner)) {
  MINIDL_CHECK(config_.is_object(), ValueError, "{}: layer config must be a JSON object, received {}", owner_,
               json_preview(config_));
}

bool ConfigReader::has(const char* key) const { return config_.contains(key) && !config_.at(key).is_null(); }

const json& ConfigReader::raw(const char* key) const {
  MINIDL_CHECK(config_.contains(key), ValueError, "{}: config is missing the key '{}'", owner_, key);
  return config_.at(key);
}

void ConfigReader::bad(const char* key, const char* expected) const {
  raise<ValueError>("{}: config key '{}' should be {}, received {}", owner_, key, expected,
                    json_preview(config_.at(key)));
}

std::string ConfigReader::str(const char* key, const std::optional<std::string>& fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    raw(key);
  }
  if (!config_.at(key).is_string()) bad(key, "a string");
  return config_.at(key).get<std::string>();
}

bool ConfigReader::boolean(const char* key, std::optional<bool> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    raw(key);
  }
  const json& v = config_.at(key);
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer() && (v.get<int64_t>() == 0 || v.get<int64_t>() == 1)) return v.get<int64_t>() == 1;
  bad(key, "a boolean");
}

double ConfigReader::number(const char* key, std::optional<double> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    raw(key);
  }
  if (!config_.at(key).is_number()) bad(key, "a number");
  return config_.at(key).get<double>();
}

int64_t ConfigReader::integer(const char* key, std::optional<int64_t> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    raw(key);
  }
  const json& v = config_.at(key);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>())) &&
      std::abs(v.get<double>()) < 9e15)
    return static_cast<int64_t>(v.get<double>());
  bad(key, "an integer");
}

std::vector<int64_t> ConfigReader::int_list(const char* key) const {
  const json& v = raw(key);
  std::vector<int64_t> out;
  if (v.is_number_integer()) return {v.get<int64_t>()};
  if (!v.is_array()) bad(key, "an integer or a list of integers");
  for (const auto& e : v) {
    if (!e.is_number_integer()) bad(key, "an integer or a list of integers");
    out.push_back(e.get<int64_t>());
  }
  return out;
}

std::pair<int64_t, int64_t> ConfigReader::int_pair(const char* key,
                                                   std::optional<std::pair<int64_t, int64_t>> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    raw(key);
  }
  auto l = int_list(key);
  if (l.size() == 1) return {l[0], l[0]};
  if (l.size() != 2) bad(key, "an integer or a list of 2 integers");
  return {l[0], l[1]};
}

Shape ConfigReader::shape(const char* key) const {
  const json& v = raw(key);
  if (!v.is_array()) bad(key, "a shape list");
  Shape s;
  int64_t total = 1;
  for (const auto& e : v) {
    if (e.is_null()) {
      s.push_back(kNone);
      continue;
    }
    if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() >= kMaxConfigElements)
      bad(key, "a shape list of non-negative integers or null");
    s.push_back(e.get<int64_t>());
    total *= std::max<int64_t>(1, e.get<int64_t>());
    if (total >= kMaxConfigElements) bad(key, "a shape of fewer than 2^31 elements");
  }
  return s;
}

std::string ConfigReader::dtype() const {
  if (!has("dtype")) return "float32";
  const json& v = config_.at("dtype");
  if (v.is_string()) return v.get<std::string>();
  // Keras 3: {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}
  if (v.is_object() && v.contains("config") && v["config"].is_object() && v["config"].contains("name") &&
      v["config"]["name"].is_string())
    return v["config"]["name"].get<std::string>();
  bad("dtype", "a dtype name or a DTypePolicy");
}

void ConfigReader::check_keys(const std::vector<std::string>& allowed) const {
  static const std::set<std::string> common = {"name",       "trainable",          "dtype",     "batch_input_shape",
                                               "batch_size", "input_shape",        "input_dim", "batch_shape",
                                               "autocast",   "activity_regularizer", "quantization_config"};
  for (auto it = config_.begin(); it != config_.end(); ++it) {
    if (common.count(it.key())) continue;
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == it.key();
    MINIDL_CHECK(ok, ValueError, "{}: unknown config key '{}'", owner_, it.key());
  }
}

}  // namespace minidl
