// ops/softmax.cpp — the softmax family along one axis.
//
// The tensor is viewed as [outer, n, inner] with the softmax axis in the
// middle. With inner == 1 (the usual last axis) each row is contiguous; with
// inner > 1 the n values of one softmax are inner apart, so the loops run over
// whole contiguous rows of `inner` columns at once instead of striding.
//
// Stability: the per-softmax max m is subtracted before exp, so exp never sees
// a positive argument. When m is not finite (all -inf, or a +inf present) the
// shift is skipped: subtracting it would turn -inf - -inf into NaN.
#include "ops/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "core/scratch.h"
#include "core/threads.h"
#include "ops/parallel_grain.h"

namespace minidl::ops {
namespace {

enum class Mode { kSoftmax, kLogSoftmax, kLogSumExp };

struct View {
  int64_t outer = 1, n = 1, inner = 1;
};

View view_of(const Tensor& x, int axis, const char* who) {
  MINIDL_CHECK(x.defined(), ValueError, "{}: received an undefined tensor", who);
  MINIDL_CHECK(axis >= -x.rank() && axis < x.rank(), ValueError,
               "{}: axis {} is out of range for input of shape {} (rank {})", who, axis, shape_str(x.shape()),
               x.rank());
  const int ax = axis < 0 ? axis + x.rank() : axis;
  View v;
  for (int i = 0; i < ax; ++i) v.outer *= x.shape()[i];
  v.n = x.shape()[ax];
  for (int i = ax + 1; i < x.rank(); ++i) v.inner *= x.shape()[i];
  return v;
}

inline float shift_of(float m) { return std::isfinite(m) ? m : 0.f; }

// One contiguous row of n values. out holds n values, or 1 for kLogSumExp.
void row(Mode mode, const float* x, int64_t n, float* out) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t k = 0; k < n; ++k) m = std::max(m, x[k]);
  const float sh = shift_of(m);
  double s = 0;
  if (mode == Mode::kSoftmax) {
    for (int64_t k = 0; k < n; ++k) {
      out[k] = std::exp(x[k] - sh);
      s += out[k];
    }
    const float inv = static_cast<float>(1.0 / s);
    for (int64_t k = 0; k < n; ++k) out[k] *= inv;
    return;
  }
  for (int64_t k = 0; k < n; ++k) s += std::exp(x[k] - sh);
  const float lse = sh + static_cast<float>(std::log(s));
  if (mode == Mode::kLogSumExp) {
    *out = lse;
    return;
  }
  for (int64_t k = 0; k < n; ++k) out[k] = x[k] - lse;
}

// One [n, inner] block, softmax down the columns. out is [n, inner], or [inner] for kLogSumExp.
void block(Mode mode, const float* x, int64_t n, int64_t inner, float* out, std::vector<float>& m,
           std::vector<double>& s) {
  m.assign(inner, -std::numeric_limits<float>::infinity());
  s.assign(inner, 0.0);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t j = 0; j < inner; ++j) m[j] = std::max(m[j], x[k * inner + j]);
  for (int64_t j = 0; j < inner; ++j) m[j] = shift_of(m[j]);
  if (mode == Mode::kSoftmax) {
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < inner; ++j) {
        out[k * inner + j] = std::exp(x[k * inner + j] - m[j]);
        s[j] += out[k * inner + j];
      }
    for (int64_t j = 0; j < inner; ++j) s[j] = 1.0 / s[j];
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < inner; ++j) out[k * inner + j] *= static_cast<float>(s[j]);
    return;
  }
  for (int64_t k = 0; k < n; ++k)
    for (int64_t j = 0; j < inner; ++j) s[j] += std::exp(x[k * inner + j] - m[j]);
  for (int64_t j = 0; j < inner; ++j) m[j] += static_cast<float>(std::log(s[j]));  // m is now logsumexp
  if (mode == Mode::kLogSumExp) {
    std::copy(m.begin(), m.end(), out);
    return;
  }
  for (int64_t k = 0; k < n; ++k)
    for (int64_t j = 0; j < inner; ++j) out[k * inner + j] = x[k * inner + j] - m[j];
}

void run(Mode mode, const float* x, const View& v, float* out) {
  const int64_t out_n = mode == Mode::kLogSumExp ? 1 : v.n;  // values written per softmax
  parallel_for(
      v.outer,
      [&](int64_t b, int64_t e) {
        // Per-column scratch for block(), leased on the thread running this chunk.
        const ScratchLease<std::vector<float>> m;
        const ScratchLease<std::vector<double>> s;
        for (int64_t o = b; o < e; ++o) {
          const float* xo = x + o * v.n * v.inner;
          float* oo = out + o * out_n * v.inner;
          if (v.inner == 1)
            row(mode, xo, v.n, oo);
          else
            block(mode, xo, v.n, v.inner, oo, *m, *s);
        }
      },
      grain(Cost::kCompute, v.n * v.inner));
}

}  // namespace

Tensor softmax(const Tensor& x, int axis) {
  const View v = view_of(x, axis, "softmax");
  Tensor out(x.shape());
  if (out.numel()) run(Mode::kSoftmax, x.data(), v, out.data());
  return out;
}

Tensor log_softmax(const Tensor& x, int axis) {
  const View v = view_of(x, axis, "log_softmax");
  Tensor out(x.shape());
  if (out.numel()) run(Mode::kLogSoftmax, x.data(), v, out.data());
  return out;
}

Tensor logsumexp(const Tensor& x, int axis, bool keepdims) {
  const View v = view_of(x, axis, "logsumexp");
  Shape shape = x.shape();
  const int ax = axis < 0 ? axis + x.rank() : axis;
  if (keepdims)
    shape[ax] = 1;
  else
    shape.erase(shape.begin() + ax);
  Tensor out(shape);
  if (out.numel()) run(Mode::kLogSumExp, x.data(), v, out.data());
  return out;
}

}  // namespace minidl::ops
