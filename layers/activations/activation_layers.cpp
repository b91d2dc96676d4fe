// layers/activations/activation_layers.cpp — Activation, ReLU, LeakyReLU and Softmax layers.
#include "layers/activations/activation_layers.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "autograd/functions.h"
#include "layers/activations/activation_config.h"
#include "layers/base/json_text.h"
#include "ops/map.h"

namespace minidl {

using detail::float32_json;

// ---------------------------------------------------------------------------
// ElementwiseLayer

ElementwiseLayer::ElementwiseLayer(LayerOptions options, const std::string& default_name_prefix)
    : Layer(std::move(options), default_name_prefix) {
  set_supports_masking(true);
}

std::vector<Shape> ElementwiseLayer::compute_output_shape(const std::vector<Shape>& shapes) {
  if (shapes.size() != 1)
    raise<ValueError>("{} '{}': expects a single input, received {} inputs", class_name(), name(), shapes.size());
  return shapes;
}

FloatArgumentLayer::FloatArgumentLayer(LayerOptions options, const std::string& default_name_prefix, const char* key,
                                       double value)
    : ElementwiseLayer(std::move(options), default_name_prefix), value_(static_cast<float>(value)), key_(key) {}

json FloatArgumentLayer::get_config() const {
  json c = base_config();
  c[key_] = float32_json(value_);
  return c;
}

// ---------------------------------------------------------------------------
// Activation

ActivationLayerImpl::ActivationLayerImpl(ActivationArg activation, ActivationLayerOptions o)
    : ElementwiseLayer(common_options(o), "activation"),
      activation_(activation.has_value() ? activation.resolve() : get_activation(nullptr)) {}

VariableList ActivationLayerImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  return {(*activation_)(single_input(inputs))};
}

json ActivationLayerImpl::get_config() const {
  json c = base_config();
  c["activation"] = serialize_activation(activation_);
  return c;
}

std::shared_ptr<ActivationLayerImpl> ActivationLayerImpl::from_config(const json& c) {
  return detail::layer_from_config<ActivationLayerOptions>(
      c, "Activation", {"activation"}, [&c](const ConfigReader&, ActivationLayerOptions o) {
        auto act = get_activation(detail::config_part(c, "activation"));
        return std::make_shared<ActivationLayerImpl>(act, std::move(o));
      });
}

// ---------------------------------------------------------------------------
// ReLU

ReLUImpl::ReLUImpl(ReLUOptions o)
    : ElementwiseLayer(common_options(o), "re_lu"),
      negative_slope_(static_cast<float>(o.negative_slope)),
      threshold_(static_cast<float>(o.threshold)) {
  if (o.max_value) {
    if (!(*o.max_value >= 0) || std::isinf(*o.max_value))
      fail("max_value of a ReLU layer cannot be a negative value. Received: {}", *o.max_value);
    max_value_ = static_cast<float>(*o.max_value);
  }
  if (!(o.negative_slope >= 0) || std::isinf(o.negative_slope))
    fail("negative_slope of a ReLU layer cannot be a negative value. Received: {}", o.negative_slope);
  if (!(o.threshold >= 0) || std::isinf(o.threshold))
    fail("threshold of a ReLU layer cannot be a negative value. Received: {}", o.threshold);
}

VariableList ReLUImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  if (!max_value_ && negative_slope_ == 0.f && threshold_ == 0.f) return {autograd::relu(x)};
  const float hi = max_value_.value_or(std::numeric_limits<float>::infinity());
  const float slope = negative_slope_, t = threshold_;
  // relu6 and friends (no slope, no threshold) as a clamp: min/max compile to
  // vector instructions, where the general select below stays a branch per
  // element. Both keep NaN (max(NaN, 0) is NaN as std::max is written).
  Tensor y = slope == 0.f && t == 0.f
                 ? ops::map_elements(x.value(), [=](float v) { return std::min(std::max(v, 0.f), hi); })
                 : ops::map_elements(x.value(), [=](float v) { return v > t ? std::min(v, hi) : slope * (v - t); });
  return {
      make_result(std::move(y), {x}, "ReLU", [xv = x.value(), hi, slope, t](const Tensor& g, const std::vector<bool>&) {
        return Grads{ops::map_elements(xv, g, [=](float xi, float gi) {
          return xi > t ? (xi <= hi ? gi : 0.f) : slope * gi;
        })};
      })};
}

json ReLUImpl::get_config() const {
  json c = base_config();
  c["max_value"] = max_value_ ? float32_json(*max_value_) : json(nullptr);
  c["negative_slope"] = float32_json(negative_slope_);
  c["threshold"] = float32_json(threshold_);
  return c;
}

