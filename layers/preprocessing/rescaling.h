// layers/preprocessing/rescaling.h — Rescaling: y = x * scale + offset.
//
//   KerasTensor x = Input({224, 224, 3});
//   KerasTensor y = Rescaling(1.0 / 127.5, {.offset = -1.0})(x);   // [0, 255] -> [-1, 1]
//   Rescaling({0.5, 0.25, 2.0})                                     // one scale per channel
//
// keras.layers.Rescaling (tf.keras 2: keras.layers.experimental.preprocessing.Rescaling,
// the same class name in configs). `scale` and `offset` are numbers or arrays
// (layers/preprocessing/array_arg.h), cast to float32 and broadcast against the
// input, aligned on its last axes. As in Keras, when image_data_format() is
// "channels_first" an array `scale` of rank < 3 is padded with trailing axes
// of size 1 to rank 3, so a per-channel scale meets axis -3; `offset` is not.
// The output has the input's shape: a scale or offset that would broadcast it
// to another shape is a ValueError naming the layer and both shapes.
// No weights; masks pass through. The gradient with respect to the input is g * scale.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/base/layer.h"
#include "layers/preprocessing/array_arg.h"

namespace minidl {

struct RescalingOptions {
  ArrayArg offset = 0.0;
  MINIDL_COMMON_LAYER_OPTIONS;
};

class RescalingImpl : public Layer {
 public:
  // ValueError naming the layer when scale or offset is None.
  explicit RescalingImpl(ArrayArg scale, RescalingOptions o = {});
  std::string class_name() const override { return "Rescaling"; }

  // The input shape. ValueError when scale or offset would change it.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  json get_config() const override;  // {"scale": ..., "offset": ...} in the form they were given
  // Keras 2 and 3 configs; ValueError for an unknown key or a value that is not a number or array.
  static std::shared_ptr<RescalingImpl> from_config(const json& config);

  const ArrayArg& scale() const { return scale_; }
  const ArrayArg& offset() const { return offset_; }

 protected:
  void check_input(const std::vector<Shape>& input_shapes) const override;
  void build(const std::vector<Shape>& input_shapes) override;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  // The shape scale takes under the current image_data_format (see above).
  Shape effective_scale_shape() const;
  void check_shape(const Shape& x) const;

  ArrayArg scale_;
  ArrayArg offset_;
  // The float32 constants, made at build (undefined for a scalar, which takes the scalar path).
  Variable scale_t_;
  Variable offset_t_;
};

class Rescaling : public LayerHolder<RescalingImpl> {
 public:
  explicit Rescaling(ArrayArg scale, RescalingOptions o = {})
      : LayerHolder(std::make_shared<RescalingImpl>(std::move(scale), std::move(o))) {}
  explicit Rescaling(std::shared_ptr<RescalingImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
