// ops/transpose.h — axis permutations.
//
// Tensors are always contiguous, so a permutation is a copy into a new tensor.
// Axes that stay adjacent are copied as one; batches of 2-D transposes (which
// include NCHW <-> NHWC) are copied in cache-sized tiles, on several threads
// when large. Each function throws ValueError for an undefined tensor.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace minidl::ops {

// out.shape[i] = x.shape[perm[i]]; perm must be a permutation of 0..rank-1 (ValueError).
Tensor permute(const Tensor& x, const std::vector<int>& perm);

// Swap the last two axes of a rank>=2 tensor (ValueError for rank < 2).
Tensor transpose(const Tensor& x);

// The inverse permutation: inv[perm[i]] = i. ValueError if perm is not a permutation.
std::vector<int> inverse_permutation(const std::vector<int>& perm);

// NHWC <-> NCHW conversions, common enough to name (rank 4 required, ValueError otherwise).
inline Tensor nchw_to_nhwc(const Tensor& x) { return permute(x, {0, 2, 3, 1}); }
inline Tensor nhwc_to_nchw(const Tensor& x) { return permute(x, {0, 3, 1, 2}); }

}  // namespace minidl::ops
