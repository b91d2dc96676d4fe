// layers/activations/activation_layers.h — activation functions as layers: Activation, ReLU,
// LeakyReLU and Softmax.
//
//   ActivationLayer("tanh")                        Keras's Activation("tanh")
//   ReLU({.max_value = 6.0})                       relu6
//   LeakyReLU({.alpha = 0.1})                      x if x >= 0 else 0.1 x
//   Softmax({.axis = 1})
//
// All four keep the input shape, have no weights and pass masks through
// (supports_masking), as in tf.keras. Float arguments are stored as float32
// and written back as Keras writes them (0.3 -> 0.30000001192092896).
//
// Naming: minidl::Activation is already the named activation *function*
// (layers/parts/activations.h), so the Keras Activation *layer*'s holder is called
// ActivationLayer; its class_name() and config are Keras's "Activation".
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layers/activations/elementwise_layer.h"
#include "layers/parts/activations.h"

namespace minidl {

// ---------------------------------------------------------------------------
// Activation

struct ActivationLayerOptions {
  MINIDL_COMMON_LAYER_OPTIONS;
};

class ActivationLayerImpl : public ElementwiseLayer {
 public:
  // An unset activation is linear. ValueError for an unknown name.
  explicit ActivationLayerImpl(ActivationArg activation, ActivationLayerOptions o = {});
  std::string class_name() const override { return "Activation"; }
  json get_config() const override;  // {"activation": "relu"}
  static std::shared_ptr<ActivationLayerImpl> from_config(const json& config);

  const std::shared_ptr<Activation>& activation() const { return activation_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  std::shared_ptr<Activation> activation_;
};

class ActivationLayer : public LayerHolder<ActivationLayerImpl> {
 public:
  explicit ActivationLayer(ActivationArg activation, ActivationLayerOptions o = {})
      : LayerHolder(std::make_shared<ActivationLayerImpl>(std::move(activation), std::move(o))) {}
  explicit ActivationLayer(std::shared_ptr<ActivationLayerImpl> p) : LayerHolder(std::move(p)) {}
};

// ---------------------------------------------------------------------------
// ReLU

struct ReLUOptions {
  std::optional<double> max_value{};  // none = unbounded
  double negative_slope = 0.0;
  double threshold = 0.0;
  MINIDL_COMMON_LAYER_OPTIONS;
};

// f(x) = min(x, max_value)              for x > threshold
//        negative_slope * (x - threshold) otherwise
// which is the value tf.keras's backend.relu computes (at x == threshold it
// gives 0, the negative branch). Gradient: 1 for threshold < x <= max_value, 0
// above max_value, negative_slope at and below the threshold.
class ReLUImpl : public ElementwiseLayer {
 public:
  // ValueError when max_value, negative_slope or threshold is negative or not
  // finite ("max_value of a ReLU layer cannot be a negative value. Received: -1").
  explicit ReLUImpl(ReLUOptions o = {});
  std::string class_name() const override { return "ReLU"; }
  json get_config() const override;  // {"max_value": null | float, "negative_slope": float, "threshold": float}
  static std::shared_ptr<ReLUImpl> from_config(const json& config);

  const std::optional<float>& max_value() const { return max_value_; }
  float negative_slope() const { return negative_slope_; }
  float threshold() const { return threshold_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  std::optional<float> max_value_;
  float negative_slope_, threshold_;
};

class ReLU : public LayerHolder<ReLUImpl> {
 public:
  explicit ReLU(ReLUOptions o = {}) : LayerHolder(std::make_shared<ReLUImpl>(std::move(o))) {}
  explicit ReLU(std::shared_ptr<ReLUImpl> p) : LayerHolder(std::move(p)) {}
};

// ---------------------------------------------------------------------------
// LeakyReLU

struct LeakyReLUOptions {
  double alpha = 0.3;  // tf.keras's default (Keras 3 calls it negative_slope)
  MINIDL_COMMON_LAYER_OPTIONS;
};

// f(x) = x for x >= 0, alpha * x otherwise.
class LeakyReLUImpl : public FloatArgumentLayer {
 public:
  // ValueError when alpha is not finite.
  explicit LeakyReLUImpl(LeakyReLUOptions o = {});
  std::string class_name() const override { return "LeakyReLU"; }
  // Reads "alpha" (tf.keras) or "negative_slope" (Keras 3). ValueError when
  // alpha is present but null ("The alpha value of a Leaky ReLU layer cannot be None").
  static std::shared_ptr<LeakyReLUImpl> from_config(const json& config);

  float alpha() const { return value_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
};

class LeakyReLU : public LayerHolder<LeakyReLUImpl> {
 public:
  explicit LeakyReLU(LeakyReLUOptions o = {}) : LayerHolder(std::make_shared<LeakyReLUImpl>(std::move(o))) {}
  explicit LeakyReLU(std::shared_ptr<LeakyReLUImpl> p) : LayerHolder(std::move(p)) {}
};

// ---------------------------------------------------------------------------
// Softmax

struct SoftmaxOptions {
  int axis = -1;
  MINIDL_COMMON_LAYER_OPTIONS;
};

// exp(x) / sum(exp(x)) along `axis`. When the call receives a mask that
// broadcasts (NumPy rules) to the input, masked positions get -1e9 added
// before the softmax, as tf.keras's Softmax(inputs, mask) does; a mask that
// does not broadcast (e.g. a timestep mask of rank - 1) is passed through
// without touching the values.
class SoftmaxImpl : public ElementwiseLayer {
 public:
  explicit SoftmaxImpl(SoftmaxOptions o = {});
  std::string class_name() const override { return "Softmax"; }
  // Same shape. ValueError when axis is out of range for the input's rank.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  json get_config() const override;  // {"axis": -1}
  // "axis" may be an int or a list of one int; ValueError for a longer list.
  static std::shared_ptr<SoftmaxImpl> from_config(const json& config);

  int axis() const { return axis_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  void check_axis(const Shape& s) const;
  int axis_;
};

class Softmax : public LayerHolder<SoftmaxImpl> {
 public:
  explicit Softmax(SoftmaxOptions o = {}) : LayerHolder(std::make_shared<SoftmaxImpl>(std::move(o))) {}
  explicit Softmax(std::shared_ptr<SoftmaxImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
