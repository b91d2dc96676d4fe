// layers/normalization/gamma_beta.h — the learned scale (gamma) and offset (beta) that
// BatchNormalization and LayerNormalization share: their option fields, Keras defaults,
// config keys and weights.
//
// Keras gives both layers the same arguments for them: center (add beta), scale (add gamma),
// beta_initializer ("zeros"), gamma_initializer ("ones"), beta_regularizer,
// gamma_regularizer, beta_constraint and gamma_constraint (none), under the same config
// keys; the weights are named gamma and beta.
#pragma once

#include <memory>
#include <string>

#include "layers/base/config_utils.h"
#include "layers/base/layer.h"

// Keras's arguments from `center` to `gamma_constraint`, in Keras's order and with its
// defaults, for an options struct to list after its layer's own leading arguments (as
// MINIDL_KERNEL_BIAS_OPTIONS does for kernel and bias), so designated initializers can
// name them: LayerNormalization({.epsilon = 1e-6, .gamma_initializer = "zeros"}).
#define MINIDL_GAMMA_BETA_OPTIONS                          \
  bool center = true;                                      \
  bool scale = true;                                       \
  ::minidl::InitializerArg beta_initializer = "zeros";     \
  ::minidl::InitializerArg gamma_initializer = "ones";     \
  ::minidl::RegularizerArg beta_regularizer{};             \
  ::minidl::RegularizerArg gamma_regularizer{};            \
  ::minidl::ConstraintArg beta_constraint{};               \
  ::minidl::ConstraintArg gamma_constraint {}

namespace minidl::detail {

// The initializer `given` names, or the one `keras_default` names when it names none
// (unset, or null in a config): a null initializer means the Keras default.
std::shared_ptr<Initializer> initializer_or_default(const InitializerArg& given, const char* keras_default);

// One layer's gamma and beta parts, resolved from its options.
class GammaBeta {
 public:
  // From an options struct holding MINIDL_GAMMA_BETA_OPTIONS. ValueError for an unknown
  // initializer, regularizer or constraint name.
  template <class Options>
  explicit GammaBeta(const Options& o)
      : center_(o.center),
        scale_(o.scale),
        beta_init_(initializer_or_default(o.beta_initializer, "zeros")),
        gamma_init_(initializer_or_default(o.gamma_initializer, "ones")),
        beta_reg_(o.beta_regularizer.resolve()),
        gamma_reg_(o.gamma_regularizer.resolve()),
        beta_constraint_(o.beta_constraint.resolve()),
        gamma_constraint_(o.gamma_constraint.resolve()) {}

  bool center() const { return center_; }
  bool scale() const { return scale_; }

  // The trainable weights "gamma" and "beta" of `shape`, added to `layer` with their parts.
  Variable add_gamma(Layer& layer, const Shape& shape) const;
  Variable add_beta(Layer& layer, const Shape& shape) const;

  // Writes the eight keys, center to gamma_constraint, into a layer config.
  void write_config(json& config) const;

  // Reads the eight keys of a layer config into `o`; absent or null keys keep Keras's defaults.
  // ValueError for a wrong value type (naming r's owner) or an unknown part identifier.
  template <class Options>
  static void read_config(const ConfigReader& r, Options& o) {
    o.center = r.boolean("center", true);
    o.scale = r.boolean("scale", true);
    if (r.has("beta_initializer")) o.beta_initializer = get_initializer(r.raw("beta_initializer"));
    if (r.has("gamma_initializer")) o.gamma_initializer = get_initializer(r.raw("gamma_initializer"));
    if (r.has("beta_regularizer")) o.beta_regularizer = get_regularizer(r.raw("beta_regularizer"));
    if (r.has("gamma_regularizer")) o.gamma_regularizer = get_regularizer(r.raw("gamma_regularizer"));
    if (r.has("beta_constraint")) o.beta_constraint = get_constraint(r.raw("beta_constraint"));
    if (r.has("gamma_constraint")) o.gamma_constraint = get_constraint(r.raw("gamma_constraint"));
  }

 private:
  bool center_, scale_;
  std::shared_ptr<Initializer> beta_init_, gamma_init_;
  std::shared_ptr<Regularizer> beta_reg_, gamma_reg_;
  std::shared_ptr<Constraint> beta_constraint_, gamma_constraint_;
};

}  // namespace minidl::detail
