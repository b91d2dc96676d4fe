// layers/reshaping/cropping2d.cpp — Cropping2D: ops::crop2d forward, ops::zero_pad2d backward.
#include "layers/reshaping/cropping2d.h"

#include <nlohmann/json.hpp>

#include "layers/base/config_utils.h"
#include "layers/base/registry.h"
#include "ops/spatial.h"

namespace minidl {

Cropping2DImpl::Cropping2DImpl(Padding2D cropping, Cropping2DOptions o)
    : Padding2DLayer(cropping, "cropping", o, "cropping2d") {
  init(o.data_format);
}

std::vector<Shape> Cropping2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  const Padding2D& p = amounts();
  const int64_t removed[2] = {p.top + p.bottom, p.left + p.right};
  return {resized_shape(s, [&](int i, int64_t n) {
    if (removed[i] >= n)
      fail("Values in `cropping` argument should be smaller than the corresponding spatial dimension of the "
           "input. Received: input_shape={}, cropping=(({}, {}), ({}, {}))",
           shape_str(s), p.top, p.bottom, p.left, p.right);
    return n - removed[i];
  })};
}

VariableList Cropping2DImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Padding2D p = amounts();
  return apply_to_images(
      inputs, "Cropping2D", [&](const Tensor& x) { return ops::crop2d(x, p.top, p.bottom, p.left, p.right); },
      [p](const Tensor& g, const ImageBlock&) { return ops::zero_pad2d(g, p.top, p.bottom, p.left, p.right); });
}

std::shared_ptr<Cropping2DImpl> Cropping2DImpl::from_config(const json& c) {
  return from_config_with<Cropping2DImpl>(c, "Cropping2D", "cropping", 0);
}

MINIDL_REGISTER_LAYER("Cropping2D", [](const json& c) -> LayerPtr { return Cropping2DImpl::from_config(c); });

}  // namespace minidl
