// layers/normalization/gamma_beta.cpp — GammaBeta: the gamma and beta weights and config keys.
#include "layers/normalization/gamma_beta.h"

#include <nlohmann/json.hpp>

namespace minidl::detail {

std::shared_ptr<Initializer> initializer_or_default(const InitializerArg& given, const char* keras_default) {
  std::shared_ptr<Initializer> init = given.resolve();
  return init ? init : get_initializer(keras_default);
}

Variable GammaBeta::add_gamma(Layer& layer, const Shape& shape) const {
  return layer.add_weight("gamma", shape, gamma_init_, gamma_reg_, true, gamma_constraint_);
}

Variable GammaBeta::add_beta(Layer& layer, const Shape& shape) const {
  return layer.add_weight("beta", shape, beta_init_, beta_reg_, true, beta_constraint_);
}

void GammaBeta::write_config(json& c) const {
  c["center"] = center_;
  c["scale"] = scale_;
  c["beta_initializer"] = serialize_initializer(beta_init_);
  c["gamma_initializer"] = serialize_initializer(gamma_init_);
  c["beta_regularizer"] = serialize_regularizer(beta_reg_);
  c["gamma_regularizer"] = serialize_regularizer(gamma_reg_);
  c["beta_constraint"] = serialize_constraint(beta_constraint_);
  c["gamma_constraint"] = serialize_constraint(gamma_constraint_);
}

}  // namespace minidl::detail
