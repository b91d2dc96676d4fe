// layers/reshaping/upsampling2d.cpp — UpSampling2D: nearest or bilinear upsampling from ops/spatial.h.
#include "layers/reshaping/upsampling2d.h"

#include <nlohmann/json.hpp>

#include "layers/base/config_utils.h"
#include "layers/base/registry.h"
#include "layers/parts/part_config.h"
#include "ops/spatial.h"

namespace minidl {

UpSampling2DImpl::UpSampling2DImpl(Size2D size, UpSampling2DOptions o)
    : ImageReshapingLayer(common_options(o), "up_sampling2d"),
      size_(size),
      interpolation_(detail::to_lower(o.interpolation)) {
  check_positive(size_, "size", fmt::format("UpSampling2D '{}'", name()));
  init_data_format(o.data_format);
  if (interpolation_ != "nearest" && interpolation_ != "bilinear")
    fail("`interpolation` argument should be one of \"nearest\" or \"bilinear\". Received: \"{}\"",
         o.interpolation);
}

std::vector<Shape> UpSampling2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const int64_t factor[2] = {size_.rows, size_.cols};
  return {resized_shape(single_shape(input_shapes), [&](int i, int64_t n) { return n * factor[i]; })};
}

VariableList UpSampling2DImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Size2D s = size_;
  if (interpolation_ == "nearest")
    return apply_to_images(
        inputs, "UpSampling2D", [&](const Tensor& x) { return ops::upsample_nearest2d(x, s.rows, s.cols); },
        [s](const Tensor& g, const ImageBlock&) { return ops::upsample_nearest2d_backward(g, s.rows, s.cols); });
  return apply_to_images(
      inputs, "UpSampling2D",
      [&](const Tensor& x) { return ops::resize_bilinear2d(x, x.dim(1) * s.rows, x.dim(2) * s.cols); },
      [](const Tensor& g, const ImageBlock& b) { return ops::resize_bilinear2d_backward(g, b.H, b.W); });
}

json UpSampling2DImpl::get_config() const {
  json c = image_config();
  c["size"] = size_.to_json();
  c["interpolation"] = interpolation_;
  return c;
}

std::shared_ptr<UpSampling2DImpl> UpSampling2DImpl::from_config(const json& c) {
  ConfigReader r(c, "UpSampling2D");
  r.check_keys({"size", "data_format", "interpolation"});
  auto o = image_options_from_config<UpSampling2DOptions>(r);
  o.interpolation = r.str("interpolation", "nearest");  // absent before Keras 2.2.3
  return std::make_shared<UpSampling2DImpl>(size2d_from_json(c, "size", 2, "UpSampling2D"), std::move(o));
}

MINIDL_REGISTER_LAYER("UpSampling2D", [](const json& c) -> LayerPtr { return UpSampling2DImpl::from_config(c); });

}  // namespace minidl
