// ops/softmax.h — numerically stable softmax family over one axis.
//
// Each subtracts the max along the axis before exponentiating, so large
// logits never overflow.
#pragma once

#include "core/tensor.h"

namespace minidl::ops {

Tensor softmax(const Tensor& x, int axis = -1);
Tensor log_softmax(const Tensor& x, int axis = -1);
// log(sum(exp(x))) along axis; keepdims as in ops/reduce.h.
Tensor logsumexp(const Tensor& x, int axis = -1, bool keepdims = false);

}  // namespace minidl::ops
