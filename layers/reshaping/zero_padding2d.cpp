// layers/reshaping/zero_padding2d.cpp — ZeroPadding2D: ops::zero_pad2d forward, ops::crop2d backward.
#include "layers/reshaping/zero_padding2d.h"

#include "layers/base/config_utils.h"
#include "layers/base/registry.h"
#include "ops/spatial.h"

namespace minidl {

ZeroPadding2DImpl::ZeroPadding2DImpl(Padding2D padding, ZeroPadding2DOptions o)
    : ImageReshapingLayer(common_options(o), "zero_padding2d"), padding_(padding) {
  const Padding2D& p = padding_;
  if (p.top < 0 || p.bottom < 0 || p.left < 0 || p.right < 0)
    fail("`padding` values must be >= 0, received (({}, {}), ({}, {}))", p.top, p.bottom, p.left, p.right);
  init_data_format(o.data_format);
}

std::vector<Shape> ZeroPadding2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const int64_t added[2] = {padding_.top + padding_.bottom, padding_.left + padding_.right};
  return {resized_shape(single_shape(input_shapes), [&](int i, int64_t n) { return n + added[i]; })};
}

VariableList ZeroPadding2DImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Padding2D p = padding_;
  return apply_to_images(
      inputs, "ZeroPadding2D", [&](const Tensor& x) { return ops::zero_pad2d(x, p.top, p.bottom, p.left, p.right); },
      [p](const Tensor& g, const ImageBlock&) { return ops::crop2d(g, p.top, p.bottom, p.left, p.right); });
}

json ZeroPadding2DImpl::get_config() const {
  json c = image_config();
  c["padding"] = padding_.to_json();
  return c;
}

std::shared_ptr<ZeroPadding2DImpl> ZeroPadding2DImpl::from_config(const json& c) {
  ConfigReader r(c, "ZeroPadding2D");
  r.check_keys({"padding", "data_format"});
  auto o = image_options_from_config<ZeroPadding2DOptions>(r);
  return std::make_shared<ZeroPadding2DImpl>(padding2d_from_json(c, "padding", 1, "ZeroPadding2D"), std::move(o));
}

MINIDL_REGISTER_LAYER("ZeroPadding2D", [](const json& c) -> LayerPtr { return ZeroPadding2DImpl::from_config(c); });

}  // namespace minidl
