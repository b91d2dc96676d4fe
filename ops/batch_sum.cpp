// ops/batch_sum.cpp — pairwise sums of per-group partials (ops/batch_sum.h).
#include "ops/batch_sum.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "core/errors.h"
#include "core/scratch.h"

namespace minidl::ops {

namespace {

// The spare partial sums of pairwise_groups: uninitialised floats kept with
// their capacity between leases (a vector's resize would zero them each call).
struct SpareFloats {
  std::unique_ptr<float[]> data;
  int64_t capacity = 0;
  float* get(int64_t n) {
    if (n > capacity) {
      data = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(n));
      capacity = n;
    }
    return data.get();
  }
};

}  // namespace
}  // namespace minidl::ops

namespace minidl {
template <>
struct ScratchReset<ops::SpareFloats> {
  void operator()(ops::SpareFloats&) const {}  // the floats are overwritten before they are read
};
}  // namespace minidl

namespace minidl::ops {

namespace {

// Below this many floats an add runs on the calling thread.
constexpr int64_t kMinFloatsPerThread = int64_t{1} << 15;

// a[i] += b[i]: element-wise, so any split across threads gives the same bits.
void add_into(float* a, const float* b, int64_t count) {
  parallel_for(
      count,
      [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) a[i] += b[i];
      },
      kMinFloatsPerThread);
}

// The halving split shared by both sums: [lo, mid) and [mid, hi).
int64_t middle(int64_t lo, int64_t hi) { return lo + (hi - lo + 1) / 2; }

void tree(int64_t lo, int64_t hi, int64_t count, FunctionRef<float*(int64_t)> part) {
  if (hi - lo < 2) return;
  const int64_t mid = middle(lo, hi);
  tree(lo, mid, count, part);
  tree(mid, hi, count, part);
  add_into(part(lo), part(mid), count);
}

// The sum over groups [lo, hi) into out; `depth` picks this level's spare buffer.
void produce_tree(int64_t lo, int64_t hi, int64_t count, float* out, float* spare, int64_t depth,
                  FunctionRef<void(int64_t, float*)> produce) {
  if (hi - lo == 1) {
    produce(lo, out);
    return;
  }
  const int64_t mid = middle(lo, hi);
  produce_tree(lo, mid, count, out, spare, depth + 1, produce);
  float* right = spare + depth * count;
  produce_tree(mid, hi, count, right, spare, depth + 1, produce);
  add_into(out, right, count);
}

}  // namespace

int64_t samples_per_group(int64_t rows_per_sample, int64_t rows_budget, int64_t max_samples) {
  int64_t g = 1;
  while (g * 2 <= max_samples && (rows_per_sample <= 0 || g * 2 * rows_per_sample <= rows_budget)) g *= 2;
  return g;
}

int64_t fit_partials(int64_t per_group, int64_t samples, int64_t bytes_per_group, int64_t max_bytes) {
  while (group_count(samples, per_group) > 1 && (group_count(samples, per_group) - 1) * bytes_per_group > max_bytes)
    per_group *= 2;
  return per_group;
}

void pairwise_sum(int64_t n, int64_t count, FunctionRef<float*(int64_t c)> part) {
  if (count > 0) tree(0, n, count, part);
}

void pairwise_groups(int64_t n, int64_t count, float* out, FunctionRef<void(int64_t g, float* buffer)> produce) {
  MINIDL_CHECK(n >= 1 && count >= 0, ValueError, "pairwise_groups: expected n >= 1 and count >= 0, received {} and {}",
               n, count);
  // One spare buffer per level below the root: the depth of the halving tree.
  int64_t levels = 0;
  for (int64_t span = n; span > 1; span = (span + 1) / 2) ++levels;
  const ScratchLease<SpareFloats> spare;
  produce_tree(0, n, count, out, spare->get(levels * count), 0, produce);
}

void sum_rows_pairwise(const float* x, int64_t rows, int64_t cols, int64_t rows_per_group, float* out) {
  MINIDL_CHECK(rows >= 0 && cols >= 0 && rows_per_group >= 1, ValueError,
               "sum_rows_pairwise: expected rows >= 0, cols >= 0 and rows_per_group >= 1, received {}, {} and {}",
               rows, cols, rows_per_group);
  if (rows == 0) {
    std::fill_n(out, cols, 0.f);
    return;
  }
  const ScratchLease<std::vector<double>> sums;
  sums->resize(static_cast<size_t>(cols));
  pairwise_groups(group_count(rows, rows_per_group), cols, out, [&](int64_t g, float* part) {
    double* s = sums->data();
    std::fill_n(s, cols, 0.0);
    const int64_t r1 = std::min(rows, (g + 1) * rows_per_group);
    for (int64_t r = g * rows_per_group; r < r1; ++r)
      for (int64_t j = 0; j < cols; ++j) s[j] += x[r * cols + j];
    for (int64_t j = 0; j < cols; ++j) part[j] = static_cast<float>(s[j]);
  });
}

}  // namespace minidl::ops
