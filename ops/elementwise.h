// ops/elementwise.h — elementwise maps with NumPy broadcasting.
//
// Binary ops broadcast their operands (core/shape.h broadcast_shapes) and
// return a new tensor of the broadcast shape. reduce_to_shape is the inverse
// used by autograd: it sums a broadcast gradient back down to an input's shape.
//
// Fast paths (same shape, a one-element operand, a trailing block such as a
// bias over the last axis) fall out of merging contiguous axes before the
// general strided loop. Maps over large tensors run on core/threads.h threads.
// Every function here throws ValueError for an undefined (default) Tensor.
#pragma once

#include <functional>

#include "core/tensor.h"

namespace minidl::ops {

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kMax, kMin, kPow };

// out = a op b with broadcasting. ValueError naming both shapes when they do not
// broadcast. IEEE semantics: x/0 is +-inf, pow of a negative base to a
// non-integer is NaN; kMax/kMin propagate NaN from either side (tf.maximum).
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
inline Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kAdd, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kSub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kMul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kDiv, a, b); }
inline Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kMax, a, b); }
inline Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kMin, a, b); }
inline Tensor pow(const Tensor& a, const Tensor& b) { return binary(BinaryOp::kPow, a, b); }

// Sums `t` over broadcast axes so the result has `shape`: the leading axes t has
// beyond shape's rank, and every axis where shape has 1 and t does not. t's
// shape must be a broadcast of `shape` (ValueError naming both otherwise).
// Always returns a new tensor, even when no axis is summed.
Tensor reduce_to_shape(const Tensor& t, const Shape& shape);

// Unary maps (return new tensors of x's shape).
// map calls f serially, in order (f may keep state); ValueError for an empty f.
Tensor map(const Tensor& x, const std::function<float(float)>& f);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor square(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);  // -1, 0 or 1; NaN stays NaN
// min(max(x, lo), hi); hi < lo is raised to lo (Keras backend.clip). ValueError for NaN bounds.
Tensor clip(const Tensor& x, float lo, float hi);
Tensor scale(const Tensor& x, float s);  // s * x
Tensor add_scalar(const Tensor& x, float s);  // x + s
Tensor pow_scalar(const Tensor& x, float p);

// In place: y += alpha * x (shapes may differ; numel must match, else ValueError).
void axpy(float alpha, const Tensor& x, Tensor& y);

}  // namespace minidl::ops
