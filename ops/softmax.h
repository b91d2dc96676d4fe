// ops/softmax.h — numerically stable softmax family over one axis.
//
// Each subtracts the max along the axis before exponentiating, so large
// logits never overflow (logits of 1e4 give finite results). A slice that is
// all -inf gives logsumexp -inf (and NaN softmax, as in TensorFlow).
// axis may be negative; ValueError when it is out of range (so always for a
// rank-0 input) or the tensor is undefined. Results are new tensors.
#pragma once

#include "core/tensor.h"

namespace minidl::ops {

// exp(x - m) / sum(exp(x - m)) along axis, m the max along axis. Same shape as x.
Tensor softmax(const Tensor& x, int axis = -1);
// x - logsumexp(x) along axis, computed without forming softmax. Same shape as x.
Tensor log_softmax(const Tensor& x, int axis = -1);
// log(sum(exp(x))) along axis; keepdims as in ops/reduce.h.
Tensor logsumexp(const Tensor& x, int axis = -1, bool keepdims = false);

}  // namespace minidl::ops
