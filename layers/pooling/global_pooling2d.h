// layers/pooling/global_pooling2d.h — GlobalAveragePooling2D and GlobalMaxPooling2D.
//
//   KerasTensor y = GlobalAveragePooling2D()(Input({7, 7, 64}));              // (None, 64)
//   KerasTensor z = GlobalMaxPooling2D({.keepdims = true})(Input({7, 7, 64})); // (None, 1, 1, 64)
//
// Mean or max over the two spatial axes of a 4-D input, per image and channel.
// Keras arguments: data_format ("" = keras.json default) and keepdims (tf.keras
// 2.6+; false gives (batch, C), true keeps the spatial axes as 1). Older
// configs without "keepdims" read as false. ValueError (naming the layer) for
// a non-4-D input or an empty spatial dimension.
//
// Computation: ops/pooling.h global kernels on the input's NHWC block (a
// channels_first input is reduced as its [N*C, H, W, 1] view, no transpose).
// Backward: the mean spreads dy evenly; the max routes it to the first maximum.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layers/base/layer.h"
#include "layers/reshaping/spatial_utils.h"

namespace minidl {

struct GlobalPooling2DOptions {
  std::string data_format = "";  // "" (None): keras.json image_data_format
  bool keepdims = false;
  MINIDL_COMMON_LAYER_OPTIONS;
};
using GlobalAveragePooling2DOptions = GlobalPooling2DOptions;
using GlobalMaxPooling2DOptions = GlobalPooling2DOptions;

class GlobalPooling2DImpl : public Layer {
 public:
  enum class Kind { kMax, kAverage };

  // ValueError naming the layer for an unknown data_format.
  GlobalPooling2DImpl(Kind kind, GlobalPooling2DOptions o);

  std::string class_name() const override {
    return kind_ == Kind::kMax ? "GlobalMaxPooling2D" : "GlobalAveragePooling2D";
  }
  const std::string& data_format() const { return data_format_; }
  bool keepdims() const { return keepdims_; }

  // {"data_format", "keepdims"} plus the base keys.
  json get_config() const override;
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
  // Keras 2/3 config -> options; ValueError naming owner for unknown keys or wrong types.
  static GlobalPooling2DOptions parse_config(const json& config, const std::string& owner);

 private:
  // compute_output_shape for one input shape (no lists: call() uses it every step).
  Shape output_shape_for(const Shape& input_shape) const;

  Kind kind_;
  std::string data_format_;
  bool keepdims_;
};

class GlobalAveragePooling2DImpl : public GlobalPooling2DImpl {
 public:
  explicit GlobalAveragePooling2DImpl(GlobalAveragePooling2DOptions o = {})
      : GlobalPooling2DImpl(Kind::kAverage, std::move(o)) {}
  static std::shared_ptr<GlobalAveragePooling2DImpl> from_config(const json& config) {
    return std::make_shared<GlobalAveragePooling2DImpl>(parse_config(config, "GlobalAveragePooling2D"));
  }
};

class GlobalMaxPooling2DImpl : public GlobalPooling2DImpl {
 public:
  explicit GlobalMaxPooling2DImpl(GlobalMaxPooling2DOptions o = {}) : GlobalPooling2DImpl(Kind::kMax, std::move(o)) {}
  static std::shared_ptr<GlobalMaxPooling2DImpl> from_config(const json& config) {
    return std::make_shared<GlobalMaxPooling2DImpl>(parse_config(config, "GlobalMaxPooling2D"));
  }
};

class GlobalAveragePooling2D : public LayerHolder<GlobalAveragePooling2DImpl> {
 public:
  GlobalAveragePooling2D(GlobalAveragePooling2DOptions o = {})
      : LayerHolder(std::make_shared<GlobalAveragePooling2DImpl>(std::move(o))) {}
  explicit GlobalAveragePooling2D(std::shared_ptr<GlobalAveragePooling2DImpl> p) : LayerHolder(std::move(p)) {}
};

class GlobalMaxPooling2D : public LayerHolder<GlobalMaxPooling2DImpl> {
 public:
  GlobalMaxPooling2D(GlobalMaxPooling2DOptions o = {})
      : LayerHolder(std::make_shared<GlobalMaxPooling2DImpl>(std::move(o))) {}
  explicit GlobalMaxPooling2D(std::shared_ptr<GlobalMaxPooling2DImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
