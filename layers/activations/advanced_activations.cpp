// layers/activations/advanced_activations.cpp — ELU and ThresholdedReLU (PReLU is in layers/activations/prelu.cpp).
#include "layers/activations/advanced_activations.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <utility>

#include "autograd/functions.h"
#include "layers/activations/activation_config.h"
#include "ops/map.h"

namespace minidl {

// ---------------------------------------------------------------------------
// ELU

ELUImpl::ELUImpl(ELUOptions o) : FloatArgumentLayer(common_options(o), "elu", "alpha", o.alpha) {
  if (!std::isfinite(value_)) fail("Alpha of an ELU layer must be a finite float. Received: {}", o.alpha);
}

VariableList ELUImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  return {autograd::elu(single_input(inputs), value_)};
}

std::shared_ptr<ELUImpl> ELUImpl::from_config(const json& c) {
  return detail::layer_from_config<ELUOptions>(c, "ELU", {"alpha"}, [&c](const ConfigReader& r, ELUOptions o) {
    o.alpha = detail::float_argument(r, c, "alpha", 1.0,
                                     "Alpha of an ELU layer cannot be None, requires a float. Got None");
    return std::make_shared<ELUImpl>(std::move(o));
  });
}

// ---------------------------------------------------------------------------
// ThresholdedReLU

ThresholdedReLUImpl::ThresholdedReLUImpl(ThresholdedReLUOptions o)
    : FloatArgumentLayer(common_options(o), "thresholded_re_lu", "theta", o.theta) {
  if (!(o.theta >= 0) || !std::isfinite(value_))
    fail("The theta value of a Thresholded ReLU layer should be >=0, got {}", o.theta);
}

VariableList ThresholdedReLUImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const float t = value_;
  const Tensor& xv = x.value();
  Tensor y = ops::map_elements(xv, [t](float v) { return v > t ? v : 0.f; });
  return {make_result(std::move(y), {x}, "ThresholdedReLU", [xv, t](const Tensor& g, const std::vector<bool>&) {
    return Grads{ops::map_elements(xv, g, [t](float xi, float gi) { return xi > t ? gi : 0.f; })};
  })};
}

std::shared_ptr<ThresholdedReLUImpl> ThresholdedReLUImpl::from_config(const json& c) {
  return detail::layer_from_config<ThresholdedReLUOptions>(
      c, "ThresholdedReLU", {"theta"}, [&c](const ConfigReader& r, ThresholdedReLUOptions o) {
        o.theta = detail::float_argument(
            r, c, "theta", 1.0, "Theta of a Thresholded ReLU layer cannot be None, requires a float. Got None");
        return std::make_shared<ThresholdedReLUImpl>(std::move(o));
      });
}

MINIDL_REGISTER_LAYER("ELU", [](const json& c) -> LayerPtr { return ELUImpl::from_config(c); });
MINIDL_REGISTER_LAYER("ThresholdedReLU", [](const json& c) -> LayerPtr { return ThresholdedReLUImpl::from_config(c); });

}  // namespace minidl
