// ops/winograd_small_products.h — internal to ops/: the matrix products of Winograd
// convolutions whose groups are small, computed by minidl's own loops instead of sgemm.
//
// A grouped convolution with a few channels per group makes 36 * G tiny
// products per block of tiles, where sgemm's call and packing overhead
// outweighs the arithmetic (44% of a 4-group conv's time). These loops do
// the same products directly, 16 filters (one vector register) and 8 rows at
// a time, with the group's U_e / dU_e block resident in L1.
#pragma once

#include <cstdint>

namespace minidl::ops::winograd {

// CG * OCG at or below which the small-group loops are used (with OCG a multiple of 16).
constexpr int64_t kSmallGroupMacs = 32 * 32;
inline bool small_group(int64_t CG, int64_t OCG) { return CG * OCG <= kSmallGroupMacs && OCG % 16 == 0; }

// M [nb, OCG] (row stride ldm) = V [nb, CG] (row stride ldv) * U [CG, OCG]. Requires small_group.
void small_product(int64_t nb, int64_t CG, int64_t OCG, const float* V, int64_t ldv, const float* U, float* M,
                   int64_t ldm);

// dU [CG, OCG] += V^T [CG, nb] * W [nb, OCG]; V, W with row strides ldv, ldw. Requires small_group.
void small_product_tn(int64_t nb, int64_t CG, int64_t OCG, const float* V, int64_t ldv, const float* W,
                      int64_t ldw, float* dU);

}  // namespace minidl::ops::winograd
