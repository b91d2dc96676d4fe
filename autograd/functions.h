// autograd/functions.h — the differentiable primitives.
//
// Each takes and returns Variables, computes the value with ops/, and records
// a GradFn whose backward reduces broadcast gradients back to each input's
// shape (ops::reduce_to_shape). Shapes follow NumPy broadcasting.
#pragma once

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
Variable pow(const Variable& a, const Variable& b);
Variable neg(const Variable& x);
Variable add_scalar(const Variable& x, float s);
Variable mul_scalar(const Variable& x, float s);
Variable pow_scalar(const Variable& x, float p);

// 2-D matrix product [M,K] x [K,N].
Variable matmul(const Variable& a, const Variable& b);

// Reductions (empty axes = all).
Variable sum(const Variable& x, std::vector<int> axes = {}, bool keepdims = false);
Variable mean(const Variable& x, std::vector<int> axes = {}, bool keepdims = false);

// Shape.
Variable reshape(const Variable& x, const Shape& shape);
Variable permute(const Variable& x, const std::vector<int>& perm);
Variable transpose(const Variable& x);  // last two axes

// Elementwise.
Variable exp(const Variable& x);
Variable log(const Variable& x);
Variable sqrt(const Variable& x);
Variable square(const Variable& x);
Variable abs(const Variable& x);  // subgradient 0 at 0
Variable clip(const Variable& x, float lo, float hi);  // grad passes where lo <= x <= hi
Variable relu(const Variable& x);
Variable sigmoid(const Variable& x);
Variable tanh(const Variable& x);
Variable softmax(const Variable& x, int axis = -1);
Variable log_softmax(const Variable& x, int axis = -1);

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
}  // namespace minidl
