// layers/reshaping/zero_padding2d.cpp — ZeroPadding2D: ops::zero_pad2d forward, ops::crop2d backward.
#include "layers/reshaping/zero_padding2d.h"

#include <nlohmann/json.hpp>

#include "layers/base/config_utils.h"
#include "layers/base/registry.h"
#include "ops/spatial.h"

namespace minidl {

ZeroPadding2DImpl::ZeroPadding2DImpl(Padding2D padding, ZeroPadding2DOptions o)
    : Padding2DLayer(padding, "padding", o, "zero_padding2d") {
  init(o.data_format);
}

std::vector<Shape> ZeroPadding2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Padding2D& p = amounts();
  const int64_t added[2] = {p.top + p.bottom, p.left + p.right};
  return {resized_shape(single_shape(input_shapes), [&](int i, int64_t n) { return n + added[i]; })};
}

VariableList ZeroPadding2DImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Padding2D p = amounts();
  return apply_to_images(
      inputs, "ZeroPadding2D", [&](const Tensor& x) { return ops::zero_pad2d(x, p.top, p.bottom, p.left, p.right); },
      [p](const Tensor& g, const ImageBlock&) { return ops::crop2d(g, p.top, p.bottom, p.left, p.right); });
}

std::shared_ptr<ZeroPadding2DImpl> ZeroPadding2DImpl::from_config(const json& c) {
  return from_config_with<ZeroPadding2DImpl>(c, "ZeroPadding2D", "padding", 1);
}

MINIDL_REGISTER_LAYER("ZeroPadding2D", [](const json& c) -> LayerPtr { return ZeroPadding2DImpl::from_config(c); });

}  // namespace minidl
