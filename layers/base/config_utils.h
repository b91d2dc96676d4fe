// layers/base/config_utils.h — reading and writing Keras layer configs (JSON).
//
// Keras configs drift between eras: a dtype may be "float32" or a Keras 3
// {"class_name": "DTypePolicy", ...}; a kernel_size may be 3 or [3, 3]; a batch
// shape may be called batch_input_shape or batch_shape. ConfigReader reads one
// config object tolerantly where Keras is, and strictly where a wrong value
// would mean silent garbage: wrong types are ValueError naming the layer class,
// the key, what was expected and what was found.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/shape.h"

namespace minidl {

using json = nlohmann::json;

json shape_to_json(const Shape& shape);  // kNone -> null
json pair_to_json(std::pair<int64_t, int64_t> p);

// The largest element count a config may ask for (guards hostile configs).
inline constexpr int64_t kMaxConfigElements = int64_t(1) << 31;

class ConfigReader {
 public:
  // `owner` names the layer class (and name, if known) in messages.
  ConfigReader(const json& config, std::string owner);

  bool has(const char* key) const;  // present and not null
  const json& raw(const char* key) const;  // ValueError when missing

  std::string str(const char* key, const std::optional<std::string>& fallback = std::nullopt) const;
  bool boolean(const char* key, std::optional<bool> fallback = std::nullopt) const;  // accepts 0/1 too
  double number(const char* key, std::optional<double> fallback = std::nullopt) const;
  int64_t integer(const char* key, std::optional<int64_t> fallback = std::nullopt) const;
  // An int or a pair [a, b]; each element >= 1 unless allow_zero.
  std::pair<int64_t, int64_t> int_pair(const char* key, std::optional<std::pair<int64_t, int64_t>> fallback = {}) const;
  std::vector<int64_t> int_list(const char* key) const;  // int or list
  // A shape list with null for None; every known dim in [0, 2^31).
  Shape shape(const char* key) const;
  // "float32", or the name inside a Keras 3 DTypePolicy; "float32" when absent.
  std::string dtype() const;
  const std::string& owner() const { return owner_; }

  // ValueError naming the first key not in `allowed` (common layer keys are always allowed).
  void check_keys(const std::vector<std::string>& allowed) const;

 private:
  [[noreturn]] void bad(const char* key, const char* expected) const;
  const json& config_;
  std::string owner_;
};

}  // namespace minidl
