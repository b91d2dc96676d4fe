// ops/batch_sum.h — sums over the batch whose result does not depend on how the batch is split.
//
// A gradient that sums over the samples of a batch (a kernel's, a bias's,
// BatchNormalization's gamma and beta) is computed per group of samples, and
// the groups' float partial sums are added pairwise: the first ceil(n/2)
// groups, the remaining ones, then the two halves (pairwise_sum). The group
// size comes from the per-sample work alone (samples_per_group), never from
// the batch size or the thread count. So the sum over a batch of 2k groups is
// the sum of two k-group halves, each computed exactly as a process holding
// only that half computes it: data-parallel replicas (train/distributed_fit.cpp)
// that each hold half of a batch, and whose gradients are then added, get the
// same bits as one process holding the whole batch (recursively, for any
// power-of-two number of replicas whose share is a whole number of groups).
// The same property makes these sums independent of the thread count.
#pragma once

#include <cstdint>

#include "core/threads.h"

namespace minidl::ops {

// Samples per group unless a caller says otherwise: replicas whose share of
// a batch is a multiple of this many samples sum to the same bits as one process.
constexpr int64_t kMaxSamplesPerGroup = 32;

// The largest power of two g <= max_samples with g * rows_per_sample <=
// rows_budget, at least 1: samples per group for a product whose rows come per sample.
int64_t samples_per_group(int64_t rows_per_sample, int64_t rows_budget, int64_t max_samples = kMaxSamplesPerGroup);

// per_group, doubled while the partial sums of the groups after the first
// (bytes_per_group each; the first is summed into the result) would pass
// max_bytes: a group size that still depends on the per-sample work alone
// below that cap.
int64_t fit_partials(int64_t per_group, int64_t samples, int64_t bytes_per_group,
                     int64_t max_bytes = int64_t{64} << 20);

// Groups of `per_group` samples covering `samples`: the last one may be short.
inline int64_t group_count(int64_t samples, int64_t per_group) {
  return samples <= 0 ? 0 : (samples + per_group - 1) / per_group;
}

// part(0)[i] = the pairwise sum over groups c < n of part(c)[i], i < count.
// part(c) for c > 0 is overwritten (it holds a subtree's sum afterwards).
void pairwise_sum(int64_t n, int64_t count, FunctionRef<float*(int64_t c)> part);

// out[0, count) = the pairwise sum over groups g < n of what produce(g, buffer)
// writes into its count-float buffer (every element), evaluated depth first:
// groups are produced in order, one at a time, and at most about log2(n) + 1
// partial sums are held at once (this thread's scratch). produce may use
// threads itself. out is produce's buffer for group 0.
void pairwise_groups(int64_t n, int64_t count, float* out, FunctionRef<void(int64_t g, float* buffer)> produce);

// out[j] = the pairwise sum, over groups of `rows_per_group` rows of x
// [rows, cols], of each group's sum of column j (in double, rounded to float
// once per group). A bias gradient.
void sum_rows_pairwise(const float* x, int64_t rows, int64_t cols, int64_t rows_per_group, float* out);

}  // namespace minidl::ops
