// layers/base/core_layers_internal.h — small helpers shared by the layers'
// from_config functions (dense, reshaping, activation layers, dropout, masking,
// merge). Internal to layers/; not part of the public API.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "layers/base/config_utils.h"
#include "layers/base/layer.h"
#include "layers/base/registry.h"

namespace minidl::detail {

// Copies the common construction arguments read by common_options_from_config
// into a layer's options struct (one declared with MINIDL_COMMON_LAYER_OPTIONS).
template <class O>
void set_common_options(O& o, const LayerOptions& lo) {
  o.input_shape = lo.input_shape;
  o.batch_input_shape = lo.batch_input_shape;
  o.batch_size = lo.batch_size;
  o.dtype = lo.dtype;
  o.name = lo.name;
  o.trainable = lo.trainable;
}

// config[key], or null when the key is absent (parts treat null as "none").
inline json config_part(const json& config, const char* key) {
  return config.contains(key) ? config.at(key) : json(nullptr);
}

// Layers whose options have no activity_regularizer field still accept one in
// a config, as every Keras layer does; this applies it after construction.
template <class Impl>
std::shared_ptr<Impl> with_activity_regularizer(std::shared_ptr<Impl> layer, const LayerOptions& lo) {
  if (lo.activity_regularizer.has_value()) layer->set_activity_regularizer(lo.activity_regularizer);
  return layer;
}

// The body of a layer's from_config. Reads the common keys of `config` (name,
// trainable, dtype, input shapes, activity_regularizer) into an Options struct,
// hands it with the reader to make(r, o), which reads the layer's own keys and
// constructs the layer, and gives the layer the configured activity_regularizer
// (through its options when they have that field):
//   return detail::layer_from_config<MaskingOptions>(c, "Masking", [](const ConfigReader& r, MaskingOptions o) {
//     o.mask_value = r.number("mask_value", 0.0);
//     return std::make_shared<MaskingImpl>(std::move(o));
//   });
template <class Options, class Make>
auto layer_from_config(const json& config, const std::string& owner, Make make) {
  ConfigReader r(config, owner);
  const LayerOptions lo = common_options_from_config(r);
  Options o;
  set_common_options(o, lo);
  if constexpr (requires { o.activity_regularizer; }) {
    o.activity_regularizer = lo.activity_regularizer;
    return make(r, std::move(o));
  } else {
    return with_activity_regularizer(make(r, std::move(o)), lo);
  }
}

}  // namespace minidl::detail
