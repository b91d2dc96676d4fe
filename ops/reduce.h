// ops/reduce.h — reductions over axes.
//
// axes: empty means "all axes". Negative axes count from the end. keepdims
// keeps reduced axes as size 1 (NumPy semantics).
#pragma once

#include <vector>

#include "core/tensor.h"

namespace minidl::ops {

Tensor sum(const Tensor& x, std::vector<int> axes = {}, bool keepdims = false);
Tensor mean(const Tensor& x, std::vector<int> axes = {}, bool keepdims = false);
Tensor max(const Tensor& x, std::vector<int> axes = {}, bool keepdims = false);
Tensor min(const Tensor& x, std::vector<int> axes = {}, bool keepdims = false);
// Index of the max along one axis (as float), axis removed from the shape.
Tensor argmax(const Tensor& x, int axis);

// The shape x would have after reducing `axes` (ValueError on bad axes; duplicates rejected).
Shape reduced_shape(const Shape& x, const std::vector<int>& axes, bool keepdims);

}  // namespace minidl::ops
