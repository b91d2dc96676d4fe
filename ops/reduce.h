// ops/reduce.h — reductions over axes.
//
// axes: empty means "all axes". Negative axes count from the end. keepdims
// keeps reduced axes as size 1 (NumPy semantics). Every function returns a new
// tensor and throws ValueError for an axis out of range, a repeated axis
// (e.g. {1, -1} on rank 2) or an undefined input.
//
// sum and mean accumulate in double. Reducing an empty axis gives the
// TensorFlow identities: sum 0, mean NaN, max -inf, min +inf. max and min
// propagate NaN. Large reductions whose outermost axis is kept are threaded.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace minidl::ops {

Tensor sum(const Tensor& x, const std::vector<int>& axes = {}, bool keepdims = false);
Tensor mean(const Tensor& x, const std::vector<int>& axes = {}, bool keepdims = false);
Tensor max(const Tensor& x, const std::vector<int>& axes = {}, bool keepdims = false);
Tensor min(const Tensor& x, const std::vector<int>& axes = {}, bool keepdims = false);
// Index of the max along one axis (as float), axis removed from the shape.
// Ties give the first index; a NaN counts as the max (first NaN wins), as in NumPy.
// ValueError for a rank-0 input, a bad axis, or an empty axis with a non-empty result.
Tensor argmax(const Tensor& x, int axis);

// The shape x would have after reducing `axes` (ValueError on bad axes; duplicates rejected).
Shape reduced_shape(const Shape& x, const std::vector<int>& axes, bool keepdims);

}  // namespace minidl::ops
