// layers/activations/activation_config.h — config reading and writing shared by the
// activation layers' get_config and from_config. Internal to layers/activations.
#pragma once

#include <memory>
#include <string_view>
#include <utility>

#include "layers/base/config_utils.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"

namespace minidl::detail {

// Keras stores the layers' float arguments as float32 and writes them back
// widened to double (0.3 -> 0.30000001192092896).
inline json float32_json(float v) { return static_cast<double>(v); }

// config[key] as a number, `fallback` when absent. ValueError with
// `null_message` when the key is present but null (Keras's own message for it).
inline double float_argument(const ConfigReader& r, const json& c, const char* key, double fallback,
                             std::string_view null_message) {
  if (c.contains(key) && c.at(key).is_null()) raise<ValueError>("{}", null_message);
  return r.number(key, fallback);
}

}  // namespace minidl::detail
