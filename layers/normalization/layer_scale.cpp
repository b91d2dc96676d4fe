// layers/normalization/layer_scale.cpp — LayerScale: shape rule, weight, config and registration.
#include "layers/normalization/layer_scale.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "autograd/functions.h"
#include "layers/base/config_utils.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"
#include "layers/parts/initializers.h"

namespace minidl {

LayerScaleImpl::LayerScaleImpl(double init_values, int64_t projection_dim, LayerScaleOptions o)
    : Layer(common_options(o), "layer_scale"), init_values_(init_values), projection_dim_(projection_dim) {
  if (projection_dim_ < 1) fail("`projection_dim` must be a positive integer, received {}", projection_dim_);
  if (!std::isfinite(init_values_)) fail("`init_values` must be a finite number, received {}", init_values_);
}

Shape LayerScaleImpl::output_shape(const Shape& input) const {
  Shape s = input;
  if (s.empty()) fail("expected input of rank >= 1, received shape {}", shape_str(input));
  int64_t& last = s.back();
  if (last == kNone || last == 1) {
    if (projection_dim_ != 1) last = projection_dim_;
  } else if (projection_dim_ != 1 && last != projection_dim_) {
    fail("the last axis of the input ({}) does not broadcast against gamma of shape ({},); received input of shape {}",
         last, projection_dim_, shape_str(input));
  }
  return s;
}

std::vector<Shape> LayerScaleImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  return {output_shape(single_shape(input_shapes))};
}

void LayerScaleImpl::build(const std::vector<Shape>& input_shapes) {
  output_shape(single_shape(input_shapes));
  gamma_ = add_weight("gamma", {projection_dim_}, std::make_shared<Constant>(init_values_));
  if (!trainable()) set_trainable(false);
}

VariableList LayerScaleImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  output_shape(x.shape());
  return {autograd::mul(x, gamma_)};  // [..., C] * [C]
}

json LayerScaleImpl::get_config() const {
  json c = base_config();
  c["init_values"] = init_values_;
  c["projection_dim"] = projection_dim_;
  return c;
}

std::shared_ptr<LayerScaleImpl> LayerScaleImpl::from_config(const json& c) {
  ConfigReader r(c, "LayerScale");
  r.check_keys({"init_values", "projection_dim"});
  LayerScaleOptions o;
  const LayerOptions common = common_options_from_config(r);
  detail::set_common_options(o, common);
  auto layer = std::make_shared<LayerScaleImpl>(r.number("init_values"), r.integer("projection_dim"), std::move(o));
  return detail::with_activity_regularizer(std::move(layer), common);
}

MINIDL_REGISTER_LAYER("LayerScale", [](const json& c) -> LayerPtr { return LayerScaleImpl::from_config(c); });

}  // namespace minidl
