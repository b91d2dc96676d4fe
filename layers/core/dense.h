// layers/core/dense.h — Dense, the fully connected layer: y = activation(x . kernel + bias).
//
//   auto fc = Dense(10, {.activation = "softmax"});
//   KerasTensor y = fc(Input({784}));          // (None, 10); kernel (784, 10), bias (10,)
//   Variable z = fc(Variable(batch));          // concrete: one sgemm [N, 784] x [784, 10]
//
// As in Keras, an input of rank > 2 is contracted over its last axis only:
// (N, T, in) -> (N, T, units), the leading axes folded into the GEMM's rows.
// The kernel is stored (in, units), exactly as a Keras .h5 file holds it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/base/kernel_bias_options.h"
#include "layers/base/layer.h"
#include "layers/parts/activations.h"

namespace minidl {

// Keras's Dense arguments after `units`: the kernel and bias ones.
struct DenseOptions {
  MINIDL_KERNEL_BIAS_OPTIONS;
  MINIDL_COMMON_LAYER_OPTIONS;
};

class DenseImpl : public Layer {
 public:
  // ValueError unless units >= 1, or for an unknown activation / initializer /
  // regularizer / constraint name.
  explicit DenseImpl(int64_t units, DenseOptions o = {});

  std::string class_name() const override { return "Dense"; }

  // (..., in) -> (..., units). ValueError for rank < 2, an unknown (None) last
  // axis, or (once built) a last axis different from the kernel's first.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

  // Keras keys: units, activation, use_bias, kernel_initializer, bias_initializer,
  // kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
  // bias_constraint (plus the common ones).
  json get_config() const override;
  // Reads a Keras 2/3 config; missing keys take Keras's defaults. ValueError
  // for a malformed config (naming the key).
  static std::shared_ptr<DenseImpl> from_config(const json& config);

  int64_t units() const { return units_; }
  bool use_bias() const { return use_bias_; }
  const std::shared_ptr<Activation>& activation() const { return activation_; }
  // The weights; undefined Variables before the layer is built (bias also when use_bias is false).
  const Variable& kernel() const { return kernel_; }
  const Variable& bias() const { return bias_; }

 protected:
  void build(const std::vector<Shape>& input_shapes) override;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  // Keras's InputSpec of Dense: rank >= 2, a known last axis equal to the kernel's rows.
  void check_input_shape(const Shape& s) const;

  int64_t units_;
  std::shared_ptr<Activation> activation_;
  bool use_bias_;
  std::shared_ptr<Initializer> kernel_initializer_, bias_initializer_;
  std::shared_ptr<Regularizer> kernel_regularizer_, bias_regularizer_;
  std::shared_ptr<Constraint> kernel_constraint_, bias_constraint_;
  Variable kernel_, bias_;
};

class Dense : public LayerHolder<DenseImpl> {
 public:
  explicit Dense(int64_t units, DenseOptions o = {}) : LayerHolder(std::make_shared<DenseImpl>(units, std::move(o))) {}
  explicit Dense(std::shared_ptr<DenseImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
