// ops/reduce.cpp — reductions over any set of axes.
//
// The input is contiguous, so after dropping size-1 axes and merging runs of
// adjacent axes that are all reduced or all kept, any reduction becomes an
// alternation of "kept" and "reduced" groups. The innermost group decides the
// loop: a reduced innermost group is a dot-like scan into one accumulator, a
// kept innermost group is a vectorisable out[j] op= in[j] sweep.
#include "ops/reduce.h"

#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <span>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/elementwise.h"
#include "ops/parallel_grain.h"

namespace minidl::ops {
namespace {

enum class Kind { kSum, kMax, kMin };

// Which axes are reduced, one bit per axis. A reduction runs several times per
// training step, so its bookkeeping lives on the stack: no allocation.
constexpr int kMaxRank = 64;
struct AxisMask {
  uint64_t bits = 0;
  bool operator[](size_t i) const { return (bits >> i) & 1u; }
};

AxisMask reduced_mask(const Shape& x, std::span<const int> axes) {
  const int r = static_cast<int>(x.size());
  MINIDL_CHECK(r <= kMaxRank, ValueError, "reduce: rank {} exceeds the supported {}", r, kMaxRank);
  AxisMask mask;
  if (axes.empty()) mask.bits = r == kMaxRank ? ~uint64_t{0} : (uint64_t{1} << r) - 1;
  for (int a : axes) {
    MINIDL_CHECK(a >= -r && a < r, ValueError, "reduce: axis {} is out of range for input of shape {} (rank {})", a,
                 shape_str(x), r);
    const int n = a < 0 ? a + r : a;
    MINIDL_CHECK(!mask[n], ValueError, "reduce: axis {} appears more than once in the axes for input of shape {}", a,
                 shape_str(x));
    mask.bits |= uint64_t{1} << n;
  }
  return mask;
}

struct Group {
  int64_t n, in_stride, out_stride;
  bool reduced;
};

// Runs of merged axes (at most one per axis).
struct Groups {
  std::array<Group, kMaxRank> g;
  size_t count = 0;
  size_t size() const { return count; }
  bool empty() const { return count == 0; }
  Group& operator[](size_t i) { return g[i]; }
  const Group& operator[](size_t i) const { return g[i]; }
  Group& front() { return g[0]; }
  const Group& front() const { return g[0]; }
  Group& back() { return g[count - 1]; }
  const Group& back() const { return g[count - 1]; }
  void push_back(const Group& x) { g[count++] = x; }
};

Groups make_groups(const Shape& x, const AxisMask& mask) {
  Groups g;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == 1) continue;
    if (!g.empty() && g.back().reduced == mask[i])
      g.back().n *= x[i];
    else
      g.push_back({x[i], 0, 0, mask[i]});
  }
  if (g.empty()) g.push_back({1, 0, 0, false});
  int64_t in = 1, out = 1;
  for (size_t i = g.size(); i-- > 0;) {
    g[i].in_stride = in;
    in *= g[i].n;
    g[i].out_stride = g[i].reduced ? 0 : out;
    if (!g[i].reduced) out *= g[i].n;
  }
  return g;
}

// Combines a scan of n contiguous values into *acc.
template <class Acc>
void scan(Kind kind, const float* in, int64_t n, Acc* acc) {
  if (kind == Kind::kSum) {
    // Four independent partial sums break the add latency chain.
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
      s0 += in[j];
      s1 += in[j + 1];
      s2 += in[j + 2];
      s3 += in[j + 3];
    }
    for (; j < n; ++j) s0 += in[j];
    *acc += static_cast<Acc>((s0 + s1) + (s2 + s3));
  } else if (kind == Kind::kMax) {
    Acc m = *acc;
    for (int64_t j = 0; j < n; ++j) m = (in[j] > m || in[j] != in[j]) ? in[j] : m;
    *acc = m;
  } else {
    Acc m = *acc;
    for (int64_t j = 0; j < n; ++j) m = (in[j] < m || in[j] != in[j]) ? in[j] : m;
    *acc = m;
  }
}

// Combines n contiguous values into n contiguous accumulators.
template <class Acc>
void sweep(Kind kind, const float* in, int64_t n, Acc* acc) {
  if (kind == Kind::kSum) {
    for (int64_t j = 0; j < n; ++j) acc[j] += in[j];
  } else if (kind == Kind::kMax) {
    for (int64_t j = 0; j < n; ++j) acc[j] = (in[j] > acc[j] || in[j] != in[j]) ? in[j] : acc[j];
  } else {
    for (int64_t j = 0; j < n; ++j) acc[j] = (in[j] < acc[j] || in[j] != in[j]) ? in[j] : acc[j];
  }
}

template <class Acc>
void reduce_into(Kind kind, const float* x, const Groups& g, Acc* acc) {
  const Group& last = g.back();
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < g.size(); ++i) rows *= g[i].n;
  auto do_rows = [&](int64_t s, int64_t e) {
    for (int64_t row = s; row < e; ++row) {
      int64_t in_off = 0, out_off = 0, rem = row;
      for (size_t i = g.size() - 1; i-- > 0;) {
        const int64_t c = rem % g[i].n;
        rem /= g[i].n;
        in_off += c * g[i].in_stride;
        out_off += c * g[i].out_stride;
      }
      if (last.reduced)
        scan(kind, x + in_off, last.n, acc + out_off);
      else
        sweep(kind, x + in_off, last.n, acc + out_off);
    }
  };
  // Threads may only split the outermost group when it is kept: then each
  // chunk owns disjoint outputs and no accumulator is shared.
  if (g.size() > 1 && !g.front().reduced) {
    const int64_t per = rows / g.front().n;
    parallel_for(
        g.front().n, [&](int64_t s, int64_t e) { do_rows(s * per, e * per); },
        grain(Cost::kMemory, per * last.n));
  } else {
    do_rows(0, rows);
  }
}

