// autograd/functions_shape.cpp — matmul, reductions and shape functions.
//
// Their backwards move gradients around without element-wise math: transposed
// products, broadcasts back over reduced axes, inverse permutations and slices.
#include <algorithm>
#include <cstring>

#include "autograd/function_utils.h"
#include "autograd/functions.h"
#include "core/errors.h"
#include "ops/blas.h"
#include "ops/reduce.h"
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

// ops/ has no concatenation kernel, so the block copy lives here. Each input
// contributes, for every index over the leading axes, one contiguous run of
// shape[axis] * inner floats.
Variable concat(const std::vector<Variable>& xs, int axis) {
  MINIDL_CHECK(!xs.empty(), ValueError, "concat: expected at least one input, received none");
  const Shape& first = xs[0].shape();
  const int rank = static_cast<int>(first.size());
  MINIDL_CHECK(rank > 0, ValueError, "concat: inputs must have rank >= 1, received shape {}", shape_str(first));
  const int ax = normalize_axis(axis, rank);
  Shape out_shape = first;
  out_shape[ax] = 0;
  std::vector<int64_t> run(xs.size());  // floats per leading index, per input
  int64_t inner = 1, outer = 1;
  for (int d = ax + 1; d < rank; ++d) inner *= first[d];
  for (int d = 0; d < ax; ++d) outer *= first[d];
  for (size_t i = 0; i < xs.size(); ++i) {
    const Shape& s = xs[i].shape();
    bool ok = static_cast<int>(s.size()) == rank;
    for (int d = 0; ok && d < rank; ++d) ok = d == ax || s[d] == first[d];
    MINIDL_CHECK(ok, ValueError,
                 "concat: input {} has shape {}, incompatible with input 0's shape {} for concatenation on axis {}",
                 i, shape_str(s), shape_str(first), axis);
    out_shape[ax] += s[ax];
    run[i] = s[ax] * inner;
  }
  Tensor y(out_shape);  // [..., sum of shape[axis], ...]
  const int64_t out_run = out_shape[ax] * inner;
  int64_t offset = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const float* src = xs[i].value().data();
    for (int64_t o = 0; o < outer && run[i]; ++o)
      std::memcpy(y.data() + o * out_run + offset, src + o * run[i], sizeof(float) * run[i]);
    offset += run[i];
  }
  std::vector<Shape> shapes;
  for (const Variable& x : xs) shapes.push_back(x.shape());
  return make_result(std::move(y), xs, "concat",
                     [shapes, run, outer, out_run](const Tensor& g, const std::vector<bool>& need) {
                       Grads out(shapes.size());
                       int64_t off = 0;
                       for (size_t i = 0; i < shapes.size(); ++i) {
                         if (need[i]) {
                           out[i] = Tensor(shapes[i]);
                           for (int64_t o = 0; o < outer && run[i]; ++o)
                             std::memcpy(out[i].data() + o * run[i], g.data() + o * out_run + off,
                                         sizeof(float) * run[i]);
                         }
                         off += run[i];
                       }
                       return out;
                     });
}

}  // namespace minidl::autograd
