// layers/reshaping/zero_padding2d.h — ZeroPadding2D: rows and columns of zeros around each image.
//
//   ZeroPadding2D()                       // one row/col of zeros on every side
//   ZeroPadding2D({{1, 0}, {2, 2}})      // top 1, bottom 0, left 2, right 2
//   KerasTensor y = ZeroPadding2D(2)(Input({28, 28, 3}));   // (None, 32, 32, 3)
//
// Keras arguments: padding (an int, (rows, cols) or ((top, bottom), (left,
// right)); default 1, positional as in Keras) and data_format ("" = keras.json
// default). Input must be 4-D. Negative amounts are a ValueError naming the layer.
// The backward pass crops the gradient back (cropping is padding's adjoint).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/reshaping/image_reshaping_layer.h"

namespace minidl {

using ZeroPadding2DOptions = Padding2DLayerOptions;

class ZeroPadding2DImpl : public Padding2DLayer {
 public:
  // ValueError naming the layer for a negative amount or an unknown data_format.
  explicit ZeroPadding2DImpl(Padding2D padding = 1, ZeroPadding2DOptions o = {});

  std::string class_name() const override { return "ZeroPadding2D"; }
  const Padding2D& padding() const { return amounts(); }

  // Config key "padding" (see Padding2DLayer).
  static std::shared_ptr<ZeroPadding2DImpl> from_config(const json& config);
  // ValueError unless the input is 4-D.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
};

class ZeroPadding2D : public LayerHolder<ZeroPadding2DImpl> {
 public:
  ZeroPadding2D(Padding2D padding = 1, ZeroPadding2DOptions o = {})
      : LayerHolder(std::make_shared<ZeroPadding2DImpl>(padding, std::move(o))) {}
  explicit ZeroPadding2D(std::shared_ptr<ZeroPadding2DImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