Tensor reduce(Kind kind, const Tensor& x, std::span<const int> axes, bool keepdims, bool mean) {
  MINIDL_CHECK(x.defined(), ValueError, "reduce: received an undefined tensor");
  const AxisMask mask = reduced_mask(x.shape(), axes);
  Tensor out(reduced_shape(x.shape(), axes, keepdims));
  const int64_t count = out.numel() ? x.numel() / out.numel() : 0;
  if (out.numel() == 0) return out;
  const Groups g = make_groups(x.shape(), mask);
  if (kind == Kind::kSum) {
    // Accumulate in double: a float running sum over ~1e6 terms loses digits.
    // The accumulators borrow a block from the tensor cache (two floats per double).
    const std::shared_ptr<float[]> block = aligned_floats(2 * out.numel());
    double* acc = reinterpret_cast<double*>(block.get());
    std::fill_n(acc, out.numel(), 0.0);
    if (x.numel()) reduce_into(kind, x.data(), g, acc);
    const double div = mean ? static_cast<double>(count) : 1.0;
    for (int64_t i = 0; i < out.numel(); ++i) out[i] = static_cast<float>(acc[i] / div);
  } else {
    // Empty reductions give -inf / +inf, the identities tf.reduce_max/min return.
    out.fill(kind == Kind::kMax ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity());
    if (x.numel()) reduce_into(kind, x.data(), g, out.data());
  }
  return out;
}

}  // namespace

Shape reduced_shape(const Shape& x, std::span<const int> axes, bool keepdims) {
  const AxisMask mask = reduced_mask(x, axes);
  Shape out;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!mask[i])
      out.push_back(x[i]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

Tensor sum(const Tensor& x, std::span<const int> axes, bool keepdims) {
  return reduce(Kind::kSum, x, axes, keepdims, false);
}
Tensor mean(const Tensor& x, std::span<const int> axes, bool keepdims) {
  return reduce(Kind::kSum, x, axes, keepdims, true);
}
Tensor max(const Tensor& x, std::span<const int> axes, bool keepdims) {
  return reduce(Kind::kMax, x, axes, keepdims, false);
}
Tensor min(const Tensor& x, std::span<const int> axes, bool keepdims) {
  return reduce(Kind::kMin, x, axes, keepdims, false);
}

Tensor argmax(const Tensor& x, int axis) {
  MINIDL_CHECK(x.defined(), ValueError, "argmax: received an undefined tensor");
  MINIDL_CHECK(x.rank() >= 1, ValueError, "argmax: expected a tensor of rank >= 1, received shape {}",
               shape_str(x.shape()));
  MINIDL_CHECK(axis >= -x.rank() && axis < x.rank(), ValueError,
               "argmax: axis {} is out of range for input of shape {} (rank {})", axis, shape_str(x.shape()),
               x.rank());
  const int ax = axis < 0 ? axis + x.rank() : axis;
  const int64_t n = x.shape()[ax];
  Tensor out(reduced_shape(x.shape(), {ax}, false));
  if (out.numel() == 0) return out;
  MINIDL_CHECK(n > 0, ValueError, "argmax: axis {} of shape {} is empty", axis, shape_str(x.shape()));
  int64_t inner = 1;
  for (int i = ax + 1; i < x.rank(); ++i) inner *= x.shape()[i];
  const int64_t outer = out.numel() / inner;
  // Ties keep the first index; a NaN wins and the first NaN is kept (NumPy's rule).
  for (int64_t o = 0; o < outer; ++o) {
    const float* base = x.data() + o * n * inner;
    for (int64_t j = 0; j < inner; ++j) {
      float best = base[j];
      int64_t at = 0;
      for (int64_t k = 1; k < n && best == best; ++k) {
        const float v = base[k * inner + j];
        if (v > best || v != v) {
          best = v;
          at = k;
        }
      }
      out[o * inner + j] = static_cast<float>(at);
    }
  }
  return out;
}

Tensor reduce_to_shape(const Tensor& t, const Shape& shape) {
  MINIDL_CHECK(t.defined(), ValueError, "reduce_to_shape: received an undefined tensor");
  const int r = t.rank(), rs = static_cast<int>(shape.size());
  bool ok = rs <= r;
  // The summed axes, on the stack: sum() supports at most kMaxRank axes.
  std::array<int, kMaxRank> axes_buf;
  size_t count = 0;
  auto push = [&](int i) {
    MINIDL_CHECK(count < axes_buf.size(), ValueError, "reduce: rank {} exceeds the supported {}", r, kMaxRank);
    axes_buf[count++] = i;
  };
  for (int i = 0; ok && i < r; ++i) {
    const int j = i - (r - rs);
    if (j < 0) {
      push(i);  // leading axis added by broadcasting
    } else if (shape[j] == 1 && t.shape()[i] != 1) {
      push(i);
    } else if (shape[j] != t.shape()[i]) {
      ok = false;
    }
  }
  MINIDL_CHECK(ok, ValueError, "reduce_to_shape: a tensor of shape {} is not a broadcast of target shape {}",
               shape_str(t.shape()), shape_str(shape));
  if (count == 0) return t.clone().reshape(shape);
  return sum(t, std::span<const int>(axes_buf.data(), count), true).reshape(shape);
}

}  // namespace minidl::ops
