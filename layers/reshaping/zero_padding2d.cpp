#include "layers/reshaping/zero_padding2d.h"

#include "layers/base/config_utils.h"
#include "layers/base/registry.h"
#include "layers/reshaping/spatial_kernels.h"

namespace minidl {

ZeroPadding2DImpl::ZeroPadding2DImpl(Padding2D padding, ZeroPadding2DOptions o)
    : Layer(common_options(o), "zero_padding2d"), padding_(padding) {
  const Padding2D& p = padding_;
  if (p.top < 0 || p.bottom < 0 || p.left < 0 || p.right < 0)
    fail("`padding` values must be >= 0, received (({}, {}), ({}, {}))", p.top, p.bottom, p.left, p.right);
  data_format_ = normalize_data_format(o.data_format, fmt::format("ZeroPadding2D '{}'", name()));
}

std::vector<Shape> ZeroPadding2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  const bool cf = data_format_ == "channels_first";
  if (s.size() != 4)
    fail("expected input of rank 4 ({}), received shape {}",
         cf ? "batch, channels, rows, cols" : "batch, rows, cols, channels", shape_str(s));
  const int r = cf ? 2 : 1;
  Shape out = s;
  if (s[r] != kNone) out[r] = s[r] + padding_.top + padding_.bottom;
  if (s[r + 1] != kNone) out[r + 1] = s[r + 1] + padding_.left + padding_.right;
  return {out};
}

VariableList ZeroPadding2DImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const Shape out_shape = compute_output_shape({x.shape()})[0];
  const bool cf = data_format_ == "channels_first";
  const ImageBlock b = image_block(x.shape(), cf), ob = image_block(out_shape, cf);
  const Padding2D p = padding_;
  Tensor y = detail::zero_pad2d(x.value().reshape({b.B, b.H, b.W, b.C}), p.top, p.bottom, p.left, p.right);
  const Shape x_shape = x.shape();
  return {make_result(y.reshape(out_shape), {x}, "ZeroPadding2D",
                      [p, ob, x_shape](const Tensor& dy, const std::vector<bool>&) {
                        Tensor g = dy.reshape({ob.B, ob.H, ob.W, ob.C});
                        return std::vector<Tensor>{
                            detail::crop2d(g, p.top, p.bottom, p.left, p.right).reshape(x_shape)};
                      })};
}

json ZeroPadding2DImpl::get_config() const {
  json c = base_config();
  c["padding"] = padding_.to_json();
  c["data_format"] = data_format_;
  return c;
}

std::shared_ptr<ZeroPadding2DImpl> ZeroPadding2DImpl::from_config(const json& c) {
  ConfigReader r(c, "ZeroPadding2D");
  r.check_keys({"padding", "data_format"});
  ZeroPadding2DOptions o;
  detail::copy_common_options(o, common_options_from_config(r));
  o.data_format = r.str("data_format", "");
  return std::make_shared<ZeroPadding2DImpl>(padding2d_from_json(c, "padding", 1, "ZeroPadding2D"), std::move(o));
}

MINIDL_REGISTER_LAYER("ZeroPadding2D", [](const json& c) -> LayerPtr { return ZeroPadding2DImpl::from_config(c); });

}  // namespace minidl
