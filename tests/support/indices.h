// tests/support/indices.h — multi-index arithmetic for naive loops over
// row-major tensors: flat <-> multi-index, broadcasting, and 4-D tensors in
// either data format.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/shape.h"
#include "core/tensor.h"

namespace minidl::testing {

// Row-major multi-index of a flat position.
inline std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

// Flat position of a row-major multi-index.
inline int64_t ravel(const std::vector<int64_t>& idx, const Shape& shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + idx[d];
  return flat;
}

// The broadcast shape, aligned from the right; the shapes must be compatible.
inline Shape broadcast_shape(const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i + a.size() >= r ? a[i + a.size() - r] : 1;
    const int64_t db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    out[i] = std::max(da, db);
  }
  return out;
}

// Flat index into `in` (right-aligned, size-1 axes broadcast) read by output multi-index `out_idx`.
inline int64_t broadcast_source(const std::vector<int64_t>& out_idx, const Shape& in) {
  const size_t off = out_idx.size() - in.size();
  int64_t flat = 0;
  for (size_t d = 0; d < in.size(); ++d) flat = flat * in[d] + (in[d] == 1 ? 0 : out_idx[d + off]);
  return flat;
}

// The 4-D shape of (n, h, w, c) in channels_first (n, c, h, w) or channels_last order.
inline Shape layout_shape(bool channels_first, int64_t n, int64_t h, int64_t w, int64_t c) {
  return channels_first ? Shape{n, c, h, w} : Shape{n, h, w, c};
}

// Flat index of element (n, h, w, c) of a 4-D tensor of shape s in either data format.
inline int64_t index4(const Shape& s, bool channels_first, int64_t n, int64_t h, int64_t w, int64_t c) {
  return channels_first ? ((n * s[1] + c) * s[2] + h) * s[3] + w : ((n * s[1] + h) * s[2] + w) * s[3] + c;
}

// Element (n, h, w, c) of a 4-D tensor in either data format.
inline double at4(const Tensor& t, bool channels_first, int64_t n, int64_t h, int64_t w, int64_t c) {
  return t[index4(t.shape(), channels_first, n, h, w, c)];
}

}  // namespace minidl::testing
