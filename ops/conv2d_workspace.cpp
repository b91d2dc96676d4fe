// ops/conv2d_workspace.cpp — Conv2DWorkspace's buffers and the pairwise sums of chunked gradients.
#include "ops/conv2d_workspace.h"

#include <algorithm>
#include <vector>

#include "core/errors.h"
#include "core/memory.h"
#include "core/scratch.h"
#include "ops/batch_sum.h"

namespace minidl::ops {

Conv2DWorkspace::Conv2DWorkspace(int64_t max_col_bytes, int64_t min_tile_rows)
    : max_col_bytes_(1), min_tile_rows_(1) {
  set_max_col_bytes(max_col_bytes);
  set_min_tile_rows(min_tile_rows);
}

Conv2DWorkspace& Conv2DWorkspace::operator=(const Conv2DWorkspace& other) {
  if (this != &other) *this = Conv2DWorkspace(other);
  return *this;
}

void Conv2DWorkspace::set_max_col_bytes(int64_t bytes) {
  MINIDL_CHECK(bytes >= 1, ValueError, "Conv2DWorkspace: expected max_col_bytes >= 1, received {}", bytes);
  max_col_bytes_ = bytes;
}

void Conv2DWorkspace::set_min_tile_rows(int64_t rows) {
  MINIDL_CHECK(rows >= 1, ValueError, "Conv2DWorkspace: expected min_tile_rows >= 1, received {}", rows);
  min_tile_rows_ = rows;
}

float* Conv2DWorkspace::floats(int64_t n) {
  if (n > capacity_) {
    buffer_ = aligned_floats(n);
    capacity_ = n;
  }
  return buffer_.get();
}

double* Conv2DWorkspace::doubles(int64_t n) {
  if (static_cast<int64_t>(sums_.size()) < n) sums_.resize(static_cast<size_t>(n));
  return sums_.data();
}

float* Conv2DWorkspace::kernel_transform(const KernelKey& key, int64_t n, bool& valid) {
  if (n > transform_capacity_) {
    transform_ = aligned_floats(n);
    transform_capacity_ = n;
    transform_key_ = KernelKey{};
  }
  valid = key.version != 0 && key == transform_key_;
  // Until the caller has filled it, the buffer holds no kernel's transform.
  transform_key_ = valid ? key : KernelKey{};
  return transform_.get();
}

void Conv2DWorkspace::mark_kernel_transform(const KernelKey& key) { transform_key_ = key; }

void sum_chunk_bias(const double* sums, int64_t chunks, int64_t OC, float* dbias) {
  // Each chunk's sum rounded to float, then the chunks pairwise: what a
  // replica holding some of the chunks contributes is one of the subtrees.
  if (chunks <= 0) {
    std::fill_n(dbias, OC, 0.f);
    return;
  }
  const ScratchLease<std::vector<float>> parts;
  parts->resize(static_cast<size_t>(std::max<int64_t>(chunks - 1, 0) * OC));
  for (int64_t c = 0; c < chunks; ++c) {
    float* dst = c == 0 ? dbias : parts->data() + (c - 1) * OC;
    for (int64_t o = 0; o < OC; ++o) dst[o] = static_cast<float>(sums[c * OC + o]);
  }
  add_chunk_partials(parts->data(), chunks - 1, OC, OC, dbias);
}

void add_chunk_partials(float* parts, int64_t chunks, int64_t stride, int64_t count, float* total) {
  pairwise_sum(chunks + 1, count, [&](int64_t c) { return c == 0 ? total : parts + (c - 1) * stride; });
}

}  // namespace minidl::ops
