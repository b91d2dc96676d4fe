// layers/normalization/layer_normalization.h — LayerNormalization, with Keras 3 semantics.
//
//   auto ln = LayerNormalization({.epsilon = 1e-6});
//   KerasTensor y = ln(Input({7, 7, 96}));      // weights gamma, beta: (96,)
//
// Normalizes each example on its own over the entries along `axis` (default
// -1; an int or a list), Keras's ops.layer_normalization:
//   y = (x - mean) / sqrt(var + epsilon) * gamma + beta
// with the mean and biased variance (the mean of squared deviations, two
// passes) over the normalized axes, epsilon inside the square root. With
// rms_scaling = true (deprecated in Keras, kept for its files) the input is
// not centered: y = x / sqrt(var + epsilon) * gamma, var still the centered
// variance, and there is no beta whatever `center` says. Training and
// inference compute the same thing; there are no moving statistics.
//
// Weights, in Keras order: gamma (if scale or rms_scaling), beta (if center and
// not rms_scaling), each of shape (d_a for a in sorted axes), e.g. axis [1, 2, 3]
// on (N, H, W, C) gives (H, W, C). Masks pass through.
//
// Config: "axis" is the value given before build and, after it, the sorted
// non-negative list (tf.keras 2's form, e.g. [3]; Keras 3.15 writes the sorted
// list as given, [-1], and both read either). "rms_scaling" is written only when
// true: tf.keras 2 rejects the keyword, and Keras 3 reads it absent as false.
// Configs of both (Keras 3's with "rms_scaling": false) read.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/base/layer.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/normalization/gamma_beta.h"

namespace minidl {

// LayerNormalization's `axis`: one int or a list, kept in the form given (the
// same value type as BatchNormalization's).
using LayerNormAxis = BatchNormAxis;

struct LayerNormalizationOptions {
  LayerNormAxis axis = -1;
  double epsilon = 1e-3;
  MINIDL_GAMMA_BETA_OPTIONS;
  bool rms_scaling = false;  // a Keras keyword argument (deprecated there)
  MINIDL_COMMON_LAYER_OPTIONS;
};

class LayerNormalizationImpl : public Layer {
 public:
  // ValueError naming the layer for an empty axis list, a negative or
  // non-finite epsilon, or an unknown initializer/regularizer/constraint name.
  explicit LayerNormalizationImpl(LayerNormalizationOptions o = {});

  std::string class_name() const override { return "LayerNormalization"; }
  // The axes as given before build; non-negative and sorted after.
  std::vector<int> axis() const;
  double epsilon() const { return epsilon_; }
  bool center() const { return gamma_beta_.center(); }
  bool scale() const { return gamma_beta_.scale(); }
  bool rms_scaling() const { return rms_scaling_; }

  json get_config() const override;
  // ValueError for unknown keys or wrong value types.
  static std::shared_ptr<LayerNormalizationImpl> from_config(const json& config);
  // The input shape itself; ValueError (Keras's message) for an axis outside
  // the rank, for duplicate axes, for an unknown (None) size on a normalized
  // axis, or, once built, for a rank or normalized sizes other than the built ones.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

 protected:
  void build(const std::vector<Shape>& input_shapes) override;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  // The axis as Keras prints it in messages: 2, or [1, 3].
  std::string axis_text() const;
  // The normalized axes for `shape` (non-negative, sorted), checked as
  // compute_output_shape describes.
  std::vector<int> resolve_axes(const Shape& shape) const;

  LayerNormAxis axis_given_;
  std::vector<int> axes_;  // non-negative, sorted; set by build
  Shape param_shape_;      // gamma's and beta's shape; set by build
  int built_rank_ = -1;
  double epsilon_;
  bool rms_scaling_;
  detail::GammaBeta gamma_beta_;
  Variable gamma_, beta_;
};

class LayerNormalization : public LayerHolder<LayerNormalizationImpl> {
 public:
  LayerNormalization(LayerNormalizationOptions o = {})
      : LayerHolder(std::make_shared<LayerNormalizationImpl>(std::move(o))) {}
  explicit LayerNormalization(std::shared_ptr<LayerNormalizationImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
