// tests/ops/reference.h — naive double-precision references for the ops tests.
//
// Deliberately the slowest obvious loops: multi-index unravel/ravel and direct
// formulas, sharing no code with ops/.
#pragma once

#include <cstdint>
#include <vector>

#include "core/shape.h"
#include "core/tensor.h"

namespace minidl::testing {

// Row-major multi-index of a flat position.
inline std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    idx[i] = flat % shape[i];
    flat /= shape[i];
  }
  return idx;
}

inline int64_t ravel(const std::vector<int64_t>& idx, const Shape& shape) {
  int64_t flat = 0;
  for (size_t i = 0; i < shape.size(); ++i) flat = flat * shape[i] + idx[i];
  return flat;
}

// Flat index into `in` (right-aligned, size-1 axes broadcast) for an output multi-index.
inline int64_t broadcast_source(const std::vector<int64_t>& out_idx, const Shape& in) {
  const size_t off = out_idx.size() - in.size();
  int64_t flat = 0;
  for (size_t i = 0; i < in.size(); ++i) flat = flat * in[i] + (in[i] == 1 ? 0 : out_idx[i + off]);
  return flat;
}

// A tensor of doubles computed elementwise, rounded to float at the end.
inline Tensor to_tensor(const Shape& shape, const std::vector<double>& v) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(v[i]);
  return t;
}

}  // namespace minidl::testing
