// ops/elementwise.h — elementwise maps with NumPy broadcasting.
//
// Binary ops broadcast their operands (core/shape.h broadcast_shapes) and
// return a new tensor of the broadcast shape. reduce_to_shape is the inverse
// used by autograd: it sums a broadcast gradient back down to an input's shape.
#pragma once

#include <functional>

#include "core/tensor.h"

namespace minidl::ops {

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kMax, kMin, kPow };

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
inline Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kAdd, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kSub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kMul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kDiv, a, b); }
inline Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kMax, a, b); }
inline Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kMin, a, b); }
inline Tensor pow(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kPow, a, b); }

// Sums `t` over broadcast axes so the result has `shape` (t's shape must be a
// broadcast of `shape`; ValueError otherwise).
Tensor reduce_to_shape(const Tensor& t, const Shape& shape);

// Unary maps (return new tensors).
Tensor map(const Tensor& x, const std::function<float(float)>& f);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor square(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor clip(const Tensor& x, float lo, float hi);
Tensor scale(const Tensor& x, float s);  // s * x
Tensor add_scalar(const Tensor& x, float s);  // x + s
Tensor pow_scalar(const Tensor& x, float p);

// In place: y += alpha * x (shapes must match in numel).
void axpy(float alpha, const Tensor& x, Tensor& y);

}  // namespace minidl::ops
