// ops/transpose.h — axis permutations.
//
// Tensors are always contiguous, so a permutation is a copy into a new tensor.
// Axes that stay adjacent are copied as one; batches of 2-D transposes (which
// include NCHW <-> NHWC) are copied in cache-sized tiles, on several threads
// when large. Each function throws ValueError for an undefined tensor.
#pragma once

#include <initializer_list>
#include <span>
#include <vector>

#include "core/tensor.h"

namespace minidl::ops {

// out.shape[i] = x.shape[perm[i]]; perm must be a permutation of 0..rank-1 (ValueError).
// A braced list ({0, 2, 3, 1}) goes through the initializer_list overload, a
// std::vector or std::array through the span.
Tensor permute(const Tensor& x, std::span<const int> perm);
inline Tensor permute(const Tensor& x, std::initializer_list<int> perm) {
  return permute(x, std::span<const int>(perm.begin(), perm.size()));
}

// Swap the last two axes of a rank>=2 tensor (ValueError for rank < 2).
Tensor transpose(const Tensor& x);

// The inverse permutation: inv[perm[i]] = i. ValueError if perm is not a permutation.
std::vector<int> inverse_permutation(std::span<const int> perm);
inline std::vector<int> inverse_permutation(std::initializer_list<int> perm) {
  return inverse_permutation(std::span<const int>(perm.begin(), perm.size()));
}

// NHWC <-> NCHW conversions, common enough to name (rank 4 required, ValueError otherwise).
inline Tensor nchw_to_nhwc(const Tensor& x) { return permute(x, {0, 2, 3, 1}); }
inline Tensor nhwc_to_nchw(const Tensor& x) { return permute(x, {0, 3, 1, 2}); }

}  // namespace minidl::ops
