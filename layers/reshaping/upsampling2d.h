// layers/reshaping/upsampling2d.h — UpSampling2D: repeats (or bilinearly resamples) rows and columns.
//
//   KerasTensor y = UpSampling2D()(Input({14, 14, 8}));                          // (None, 28, 28, 8)
//   UpSampling2D({2, 3}, {.interpolation = "bilinear"});
//
// Keras arguments: size (int or (rows, cols), default 2; positional as in
// Keras), data_format ("" = keras.json default) and interpolation:
//   "nearest"  each value copied into a rows x cols block;
//   "bilinear" tf.image.resize(method="bilinear") as tf.keras 2.3+ uses it
//              (half-pixel centres, neighbours clamped at the border).
// Any other interpolation, a size below 1, or a non-4-D input is a ValueError
// naming the layer. Backward: block sums (nearest) or the bilinear weights
// transposed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/reshaping/image_reshaping_layer.h"

namespace minidl {

struct UpSampling2DOptions {
  std::string data_format = "";  // "" (None): keras.json image_data_format
  std::string interpolation = "nearest";
  MINIDL_COMMON_LAYER_OPTIONS;
};

class UpSampling2DImpl : public ImageReshapingLayer {
 public:
  explicit UpSampling2DImpl(Size2D size = 2, UpSampling2DOptions o = {});

  std::string class_name() const override { return "UpSampling2D"; }
  const Size2D& size() const { return size_; }
  const std::string& interpolation() const { return interpolation_; }

  // {"size": [a, b], "data_format", "interpolation"} plus the base keys.
  json get_config() const override;
  // Keras 1/2/3 configs (a missing interpolation is "nearest"); ValueError for
  // unknown keys or wrong value types.
  static std::shared_ptr<UpSampling2DImpl> from_config(const json& config);
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  Size2D size_;
  std::string interpolation_;
};

class UpSampling2D : public LayerHolder<UpSampling2DImpl> {
 public:
  UpSampling2D(Size2D size = 2, UpSampling2DOptions o = {})
      : LayerHolder(std::make_shared<UpSampling2DImpl>(size, std::move(o))) {}
  explicit UpSampling2D(std::shared_ptr<UpSampling2DImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
