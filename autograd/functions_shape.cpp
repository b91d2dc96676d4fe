// autograd/functions_shape.cpp — matmul, reductions and shape functions.
//
// Their backwards move gradients around without element-wise math: transposed
// products, broadcasts back over reduced axes, inverse permutations and slices.
#include <algorithm>

#include "autograd/function_utils.h"
#include "autograd/functions.h"
#include "core/errors.h"
#include "ops/blas.h"
#include "ops/reduce.h"
#include "ops/spatial.h"
#include "ops/transpose.h"

namespace minidl::autograd {

Variable matmul(const Variable& a, const Variable& b) {
  return make_result(ops::matmul(a.value(), b.value()), {a, b}, "matmul",
                     [av = a.value(), bv = b.value()](const Tensor& g, const std::vector<bool>& need) {
                       Grads out(2);
                       if (need[0]) out[0] = ops::matmul(g, bv, false, true);  // [M,N] x [K,N]^T = [M,K]
                       if (need[1]) out[1] = ops::matmul(av, g, true, false);  // [M,K]^T x [M,N] = [K,N]
                       return out;
                     });
}

namespace {

// g (the reduced gradient) spread back over x_shape, times `scale`. `kept` is
// the reduced shape with keepdims (reduced axes as 1); closures keep it rather
// than the axes list, since a Shape copies without allocating.
Tensor spread(const Tensor& g, const Shape& x_shape, const Shape& kept, float scale) {
  Tensor full = ops::add(g.reshape(kept), Tensor::zeros(x_shape));  // [x_shape]
  return scale == 1.f ? full : ops::scale(full, scale);
}

}  // namespace

Variable sum(const Variable& x, std::span<const int> axes, bool keepdims) {
  Tensor y = ops::sum(x.value(), axes, keepdims);
  return make_result(std::move(y), {x}, "sum",
                     [sx = x.shape(), kept = ops::reduced_shape(x.shape(), axes, true)](const Tensor& g,
                                                                                         const std::vector<bool>&) {
                       return Grads{spread(g, sx, kept, 1.f)};
                     });
}

Variable mean(const Variable& x, std::span<const int> axes, bool keepdims) {
  Tensor y = ops::mean(x.value(), axes, keepdims);
  const int64_t count = y.numel() ? x.value().numel() / y.numel() : 0;
  const float scale = count ? 1.f / static_cast<float>(count) : 0.f;
  return make_result(std::move(y), {x}, "mean",
                     [sx = x.shape(), kept = ops::reduced_shape(x.shape(), axes, true), scale](
                         const Tensor& g, const std::vector<bool>&) {
                       return Grads{spread(g, sx, kept, scale)};
                     });
}

Variable reshape(const Variable& x, const Shape& shape) {
  return make_result(x.value().reshape(shape), {x}, "reshape", [sx = x.shape()](const Tensor& g, const std::vector<bool>&) {
    return Grads{g.reshape(sx)};
  });
}

Variable permute(const Variable& x, std::span<const int> perm) {
  Tensor y = ops::permute(x.value(), perm);
  return make_result(std::move(y), {x}, "permute",
                     [inv = ops::inverse_permutation(perm)](const Tensor& g, const std::vector<bool>&) {
                       return Grads{ops::permute(g, inv)};
                     });
}

Variable transpose(const Variable& x) {
  return make_result(ops::transpose(x.value()), {x}, "transpose", [](const Tensor& g, const std::vector<bool>&) {
    return Grads{ops::transpose(g)};
  });
}

// The join is ops::concat (which checks the shapes); the gradient of each
// input is its slice of the output gradient along the same axis.
Variable concat(const std::vector<Variable>& xs, int axis) {
  std::vector<Tensor> values;
  values.reserve(xs.size());
  for (const Variable& x : xs) values.push_back(x.value());
  Tensor y = ops::concat(values, axis);
  const int ax = normalize_axis(axis, static_cast<int>(y.rank()));
  std::vector<int64_t> sizes;  // each input's extent on the axis
  sizes.reserve(xs.size());
  for (const Variable& x : xs) sizes.push_back(x.shape()[ax]);
  return make_result(std::move(y), xs, "concat", [sizes, ax](const Tensor& g, const std::vector<bool>& need) {
    Grads out(sizes.size());
    int64_t begin = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (need[i]) out[i] = ops::slice_axis(g, ax, begin, sizes[i]);
      begin += sizes[i];
    }
    return out;
  });
}

}  // namespace minidl::autograd
