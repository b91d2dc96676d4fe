// layers/reshaping/cropping2d.h — Cropping2D: removes rows and columns at the image borders.
//
//   Cropping2D({{2, 2}, {4, 4}})                               // (None, 28, 28, 3) -> (None, 24, 20, 3)
//   KerasTensor y = Cropping2D(1)(Input({28, 28, 3}));         // (None, 26, 26, 3)
//
// Keras arguments: cropping (an int, (rows, cols) or ((top, bottom), (left,
// right)); default 0, positional as in Keras) and data_format ("" = keras.json
// default). Input must be 4-D and each known spatial size must exceed the total
// cropped from it (Keras 3's rule; ValueError naming the layer otherwise, as
// for negative amounts). The backward pass zero-pads the gradient back.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/reshaping/image_reshaping_layer.h"

namespace minidl {

using Cropping2DOptions = Padding2DLayerOptions;

class Cropping2DImpl : public Padding2DLayer {
 public:
  // ValueError naming the layer for a negative amount or an unknown data_format.
  explicit Cropping2DImpl(Padding2D cropping = 0, Cropping2DOptions o = {});

  std::string class_name() const override { return "Cropping2D"; }
  const Padding2D& cropping() const { return amounts(); }

  // Config key "cropping" (see Padding2DLayer).
  static std::shared_ptr<Cropping2DImpl> from_config(const json& config);
  // ValueError unless the input is 4-D and larger than the cropping.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
};

class Cropping2D : public LayerHolder<Cropping2DImpl> {
 public:
  Cropping2D(Padding2D cropping = 0, Cropping2DOptions o = {})
      : LayerHolder(std::make_shared<Cropping2DImpl>(cropping, std::move(o))) {}
  explicit Cropping2D(std::shared_ptr<Cropping2DImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
