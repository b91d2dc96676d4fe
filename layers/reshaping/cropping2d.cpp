#include "layers/reshaping/cropping2d.h"

#include "layers/base/config_utils.h"
#include "layers/base/registry.h"
#include "layers/reshaping/spatial_kernels.h"

namespace minidl {

Cropping2DImpl::Cropping2DImpl(Padding2D cropping, Cropping2DOptions o)
    : Layer(common_options(o), "cropping2d"), cropping_(cropping) {
  const Padding2D& p = cropping_;
  if (p.top < 0 || p.bottom < 0 || p.left < 0 || p.right < 0)
    fail("`cropping` values must be >= 0, received (({}, {}), ({}, {}))", p.top, p.bottom, p.left, p.right);
  data_format_ = normalize_data_format(o.data_format, fmt::format("Cropping2D '{}'", name()));
}

std::vector<Shape> Cropping2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  const bool cf = data_format_ == "channels_first";
  if (s.size() != 4)
    fail("expected input of rank 4 ({}), received shape {}",
         cf ? "batch, channels, rows, cols" : "batch, rows, cols, channels", shape_str(s));
  const int r = cf ? 2 : 1;
  const int64_t crop[2] = {cropping_.top + cropping_.bottom, cropping_.left + cropping_.right};
  Shape out = s;
  for (int i = 0; i < 2; ++i) {
    if (s[r + i] == kNone) continue;
    if (crop[i] >= s[r + i])
      fail("Values in `cropping` argument should be smaller than the corresponding spatial dimension of the "
           "input. Received: input_shape={}, cropping=(({}, {}), ({}, {}))",
           shape_str(s), cropping_.top, cropping_.bottom, cropping_.left, cropping_.right);
    out[r + i] = s[r + i] - crop[i];
  }
  return {out};
}

VariableList Cropping2DImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const Shape out_shape = compute_output_shape({x.shape()})[0];
  const bool cf = data_format_ == "channels_first";
  const ImageBlock b = image_block(x.shape(), cf), ob = image_block(out_shape, cf);
  const Padding2D p = cropping_;
  Tensor y = detail::crop2d(x.value().reshape({b.B, b.H, b.W, b.C}), p.top, p.bottom, p.left, p.right);
  const Shape x_shape = x.shape();
  return {make_result(y.reshape(out_shape), {x}, "Cropping2D",
                      [p, ob, x_shape](const Tensor& dy, const std::vector<bool>&) {
                        Tensor g = dy.reshape({ob.B, ob.H, ob.W, ob.C});
                        return std::vector<Tensor>{
                            detail::zero_pad2d(g, p.top, p.bottom, p.left, p.right).reshape(x_shape)};
                      })};
}

json Cropping2DImpl::get_config() const {
  json c = base_config();
  c["cropping"] = cropping_.to_json();
  c["data_format"] = data_format_;
  return c;
}

std::shared_ptr<Cropping2DImpl> Cropping2DImpl::from_config(const json& c) {
  ConfigReader r(c, "Cropping2D");
  r.check_keys({"cropping", "data_format"});
  Cropping2DOptions o;
  detail::copy_common_options(o, common_options_from_config(r));
  o.data_format = r.str("data_format", "");
  return std::make_shared<Cropping2DImpl>(padding2d_from_json(c, "cropping", 0, "Cropping2D"), std::move(o));
}

MINIDL_REGISTER_LAYER("Cropping2D", [](const json& c) -> LayerPtr { return Cropping2DImpl::from_config(c); });

}  // namespace minidl
