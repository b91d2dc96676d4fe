// ops/reduce.h — reductions over axes.
//
// axes: empty means "all axes". Negative axes count from the end. keepdims
// keeps reduced axes as size 1 (NumPy semantics). Every function returns a new
// tensor and throws ValueError for an axis out of range, a repeated axis
// (e.g. {1, -1} on rank 2) or an undefined input.
//
// axes are a std::span, so a std::vector, a std::array or a part of one can be
// passed as it is; a braced list ({1, 2}) goes through the initializer_list
// overloads, which keep it on the caller's stack: no call allocates for axes.
//
// sum and mean accumulate in double. Reducing an empty axis gives the
// TensorFlow identities: sum 0, mean NaN, max -inf, min +inf. max and min
// propagate NaN. Large reductions whose outermost axis is kept are threaded.
#pragma once

#include <initializer_list>
#include <span>

#include "core/tensor.h"

namespace minidl::ops {

Tensor sum(const Tensor& x, std::span<const int> axes, bool keepdims = false);
Tensor mean(const Tensor& x, std::span<const int> axes, bool keepdims = false);
Tensor max(const Tensor& x, std::span<const int> axes, bool keepdims = false);
Tensor min(const Tensor& x, std::span<const int> axes, bool keepdims = false);
inline Tensor sum(const Tensor& x, std::initializer_list<int> axes = {}, bool keepdims = false) {
  return sum(x, std::span<const int>(axes.begin(), axes.size()), keepdims);
}
inline Tensor mean(const Tensor& x, std::initializer_list<int> axes = {}, bool keepdims = false) {
  return mean(x, std::span<const int>(axes.begin(), axes.size()), keepdims);
}
inline Tensor max(const Tensor& x, std::initializer_list<int> axes = {}, bool keepdims = false) {
  return max(x, std::span<const int>(axes.begin(), axes.size()), keepdims);
}
inline Tensor min(const Tensor& x, std::initializer_list<int> axes = {}, bool keepdims = false) {
  return min(x, std::span<const int>(axes.begin(), axes.size()), keepdims);
}
// Index of the max along one axis (as float), axis removed from the shape.
// Ties give the first index; a NaN counts as the max (first NaN wins), as in NumPy.
// ValueError for a rank-0 input, a bad axis, or an empty axis with a non-empty result.
Tensor argmax(const Tensor& x, int axis);

// The shape x would have after reducing `axes` (ValueError on bad axes; duplicates rejected).
Shape reduced_shape(const Shape& x, std::span<const int> axes, bool keepdims);
inline Shape reduced_shape(const Shape& x, std::initializer_list<int> axes, bool keepdims) {
  return reduced_shape(x, std::span<const int>(axes.begin(), axes.size()), keepdims);
}

}  // namespace minidl::ops
