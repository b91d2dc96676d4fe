// layers/pooling/pooling2d.h — MaxPooling2D and AveragePooling2D, the Keras 2-D pooling layers.
//
//   auto pool = MaxPooling2D();                                  // 2x2 window, strides 2, "valid"
//   auto avg = AveragePooling2D({3, 3}, {.strides = 1, .padding = "same"});
//   KerasTensor y = pool(Input({28, 28, 8}));                   // (None, 14, 14, 8)
//
// Keras arguments: pool_size (default (2, 2); positional here because it has a
// default and leads the Keras signature), strides (None = pool_size), padding
// "valid" | "same" (TensorFlow's rule: see ops/pooling.h; averages count only
// real cells), data_format "channels_last" | "channels_first" ("" = the
// keras.json default, layers/reshaping/spatial_utils.h). Input must be 4-D; output is
// (batch, OH, OW, C) or (batch, C, OH, OW). Valid padding with a window larger
// than the input is a ValueError (TensorFlow: "Negative dimension size").
//
// Computation: ops/pooling.h on NHWC; a channels_first input is transposed to
// NHWC and back at the boundary (a one-channel one needs no copy). Backward
// routes through ops' adjoint kernels (max: to the recorded argmax cell;
// average: evenly over each window's real cells).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layers/base/layer.h"
#include "layers/reshaping/spatial_utils.h"

namespace minidl {

struct Pooling2DOptions {
  OptionalSize2D strides = {};   // None: same as pool_size
  std::string padding = "valid";
  std::string data_format = "";  // "" (None): keras.json image_data_format
  MINIDL_COMMON_LAYER_OPTIONS;
};
using MaxPooling2DOptions = Pooling2DOptions;
using AveragePooling2DOptions = Pooling2DOptions;

// Shared implementation of the two pooling layers.
class Pooling2DImpl : public Layer {
 public:
  enum class Kind { kMax, kAverage };

  // Throws ValueError (naming the layer) for a pool_size or strides below 1, an
  // unknown padding or data_format.
  Pooling2DImpl(Kind kind, Size2D pool_size, Pooling2DOptions o);

  std::string class_name() const override { return kind_ == Kind::kMax ? "MaxPooling2D" : "AveragePooling2D"; }
  const Size2D& pool_size() const { return pool_size_; }
  const Size2D& strides() const { return strides_; }
  const std::string& padding() const { return padding_; }          // "valid" | "same"
  const std::string& data_format() const { return data_format_; }  // resolved, never ""

  // {"pool_size": [a, b], "padding", "strides": [a, b], "data_format"} plus the base keys.
  json get_config() const override;
  // ValueError unless the input is 4-D with non-empty spatial dims that fit a "valid" window.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
  // Reads a Keras 2/3 config (pool_size, strides, padding, data_format; missing
  // keys take Keras defaults) into constructor arguments. ValueError naming
  // `owner` for unknown keys or wrong value types.
  static std::pair<Size2D, Pooling2DOptions> parse_config(const json& config, const std::string& owner);

 private:
  // compute_output_shape for one input shape (no lists: call() uses it every step).
  Shape output_shape_for(const Shape& input_shape) const;

  Kind kind_;
  Size2D pool_size_, strides_;
  std::string padding_, data_format_;
};

class MaxPooling2DImpl : public Pooling2DImpl {
 public:
  explicit MaxPooling2DImpl(Size2D pool_size = 2, MaxPooling2DOptions o = {})
      : Pooling2DImpl(Kind::kMax, pool_size, std::move(o)) {}
  static std::shared_ptr<MaxPooling2DImpl> from_config(const json& config) {
    auto [pool_size, o] = parse_config(config, "MaxPooling2D");
    return std::make_shared<MaxPooling2DImpl>(pool_size, std::move(o));
  }
};

class AveragePooling2DImpl : public Pooling2DImpl {
 public:
  explicit AveragePooling2DImpl(Size2D pool_size = 2, AveragePooling2DOptions o = {})
      : Pooling2DImpl(Kind::kAverage, pool_size, std::move(o)) {}
  static std::shared_ptr<AveragePooling2DImpl> from_config(const json& config) {
    auto [pool_size, o] = parse_config(config, "AveragePooling2D");
    return std::make_shared<AveragePooling2DImpl>(pool_size, std::move(o));
  }
};

class MaxPooling2D : public LayerHolder<MaxPooling2DImpl> {
 public:
  MaxPooling2D(Size2D pool_size = 2, MaxPooling2DOptions o = {})
      : LayerHolder(std::make_shared<MaxPooling2DImpl>(pool_size, std::move(o))) {}
  explicit MaxPooling2D(std::shared_ptr<MaxPooling2DImpl> p) : LayerHolder(std::move(p)) {}
};

class AveragePooling2D : public LayerHolder<AveragePooling2DImpl> {
 public:
  AveragePooling2D(Size2D pool_size = 2, AveragePooling2DOptions o = {})
      : LayerHolder(std::make_shared<AveragePooling2DImpl>(pool_size, std::move(o))) {}
  explicit AveragePooling2D(std::shared_ptr<AveragePooling2DImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
