// layers/parts/activations.cpp — the Keras activation functions and the by-name lookup.
#include "layers/parts/activations.h"

#include <nlohmann/json.hpp>

#include <utility>
#include <vector>

#include "autograd/functions.h"
#include "core/errors.h"
#include "layers/parts/part_config.h"

namespace minidl {
namespace activations {

Variable linear(const Variable& x) { return x; }
Variable relu(const Variable& x) { return autograd::relu(x); }
Variable sigmoid(const Variable& x) { return autograd::sigmoid(x); }
Variable tanh(const Variable& x) { return autograd::tanh(x); }

Variable softmax(const Variable& x) {
  MINIDL_CHECK(x.rank() >= 1, ValueError, "softmax: cannot apply softmax to a scalar (shape {})", shape_str(x.shape()));
  return autograd::softmax(x, -1);
}

Variable elu(const Variable& x) { return autograd::elu(x, 1.f); }
Variable selu(const Variable& x) { return autograd::selu(x); }
Variable softplus(const Variable& x) { return autograd::softplus(x); }
Variable softsign(const Variable& x) { return autograd::softsign(x); }
Variable exponential(const Variable& x) { return autograd::exp(x); }
Variable hard_sigmoid(const Variable& x) { return autograd::hard_sigmoid(x); }
Variable swish(const Variable& x) { return autograd::swish(x); }
Variable silu(const Variable& x) { return autograd::swish(x); }
Variable gelu(const Variable& x) { return autograd::gelu(x, /*approximate=*/false); }
Variable relu6(const Variable& x) { return autograd::clip(autograd::relu(x), 0.f, 6.f); }
Variable leaky_relu(const Variable& x) { return autograd::leaky_relu(x, 0.2f); }

Variable log_softmax(const Variable& x) {
  MINIDL_CHECK(x.rank() >= 1, ValueError, "log_softmax: cannot apply log_softmax to a scalar (shape {})",
               shape_str(x.shape()));
  return autograd::log_softmax(x, -1);
}

Variable mish(const Variable& x) { return autograd::mul(x, autograd::tanh(autograd::softplus(x))); }

Variable hard_silu(const Variable& x) {
  // Keras 3's hard_sigmoid (x/6 + 1/2), not the tf.keras 2 slope used by hard_sigmoid above.
  return autograd::mul(x, autograd::clip(autograd::add_scalar(autograd::mul_scalar(x, 1.f / 6.f), 0.5f), 0.f, 1.f));
}

Variable keras3_hard_sigmoid(const Variable& x) {
  // relu6(x + 3) / 6 is clip(x / 6 + 1/2, 0, 1): one scale, one shift, one clip.
  return autograd::clip(autograd::add_scalar(autograd::mul_scalar(x, 1.f / 6.f), 0.5f), 0.f, 1.f);
}

}  // namespace activations

Activation::Activation(std::string name, ActivationFn fn) : name_(std::move(name)), fn_(std::move(fn)) {
  MINIDL_CHECK(static_cast<bool>(fn_), ValueError, "Activation '{}': the function is empty", name_);
}

namespace {

struct Builtin {
  const char* name;
  Variable (*fn)(const Variable&);
};

// Aliases are separate entries so an activation serializes under the name it
// was given; every name loads everywhere, so nothing is lost either way.
const std::vector<Builtin>& builtins() {
  static const std::vector<Builtin> table = {
      {"linear", activations::linear},        {"relu", activations::relu},
      {"sigmoid", activations::sigmoid},      {"tanh", activations::tanh},
      {"softmax", activations::softmax},      {"elu", activations::elu},
      {"selu", activations::selu},            {"softplus", activations::softplus},
      {"softsign", activations::softsign},    {"exponential", activations::exponential},
      {"hard_sigmoid", activations::hard_sigmoid}, {"swish", activations::swish},
      {"silu", activations::silu},            {"gelu", activations::gelu},
      {"relu6", activations::relu6},          {"leaky_relu", activations::leaky_relu},
      {"log_softmax", activations::log_softmax}, {"mish", activations::mish},
      {"hard_silu", activations::hard_silu},  {"hard_swish", activations::hard_silu},
      {"keras3_hard_sigmoid", activations::keras3_hard_sigmoid},
  };
  return table;
}

}  // namespace

std::shared_ptr<Activation> get_activation(const json& identifier) {
  if (identifier.is_null()) return std::make_shared<Activation>("linear", activations::linear);
  std::string name;
  if (identifier.is_object() && identifier.contains("config") && identifier["config"].is_string()) {
    name = identifier["config"].get<std::string>();  // Keras 3: {"class_name": "function", "config": "relu", ...}
  } else {
    name = detail::parse_part_identifier(identifier, "activation").class_name;
  }
  const std::string key = detail::to_lower(name);
  std::vector<std::string> known;
  for (const Builtin& b : builtins()) {
    if (key == b.name) return std::make_shared<Activation>(b.name, b.fn);
    known.push_back(b.name);
  }
  detail::raise_unknown_part("activation", identifier, known);
}

json serialize_activation(const std::shared_ptr<Activation>& act) { return act ? act->name() : "linear"; }

}  // namespace minidl
