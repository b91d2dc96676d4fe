// layers/base/core_layers_internal.h — small helpers shared by the layers'
// from_config functions (dense, reshaping, activation layers, dropout, masking,
// merge). Internal to layers/; not part of the public API.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "core/errors.h"
#include "layers/base/config_utils.h"
#include "layers/base/layer.h"
#include "layers/base/layer_options_internal.h"
#include "layers/base/registry.h"

namespace minidl::detail {

// config[key], or null when the key is absent (parts treat null as "none").
inline json config_part(const json& config, const char* key) {
  return config.contains(key) ? config.at(key) : json(nullptr);
}

// "<Class> '<name>'" for a config with a string name, else the class alone: the
// prefix of a layer's config errors, naming the layer as Layer::fail does.
inline std::string layer_owner(const json& config, const std::string& class_name) {
  if (config.is_object() && config.contains("name") && config["name"].is_string())
    return class_name + " '" + config["name"].get<std::string>() + "'";
  return class_name;
}

// The body of a layer's from_config. Reads the common keys of `config` (name,
// trainable, dtype, input shapes, activity_regularizer) into an Options struct,
// hands it with the reader to make(r, o), which reads the layer's own keys and
// constructs the layer, and gives the layer the configured activity_regularizer
// (through its options when they have that field). The reader's owner, and so
// every error, is "<Class> '<name>'":
//   return detail::layer_from_config<MaskingOptions>(
//       c, "Masking", {"mask_value"}, [](const ConfigReader& r, MaskingOptions o) {
//         o.mask_value = r.number("mask_value", 0.0);
//         return std::make_shared<MaskingImpl>(std::move(o));
//       });
// Without `keys`, make checks the keys itself (r.check_keys).
template <class Options, class Make>
auto layer_from_config(const json& config, const std::string& class_name, Make make) {
  ConfigReader r(config, layer_owner(config, class_name));
  const LayerOptions lo = naming_owner(r.owner(), [&] { return common_options_from_config(r); });
  Options o;
  set_common_options(o, lo);
  if constexpr (requires { o.activity_regularizer; }) {
    o.activity_regularizer = lo.activity_regularizer;
    return naming_owner(r.owner(), [&] { return make(r, std::move(o)); });
  } else {
    return with_activity_regularizer(naming_owner(r.owner(), [&] { return make(r, std::move(o)); }), lo);
  }
}

// With `keys`, the class's own config keys: any other key that is not a common
// layer key is a ValueError "<Class> '<name>': unknown config key '<key>'", as
// Keras 3 rejects keyword arguments its constructor does not take.
template <class Options, class Make>
auto layer_from_config(const json& config, const std::string& class_name, const std::vector<std::string>& keys,
                       Make make) {
  return layer_from_config<Options>(config, class_name, [&](const ConfigReader& r, Options o) {
    r.check_keys(keys);
    return make(r, std::move(o));
  });
}

}  // namespace minidl::detail
