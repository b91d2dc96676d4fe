// layers/activations/advanced_activations.cpp — ELU and ThresholdedReLU (PReLU is in layers/activations/prelu.cpp).
#include "layers/activations/advanced_activations.h"

#include <cmath>
#include <utility>

#include "autograd/functions.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"
#include "ops/map.h"

namespace minidl {

namespace {

// Keras stores these arguments as float32 and writes them back widened to double.
json float32_json(float v) { return static_cast<double>(v); }

std::vector<Shape> same_shape(const Layer& layer, const std::vector<Shape>& shapes) {
  if (shapes.size() != 1)
    raise<ValueError>("{} '{}': expects a single input, received {} inputs", layer.class_name(), layer.name(),
                      shapes.size());
  return shapes;
}

}  // namespace

// ---------------------------------------------------------------------------
// ELU

ELUImpl::ELUImpl(ELUOptions o) : Layer(common_options(o), "elu"), alpha_(static_cast<float>(o.alpha)) {
  if (!std::isfinite(alpha_)) fail("Alpha of an ELU layer must be a finite float. Received: {}", o.alpha);
  set_supports_masking(true);
}

std::vector<Shape> ELUImpl::compute_output_shape(const std::vector<Shape>& s) { return same_shape(*this, s); }

VariableList ELUImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  return {autograd::elu(single_input(inputs), alpha_)};
}

json ELUImpl::get_config() const {
  json c = base_config();
  c["alpha"] = float32_json(alpha_);
  return c;
}

std::shared_ptr<ELUImpl> ELUImpl::from_config(const json& c) {
  ConfigReader r(c, "ELU");
  r.check_keys({"alpha"});
  const LayerOptions lo = common_options_from_config(r);
  ELUOptions o;
  detail::set_common_options(o, lo);
  if (c.contains("alpha") && c.at("alpha").is_null())
    raise<ValueError>("Alpha of an ELU layer cannot be None, requires a float. Got None");
  o.alpha = r.number("alpha", 1.0);
  return detail::with_activity_regularizer(std::make_shared<ELUImpl>(std::move(o)), lo);
}

// ---------------------------------------------------------------------------
// ThresholdedReLU

ThresholdedReLUImpl::ThresholdedReLUImpl(ThresholdedReLUOptions o)
    : Layer(common_options(o), "thresholded_re_lu"), theta_(static_cast<float>(o.theta)) {
  if (!(o.theta >= 0) || !std::isfinite(theta_))
    fail("The theta value of a Thresholded ReLU layer should be >=0, got {}", o.theta);
  set_supports_masking(true);
}

std::vector<Shape> ThresholdedReLUImpl::compute_output_shape(const std::vector<Shape>& s) {
  return same_shape(*this, s);
}

VariableList ThresholdedReLUImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const float t = theta_;
  const Tensor& xv = x.value();
  Tensor y = ops::map_elements(xv, [t](float v) { return v > t ? v : 0.f; });
  return {make_result(std::move(y), {x}, "ThresholdedReLU", [xv, t](const Tensor& g, const std::vector<bool>&) {
    return Grads{ops::map_elements(xv, g, [t](float xi, float gi) { return xi > t ? gi : 0.f; })};
  })};
}

json ThresholdedReLUImpl::get_config() const {
  json c = base_config();
  c["theta"] = float32_json(theta_);
  return c;
}

std::shared_ptr<ThresholdedReLUImpl> ThresholdedReLUImpl::from_config(const json& c) {
  ConfigReader r(c, "ThresholdedReLU");
  r.check_keys({"theta"});
  const LayerOptions lo = common_options_from_config(r);
  ThresholdedReLUOptions o;
  detail::set_common_options(o, lo);
  if (c.contains("theta") && c.at("theta").is_null())
    raise<ValueError>("Theta of a Thresholded ReLU layer cannot be None, requires a float. Got None");
  o.theta = r.number("theta", 1.0);
  return detail::with_activity_regularizer(std::make_shared<ThresholdedReLUImpl>(std::move(o)), lo);
}

MINIDL_REGISTER_LAYER("ELU", [](const json& c) -> LayerPtr { return ELUImpl::from_config(c); });
MINIDL_REGISTER_LAYER("ThresholdedReLU", [](const json& c) -> LayerPtr { return ThresholdedReLUImpl::from_config(c); });

}  // namespace minidl
