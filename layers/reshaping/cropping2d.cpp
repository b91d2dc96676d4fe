// layers/reshaping/cropping2d.cpp — Cropping2D: ops::crop2d forward, ops::zero_pad2d backward.
#include "layers/reshaping/cropping2d.h"

#include "layers/base/config_utils.h"
#include "layers/base/registry.h"
#include "ops/spatial.h"

namespace minidl {

Cropping2DImpl::Cropping2DImpl(Padding2D cropping, Cropping2DOptions o)
    : ImageReshapingLayer(common_options(o), "cropping2d"), cropping_(cropping) {
  const Padding2D& p = cropping_;
  if (p.top < 0 || p.bottom < 0 || p.left < 0 || p.right < 0)
    fail("`cropping` values must be >= 0, received (({}, {}), ({}, {}))", p.top, p.bottom, p.left, p.right);
  init_data_format(o.data_format);
}

std::vector<Shape> Cropping2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  const Padding2D& p = cropping_;
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
  const Padding2D p = cropping_;
  return apply_to_images(
      inputs, "Cropping2D", [&](const Tensor& x) { return ops::crop2d(x, p.top, p.bottom, p.left, p.right); },
      [p](const Tensor& g, const ImageBlock&) { return ops::zero_pad2d(g, p.top, p.bottom, p.left, p.right); });
}

json Cropping2DImpl::get_config() const {
  json c = image_config();
  c["cropping"] = cropping_.to_json();
  return c;
}

std::shared_ptr<Cropping2DImpl> Cropping2DImpl::from_config(const json& c) {
  ConfigReader r(c, "Cropping2D");
  r.check_keys({"cropping", "data_format"});
  auto o = image_options_from_config<Cropping2DOptions>(r);
  return std::make_shared<Cropping2DImpl>(padding2d_from_json(c, "cropping", 0, "Cropping2D"), std::move(o));
}

MINIDL_REGISTER_LAYER("Cropping2D", [](const json& c) -> LayerPtr { return Cropping2DImpl::from_config(c); });

}  // namespace minidl
