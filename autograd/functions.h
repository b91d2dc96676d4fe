// autograd/functions.h — the differentiable primitives.
//
// Each takes and returns Variables, computes the value with ops/ (or a local
// elementwise loop where ops/ has no kernel), and records a GradFn (named after
// the function: "add", "matmul", ...) whose backward reduces broadcast gradients
// back to each input's shape (ops::reduce_to_shape). Shapes follow NumPy
// broadcasting. Every function throws RuntimeError on an undefined Variable and
// ValueError on incompatible shapes or bad axes (naming the shapes received).
// A function records nothing when grad mode is off or no input requires a
// gradient (autograd/variable.h make_result).
//
// Subgradient conventions at kinks: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) =
// alpha, clip and hard_sigmoid pass the gradient on the closed interval,
// maximum/minimum give the whole gradient to `a` on ties.
#pragma once

#include <initializer_list>
#include <span>
#include <vector>

#include "autograd/variable.h"

namespace minidl::autograd {

// Arithmetic with broadcasting.
Variable add(const Variable& a, const Variable& b);
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
Variable div(const Variable& a, const Variable& b);
Variable maximum(const Variable& a, const Variable& b);  // grad to a where a >= b
Variable minimum(const Variable& a, const Variable& b);  // grad to a where a <= b
// a^b elementwise. d/da = b * a^(b-1) (taken as 0 where b == 0); d/db = a^b * log(a)
// where a > 0 and 0 elsewhere (the real derivative does not exist for a < 0).
Variable pow(const Variable& a, const Variable& b);
Variable neg(const Variable& x);
Variable add_scalar(const Variable& x, float s);
Variable mul_scalar(const Variable& x, float s);
Variable pow_scalar(const Variable& x, float p);  // d/dx = p * x^(p-1), 0 when p == 0

// 2-D matrix product [M,K] x [K,N] -> [M,N]; ValueError naming both shapes otherwise.
Variable matmul(const Variable& a, const Variable& b);

// Reductions (empty axes = all; negative axes count from the end). Axes and
// permutations are spans, as in ops/: a braced list goes through the
// initializer_list overload, a std::vector through the span.
Variable sum(const Variable& x, std::span<const int> axes, bool keepdims = false);
Variable mean(const Variable& x, std::span<const int> axes, bool keepdims = false);
inline Variable sum(const Variable& x, std::initializer_list<int> axes = {}, bool keepdims = false) {
  return sum(x, std::span<const int>(axes.begin(), axes.size()), keepdims);
}
inline Variable mean(const Variable& x, std::initializer_list<int> axes = {}, bool keepdims = false) {
  return mean(x, std::span<const int>(axes.begin(), axes.size()), keepdims);
}

// Shape.
Variable reshape(const Variable& x, const Shape& shape);  // a view of x's value; one dim may be -1
Variable permute(const Variable& x, std::span<const int> perm);
inline Variable permute(const Variable& x, std::initializer_list<int> perm) {
  return permute(x, std::span<const int>(perm.begin(), perm.size()));
}
Variable transpose(const Variable& x);  // last two axes
// Joins along `axis` (negative counts from the end). All inputs need the same
// rank and equal dimensions except along axis; ValueError naming the shapes
// otherwise, or on an empty list.
Variable concat(const std::vector<Variable>& xs, int axis = -1);

// Elementwise.
Variable exp(const Variable& x);
Variable log(const Variable& x);
Variable sqrt(const Variable& x);
Variable square(const Variable& x);
Variable abs(const Variable& x);  // subgradient 0 at 0
Variable clip(const Variable& x, float lo, float hi);  // grad passes where lo <= x <= hi; ValueError if lo > hi
Variable relu(const Variable& x);  // relu'(0) = 0
Variable sigmoid(const Variable& x);
Variable tanh(const Variable& x);
Variable softmax(const Variable& x, int axis = -1);
Variable log_softmax(const Variable& x, int axis = -1);

// Keras activations (keras.activations.*), for layers/activations.
// elu: x if x > 0 else alpha * (exp(x) - 1).
Variable elu(const Variable& x, float alpha = 1.f);
// selu: scale * elu(x, alpha) with Keras's alpha = 1.67326324, scale = 1.05070098.
Variable selu(const Variable& x);
// softplus: log(1 + exp(x)), computed without overflow.
Variable softplus(const Variable& x);
// softsign: x / (1 + |x|).
Variable softsign(const Variable& x);
// exponential: exp(x), under Keras's name.
inline Variable exponential(const Variable& x) { return exp(x); }
// hard_sigmoid, the Keras 2 formula: clip(0.2 * x + 0.5, 0, 1).
Variable hard_sigmoid(const Variable& x);
// swish (a.k.a. silu): x * sigmoid(x).
Variable swish(const Variable& x);
inline Variable silu(const Variable& x) { return swish(x); }
// gelu: 0.5 x (1 + erf(x / sqrt(2))), or with approximate = true the tanh form
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as keras.activations.gelu.
Variable gelu(const Variable& x, bool approximate = false);
// leaky_relu: x if x > 0 else alpha * x. The default 0.2 is keras.activations'
// (and tf.nn's); the Keras 2 LeakyReLU layer defaults to 0.3 and must pass it.
Variable leaky_relu(const Variable& x, float alpha = 0.2f);

}  // namespace minidl::autograd

namespace minidl {
// Operator sugar for expressions on Variables.
inline Variable operator+(const Variable& a, const Variable& b) { return autograd::add(a, b); }
inline Variable operator-(const Variable& a, const Variable& b) { return autograd::sub(a, b); }
inline Variable operator*(const Variable& a, const Variable& b) { return autograd::mul(a, b); }
inline Variable operator/(const Variable& a, const Variable& b) { return autograd::div(a, b); }
inline Variable operator-(const Variable& x) { return autograd::neg(x); }
inline Variable operator+(const Variable& a, float s) { return autograd::add_scalar(a, s); }
inline Variable operator*(const Variable& a, float s) { return autograd::mul_scalar(a, s); }
inline Variable operator*(float s, const Variable& a) { return autograd::mul_scalar(a, s); }
inline Variable operator+(float s, const Variable& a) { return autograd::add_scalar(a, s); }
inline Variable operator-(const Variable& a, float s) { return autograd::add_scalar(a, -s); }
inline Variable operator-(float s, const Variable& a) { return autograd::add_scalar(autograd::neg(a), s); }
inline Variable operator/(const Variable& a, float s) { return autograd::mul_scalar(a, 1.f / s); }
}  // namespace minidl