std::shared_ptr<ReLUImpl> ReLUImpl::from_config(const json& c) {
  const std::vector<std::string> keys = {"max_value", "negative_slope", "threshold"};
  return detail::layer_from_config<ReLUOptions>(c, "ReLU", keys, [&c](const ConfigReader& r, ReLUOptions o) {
    if (r.has("max_value")) o.max_value = r.number("max_value");
    o.negative_slope = detail::float_argument(
        r, c, "negative_slope", 0.0, "negative_slope of a ReLU layer cannot be a negative value. Received: None");
    o.threshold = detail::float_argument(r, c, "threshold", 0.0,
                                         "threshold of a ReLU layer cannot be a negative value. Received: None");
    return std::make_shared<ReLUImpl>(std::move(o));
  });
}

// ---------------------------------------------------------------------------
// LeakyReLU

LeakyReLUImpl::LeakyReLUImpl(LeakyReLUOptions o)
    : FloatArgumentLayer(common_options(o), "leaky_re_lu", "alpha", o.alpha) {
  if (!std::isfinite(value_))
    fail("The alpha value of a Leaky ReLU layer must be a finite float. Received: {}", o.alpha);
}

VariableList LeakyReLUImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  return {autograd::leaky_relu(single_input(inputs), value_)};
}

std::shared_ptr<LeakyReLUImpl> LeakyReLUImpl::from_config(const json& c) {
  // alpha up to tf.keras 2.x, negative_slope in Keras 3 (which still takes alpha).
  return detail::layer_from_config<LeakyReLUOptions>(
      c, "LeakyReLU", {"alpha", "negative_slope"}, [&c](const ConfigReader& r, LeakyReLUOptions o) {
        const char* key = c.contains("alpha") || !c.contains("negative_slope") ? "alpha" : "negative_slope";
        o.alpha = detail::float_argument(
            r, c, key, 0.3, "The alpha value of a Leaky ReLU layer cannot be None, Expecting a float. Received: None");
        return std::make_shared<LeakyReLUImpl>(std::move(o));
      });
}

// ---------------------------------------------------------------------------
// Softmax

SoftmaxImpl::SoftmaxImpl(SoftmaxOptions o) : ElementwiseLayer(common_options(o), "softmax"), axis_(o.axis) {}

void SoftmaxImpl::check_axis(const Shape& s) const {
  const int rank = static_cast<int>(s.size());
  if (axis_ < -rank || axis_ >= rank)
    fail("axis {} is out of range for an input of rank {} (shape {})", axis_, rank, shape_str(s));
}

std::vector<Shape> SoftmaxImpl::compute_output_shape(const std::vector<Shape>& s) {
  auto out = ElementwiseLayer::compute_output_shape(s);
  check_axis(out[0]);
  return out;
}

VariableList SoftmaxImpl::call(const std::vector<Variable>& inputs, const CallArgs& args) {
  Variable x = single_input(inputs);
  check_axis(x.shape());
  if (!args.masks.empty() && args.masks[0].defined()) {
    const Tensor& m = args.masks[0];
    bool broadcasts = m.rank() <= x.rank();
    for (int i = 1; broadcasts && i <= m.rank(); ++i) {
      const int64_t md = m.shape()[m.rank() - i], xd = x.shape()[x.rank() - i];
      broadcasts = md == xd || md == 1;
    }
    if (broadcasts) {
      // tf.keras adds (1 - mask) * -1e9 so masked positions get ~0 probability.
      Tensor adder(m.shape());
      for (int64_t i = 0; i < m.numel(); ++i) adder[i] = m[i] != 0.f ? 0.f : -1e9f;
      x = autograd::add(x, Variable(adder));
    }
  }
  return {autograd::softmax(x, axis_)};
}

json SoftmaxImpl::get_config() const {
  json c = base_config();
  c["axis"] = axis_;
  return c;
}

std::shared_ptr<SoftmaxImpl> SoftmaxImpl::from_config(const json& c) {
  return detail::layer_from_config<SoftmaxOptions>(
      c, "Softmax", {"axis"}, [&c](const ConfigReader& r, SoftmaxOptions o) {
        if (r.has("axis")) {
          const auto axes = r.int_list("axis");
          if (axes.size() != 1 || axes[0] < -64 || axes[0] > 64)
            raise<ValueError>("{}: config key 'axis' should be one axis; minidl does not support {}", r.owner(),
                              json_preview(c.at("axis")));
          o.axis = static_cast<int>(axes[0]);
        }
        return std::make_shared<SoftmaxImpl>(std::move(o));
      });
}

MINIDL_REGISTER_LAYER("Activation", [](const json& c) -> LayerPtr { return ActivationLayerImpl::from_config(c); });
MINIDL_REGISTER_LAYER("ReLU", [](const json& c) -> LayerPtr { return ReLUImpl::from_config(c); });
MINIDL_REGISTER_LAYER("LeakyReLU", [](const json& c) -> LayerPtr { return LeakyReLUImpl::from_config(c); });
MINIDL_REGISTER_LAYER("Softmax", [](const json& c) -> LayerPtr { return SoftmaxImpl::from_config(c); });

}  // namespace minidl
