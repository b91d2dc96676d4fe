#include "layers/reshaping/upsampling2d.h"

#include "layers/base/config_utils.h"
#include "layers/parts/part_config.h"
#include "layers/base/registry.h"
#include "layers/reshaping/spatial_kernels.h"

namespace minidl {

UpSampling2DImpl::UpSampling2DImpl(Size2D size, UpSampling2DOptions o)
    : Layer(common_options(o), "up_sampling2d"), size_(size), interpolation_(detail::to_lower(o.interpolation)) {
  const std::string owner = fmt::format("UpSampling2D '{}'", name());
  check_positive(size_, "size", owner);
  data_format_ = normalize_data_format(o.data_format, owner);
  if (interpolation_ != "nearest" && interpolation_ != "bilinear")
    fail("`interpolation` argument should be one of \"nearest\" or \"bilinear\". Received: \"{}\"",
         o.interpolation);
}

std::vector<Shape> UpSampling2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  const bool cf = data_format_ == "channels_first";
  if (s.size() != 4)
    fail("expected input of rank 4 ({}), received shape {}",
         cf ? "batch, channels, rows, cols" : "batch, rows, cols, channels", shape_str(s));
  const int r = cf ? 2 : 1;
  Shape out = s;
  if (s[r] != kNone) out[r] = s[r] * size_.rows;
  if (s[r + 1] != kNone) out[r + 1] = s[r + 1] * size_.cols;
  return {out};
}

VariableList UpSampling2DImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const Shape out_shape = compute_output_shape({x.shape()})[0];
  const bool cf = data_format_ == "channels_first";
  const ImageBlock b = image_block(x.shape(), cf), ob = image_block(out_shape, cf);
  const Tensor xb = x.value().reshape({b.B, b.H, b.W, b.C});
  const Size2D s = size_;
  const Shape x_shape = x.shape();
  if (interpolation_ == "nearest") {
    Tensor y = detail::upsample_nearest2d(xb, s.rows, s.cols);
    return {make_result(y.reshape(out_shape), {x}, "UpSampling2D",
                        [s, ob, x_shape](const Tensor& dy, const std::vector<bool>&) {
                          Tensor g = dy.reshape({ob.B, ob.H, ob.W, ob.C});
                          return std::vector<Tensor>{
                              detail::upsample_nearest2d_backward(g, s.rows, s.cols).reshape(x_shape)};
                        })};
  }
  Tensor y = detail::resize_bilinear2d(xb, ob.H, ob.W);
  return {make_result(y.reshape(out_shape), {x}, "UpSampling2D",
                      [b, ob, x_shape](const Tensor& dy, const std::vector<bool>&) {
                        Tensor g = dy.reshape({ob.B, ob.H, ob.W, ob.C});
                        return std::vector<Tensor>{detail::resize_bilinear2d_backward(g, b.H, b.W).reshape(x_shape)};
                      })};
}

json UpSampling2DImpl::get_config() const {
  json c = base_config();
  c["size"] = size_.to_json();
  c["data_format"] = data_format_;
  c["interpolation"] = interpolation_;
  return c;
}

std::shared_ptr<UpSampling2DImpl> UpSampling2DImpl::from_config(const json& c) {
  ConfigReader r(c, "UpSampling2D");
  r.check_keys({"size", "data_format", "interpolation"});
  UpSampling2DOptions o;
  detail::copy_common_options(o, common_options_from_config(r));
  o.data_format = r.str("data_format", "");
  o.interpolation = r.str("interpolation", "nearest");  // absent before Keras 2.2.3
  return std::make_shared<UpSampling2DImpl>(size2d_from_json(c, "size", 2, "UpSampling2D"), std::move(o));
}

MINIDL_REGISTER_LAYER("UpSampling2D", [](const json& c) -> LayerPtr { return UpSampling2DImpl::from_config(c); });

}  // namespace minidl
