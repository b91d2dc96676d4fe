// layers/activations/advanced_activations.h — the Keras activation layers with parameters:
// PReLU (a learned slope), ELU and ThresholdedReLU.
//
//   PReLU({.shared_axes = {1, 2}})      x if x > 0 else alpha * x, alpha learned per channel
//   ELU({.alpha = 0.5})                 x if x > 0 else alpha * (exp(x) - 1)
//   ThresholdedReLU({.theta = 0.5})     x if x > theta else 0
//
// All three keep the input shape and pass masks through (supports_masking), as
// in tf.keras 2.4. Float arguments are stored as float32 and written back as
// Keras writes them (0.3 -> 0.30000001192092896). The layers live together, as
// Keras's advanced_activations module has them; ReLU, LeakyReLU and Softmax are
// in layers/activations/activation_layers.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layers/activations/elementwise_layer.h"

namespace minidl {

// ---------------------------------------------------------------------------
// PReLU

struct PReLUOptions {
  InitializerArg alpha_initializer = "zeros";
  RegularizerArg alpha_regularizer{};
  ConstraintArg alpha_constraint{};
  // 1-based axes (batch excluded) along which alpha is shared; empty = Keras's None.
  std::vector<int64_t> shared_axes{};
  MINIDL_COMMON_LAYER_OPTIONS;
};

// f(x) = x for x > 0, alpha * x otherwise, alpha broadcast over the batch and
// the shared axes. The weight "alpha" has the input shape without the batch
// axis, with every shared axis set to 1: (1, 1, C) for an image input
// (batch, H, W, C) with shared_axes {1, 2}. Gradients follow TensorFlow's
// relu(x) - alpha * relu(-x): dx = g for x > 0, alpha * g for x < 0, 0 at 0;
// dalpha = sum of g * min(x, 0) over the broadcast axes.
class PReLUImpl : public Layer {
 public:
  // ValueError for a shared axis < 1 or repeated, or unknown part names.
  explicit PReLUImpl(PReLUOptions o = {});
  std::string class_name() const override { return "PReLU"; }
  // Same shape. ValueError (naming the layer and the shape) for rank < 2, a
  // shared axis beyond the input's last axis, or, once built, a non-shared
  // axis whose size differs from alpha's.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  // {"alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes": null | [..]}
  json get_config() const override;
  // Also reads a single integer shared_axes. ValueError for wrong types or unknown keys.
  static std::shared_ptr<PReLUImpl> from_config(const json& config);

  const std::vector<int64_t>& shared_axes() const { return shared_axes_; }
  // The weight. RuntimeError before build.
  const Variable& alpha() const;

 protected:
  // ValueError when a non-shared axis of the input is None (alpha needs its size).
  void build(const std::vector<Shape>& input_shapes) override;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  void check_shape(const Shape& s) const;

  std::vector<int64_t> shared_axes_;
  std::shared_ptr<Initializer> alpha_initializer_;
  std::shared_ptr<Regularizer> alpha_regularizer_;
  std::shared_ptr<Constraint> alpha_constraint_;
  Variable alpha_;
};

class PReLU : public LayerHolder<PReLUImpl> {
 public:
  explicit PReLU(PReLUOptions o = {}) : LayerHolder(std::make_shared<PReLUImpl>(std::move(o))) {}
  explicit PReLU(std::shared_ptr<PReLUImpl> p) : LayerHolder(std::move(p)) {}
};

// ---------------------------------------------------------------------------
// ELU

struct ELUOptions {
  double alpha = 1.0;
  MINIDL_COMMON_LAYER_OPTIONS;
};

// f(x) = x for x > 0, alpha * (exp(x) - 1) otherwise (keras.backend.elu).
class ELUImpl : public FloatArgumentLayer {
 public:
  // ValueError when alpha is not finite.
  explicit ELUImpl(ELUOptions o = {});
  std::string class_name() const override { return "ELU"; }
  // ValueError when alpha is present but null ("Alpha of an ELU layer cannot be None ...").
  static std::shared_ptr<ELUImpl> from_config(const json& config);

  float alpha() const { return value_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
};

class ELU : public LayerHolder<ELUImpl> {
 public:
  explicit ELU(ELUOptions o = {}) : LayerHolder(std::make_shared<ELUImpl>(std::move(o))) {}
  explicit ELU(std::shared_ptr<ELUImpl> p) : LayerHolder(std::move(p)) {}
};

// ---------------------------------------------------------------------------
// ThresholdedReLU

struct ThresholdedReLUOptions {
  double theta = 1.0;
  MINIDL_COMMON_LAYER_OPTIONS;
};

// f(x) = x for x > theta, 0 otherwise; the gradient is g where x > theta, else 0.
class ThresholdedReLUImpl : public FloatArgumentLayer {
 public:
  // ValueError when theta is negative or not finite ("The theta value of a
  // Thresholded ReLU layer should be >=0, got -1").
  explicit ThresholdedReLUImpl(ThresholdedReLUOptions o = {});
  std::string class_name() const override { return "ThresholdedReLU"; }
  // ValueError when theta is present but null.
  static std::shared_ptr<ThresholdedReLUImpl> from_config(const json& config);

  float theta() const { return value_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
};

class ThresholdedReLU : public LayerHolder<ThresholdedReLUImpl> {
 public:
  explicit ThresholdedReLU(ThresholdedReLUOptions o = {})
      : LayerHolder(std::make_shared<ThresholdedReLUImpl>(std::move(o))) {}
  explicit ThresholdedReLU(std::shared_ptr<ThresholdedReLUImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
