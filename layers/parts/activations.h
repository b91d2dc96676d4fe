// layers/parts/activations.h — Keras activations by name.
//
// An activation is a differentiable function Variable -> Variable built from
// autograd primitives, plus the Keras name it serializes as:
//
//   auto act = get_activation("relu");
//   Variable y = (*act)(x);
//   json j = serialize_activation(act);      // "relu" (Keras stores the bare name)
//
// The free functions in minidl::activations are the Keras formulas:
//   linear(x) = x                       relu(x) = max(x, 0)
//   sigmoid(x) = 1 / (1 + exp(-x))      tanh(x)
//   softmax(x): over the last axis      exponential(x) = exp(x)
//   elu(x) = x > 0 ? x : exp(x) - 1     selu(x) = 1.0507 * (x > 0 ? x : 1.6733 * (exp(x) - 1))
//   softplus(x) = log(1 + exp(x))       softsign(x) = x / (1 + |x|)
//   hard_sigmoid(x) = clip(0.2 x + 0.5, 0, 1)   (tf.keras 2 formula; Keras 3's is below)
//   swish(x) = silu(x) = x * sigmoid(x) gelu(x) = 0.5 x (1 + erf(x / sqrt(2)))  (exact, Keras's default)
// and, from Keras 3: relu6(x) = clip(x, 0, 6), leaky_relu(x) = x > 0 ? x : 0.2 x,
// log_softmax (last axis), mish(x) = x * tanh(softplus(x)),
// hard_silu(x) = hard_swish(x) = x * clip(x / 6 + 0.5, 0, 1),
// keras3_hard_sigmoid(x) = relu6(x + 3) / 6, what Keras 3 means by "hard_sigmoid".
//
// "hard_sigmoid" names two functions: clip(0.2 x + 0.5, 0, 1) in Keras 1/2 and tf.keras 2,
// relu6(x + 3) / 6 in Keras 3. In C++ it is the first, as documented above; the second is
// "keras3_hard_sigmoid". The file readers (io/) resolve "hard_sigmoid" by the file's Keras
// version, and the writers write each under the name its layout gives it, or refuse the one the
// layout cannot express.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include "autograd/variable.h"
#include "layers/parts/part_arg.h"

namespace minidl {

using json = nlohmann::json;

using ActivationFn = std::function<Variable(const Variable&)>;

namespace activations {
// Each takes any shape and returns the same shape; gradients flow through autograd.
Variable linear(const Variable& x);
Variable relu(const Variable& x);
Variable sigmoid(const Variable& x);
Variable tanh(const Variable& x);
Variable softmax(const Variable& x);  // last axis; ValueError for a scalar (rank 0)
Variable elu(const Variable& x);
Variable selu(const Variable& x);
Variable softplus(const Variable& x);
Variable softsign(const Variable& x);
Variable exponential(const Variable& x);
Variable hard_sigmoid(const Variable& x);
Variable swish(const Variable& x);
Variable silu(const Variable& x);
Variable gelu(const Variable& x);
Variable relu6(const Variable& x);
Variable leaky_relu(const Variable& x);
Variable log_softmax(const Variable& x);  // last axis; ValueError for a scalar
Variable mish(const Variable& x);
Variable hard_silu(const Variable& x);
Variable keras3_hard_sigmoid(const Variable& x);
}  // namespace activations

// A named activation function. Built-ins carry their Keras name; a custom
// function carries the name it was given ("custom" by default).
class Activation {
 public:
  // ValueError if fn is empty.
  Activation(std::string name, ActivationFn fn);

  const std::string& name() const { return name_; }
  // Applies the function; same shape as x for every built-in.
  Variable operator()(const Variable& x) const { return fn_(x); }

 private:
  std::string name_;
  ActivationFn fn_;
};

// The activation an identifier names:
//   a Keras name (case-insensitive; "silu" and "swish" are one function,
//     "hard_swish" is "hard_silu"), serialized back in canonical lower case;
//   a Keras 3 object {"module": "keras.activations", "class_name": "function",
//     "config": "relu", "registered_name": ...} (its "config" string is the name);
//   null -> linear, as Keras's activations.get(None).
// Never returns nullptr. Throws ValueError for an unknown name (listing the known
// ones) or an identifier of another JSON type.
std::shared_ptr<Activation> get_activation(const json& identifier);

// The plain name, as Keras writes it ("relu"); nullptr serializes as "linear".
json serialize_activation(const std::shared_ptr<Activation>& act);

// An options-struct field: a name, a function (std::function or lambda, named
// "custom"), an Activation or a pointer to one. Unset resolves to nullptr (the
// layer's own default, usually linear).
class ActivationArg : public PartArg<Activation, get_activation> {
 public:
  using PartArg::PartArg;
  ActivationArg() = default;
  ActivationArg(ActivationFn fn) : PartArg(std::make_shared<Activation>("custom", std::move(fn))) {}
  template <class F>
    requires std::is_invocable_r_v<Variable, F&, const Variable&> &&
             (!std::derived_from<std::decay_t<F>, Activation>) && (!std::same_as<std::decay_t<F>, ActivationFn>)
  ActivationArg(F fn) : ActivationArg(ActivationFn(std::move(fn))) {}
  // An Activation has no clone(); it is copied as it is.
  ActivationArg(const Activation& act) : PartArg(std::make_shared<Activation>(act)) {}
};

}  // namespace minidl
