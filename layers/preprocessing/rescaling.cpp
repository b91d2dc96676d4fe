// layers/preprocessing/rescaling.cpp — Rescaling: the shape checks, x * scale + offset, and its config.
#include "layers/preprocessing/rescaling.h"

#include <nlohmann/json.hpp>

#include "autograd/functions.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"
#include "layers/reshaping/spatial_utils.h"

namespace minidl {

RescalingImpl::RescalingImpl(ArrayArg scale, RescalingOptions o)
    : Layer(common_options(o), "rescaling"), scale_(std::move(scale)), offset_(std::move(o.offset)) {
  if (scale_.is_none()) fail("`scale` must be a number or an array of numbers, received None");
  if (offset_.is_none()) fail("`offset` must be a number or an array of numbers, received None");
  set_supports_masking(true);
}

Shape RescalingImpl::effective_scale_shape() const {
  Shape s = scale_.shape();
  // Keras reshapes a non-scalar scale to rank 3 under channels_first: (C,) -> (C, 1, 1).
  if (!s.empty() && s.size() < 3 && image_data_format() == "channels_first") s.resize(3, 1);
  return s;
}

void RescalingImpl::check_shape(const Shape& x) const {
  const Shape s = effective_scale_shape();
  if (!broadcasts_into(s, x))
    fail("`scale` of shape {} does not broadcast to the input shape {}; the output must keep the input's shape",
         shape_str(s), shape_str(x));
  if (!broadcasts_into(offset_.shape(), x))
    fail("`offset` of shape {} does not broadcast to the input shape {}; the output must keep the input's shape",
         shape_str(offset_.shape()), shape_str(x));
}

void RescalingImpl::check_input(const std::vector<Shape>& input_shapes) const { check_shape(single_shape(input_shapes)); }

std::vector<Shape> RescalingImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  check_shape(s);
  return {s};
}

void RescalingImpl::build(const std::vector<Shape>& input_shapes) {
  check_shape(single_shape(input_shapes));
  if (scale_.rank() > 0) scale_t_ = Variable(scale_.to_tensor(effective_scale_shape()));
  if (offset_.rank() > 0) offset_t_ = Variable(offset_.to_tensor());
}

VariableList RescalingImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const Shape& s = x.shape();
  // Shapes with a None axis were only checked in part when the layer was built.
  if ((scale_t_.defined() && !broadcasts_into(scale_t_.shape(), s)) ||
      (offset_t_.defined() && !broadcasts_into(offset_t_.shape(), s)))
    check_shape(s);
  // float32 arithmetic, as Keras casts scale and offset to the compute dtype: two roundings.
  Variable y = scale_t_.defined() ? autograd::mul(x, scale_t_)
                                  : autograd::mul_scalar(x, static_cast<float>(scale_.values()[0]));
  y = offset_t_.defined() ? autograd::add(y, offset_t_)
                          : autograd::add_scalar(y, static_cast<float>(offset_.values()[0]));
  return {y};
}

json RescalingImpl::get_config() const {
  json c = base_config();
  c["scale"] = scale_.to_json();
  c["offset"] = offset_.to_json();
  return c;
}

std::shared_ptr<RescalingImpl> RescalingImpl::from_config(const json& config) {
  const std::string owner = "Rescaling";
  return detail::layer_from_config<RescalingOptions>(config, owner, [&](const ConfigReader& r, RescalingOptions o) {
    r.check_keys({"scale", "offset"});
    if (!config.contains("scale")) raise<ValueError>("{}: config key 'scale' is missing", owner);
    const ArrayArg scale = ArrayArg::from_json(config.at("scale"), owner, "scale");
    if (config.contains("offset")) o.offset = ArrayArg::from_json(config.at("offset"), owner, "offset");
    return std::make_shared<RescalingImpl>(scale, std::move(o));
  });
}

MINIDL_REGISTER_LAYER("Rescaling", [](const json& c) -> LayerPtr { return RescalingImpl::from_config(c); });

}  // namespace minidl
