// ops/transpose.h — axis permutations.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace minidl::ops {

// out.shape[i] = x.shape[perm[i]]; perm must be a permutation of 0..rank-1 (ValueError).
Tensor permute(const Tensor& x, const std::vector<int>& perm);

// Swap the last two axes of a rank>=2 tensor.
Tensor transpose(const Tensor& x);

// The inverse permutation.
std::vector<int> inverse_permutation(const std::vector<int>& perm);

// NHWC <-> NCHW conversions, common enough to name.
inline Tensor nchw_to_nhwc(const Tensor& x) { return permute(x, {0, 2, 3, 1}); }
inline Tensor nhwc_to_nchw(const Tensor& x) { return permute(x, {0, 3, 1, 2}); }

}  // namespace minidl::ops
