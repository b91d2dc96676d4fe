// layers/base/layer_options_internal.h — the JSON-free helpers of the layers'
// from_config functions: the common options copied into a layer's options
// struct, and errors prefixed with the layer that reads them. Headers with
// inline from_config code (conv_base.h, image_reshaping_layer.h) include this
// one rather than core_layers_internal.h, which needs the full JSON header.
// Internal to layers/; not part of the public API.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/errors.h"
#include "layers/base/layer.h"

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

// Layers whose options have no activity_regularizer field still accept one in
// a config, as every Keras layer does; this applies it after construction.
template <class Impl>
std::shared_ptr<Impl> with_activity_regularizer(std::shared_ptr<Impl> layer, const LayerOptions& lo) {
  if (lo.activity_regularizer.has_value()) layer->set_activity_regularizer(lo.activity_regularizer);
  return layer;
}

// Runs f; a ValueError it throws whose message does not begin with `owner` is
// rethrown with "<owner>: " in front. The part readers (get_initializer,
// get_activation, ...) do not know which layer asked; the ConfigReader and
// Layer::fail messages already name it.
template <class F>
auto naming_owner(const std::string& owner, F&& f) {
  try {
    return f();
  } catch (const ValueError& e) {
    if (std::string_view(e.what()).starts_with(owner)) throw;
    throw ValueError(owner + ": " + e.what());
  }
}

}  // namespace minidl::detail
