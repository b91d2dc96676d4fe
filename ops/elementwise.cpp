// ops/elementwise.cpp — binary element-wise ops with NumPy broadcasting.
//
// Every binary op runs through one strided loop. Before looping, adjacent axes
// that are contiguous in both operands are merged, which turns the common cases
// into tight one- or two-level loops the compiler vectorises:
//   same shape            -> [n]       strides a=1, b=1
//   scalar operand        -> [n]       strides a=1, b=0
//   bias over last axis   -> [R, P]    strides a=(P,1), b=(0,1)
// Anything else keeps its true rank and pays an index decomposition per row.
#include "ops/elementwise.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/parallel_grain.h"

namespace minidl::ops {
namespace {

struct AddOp {
  float operator()(float a, float b) const { return a + b; }
};
struct SubOp {
  float operator()(float a, float b) const { return a - b; }
};
struct MulOp {
  float operator()(float a, float b) const { return a * b; }
};
struct DivOp {
  float operator()(float a, float b) const { return a / b; }
};
// NaN in either operand propagates, as tf.maximum/tf.minimum do.
struct MaxOp {
  float operator()(float a, float b) const { return (a > b || a != a) ? a : b; }
};
struct MinOp {
  float operator()(float a, float b) const { return (a < b || a != a) ? a : b; }
};
struct PowOp {
  float operator()(float a, float b) const { return std::pow(a, b); }
};

// The broadcast problem after merging axes: out has dims_, operands step by sa_/sb_.
// Shapes rather than vectors: their dimensions are stored inline, so planning
// an op allocates nothing.
struct Plan {
  Shape dims, sa, sb;
};

Plan make_plan(const Shape& out, const Shape& a, const Shape& b) {
  const size_t r = out.size();
  Plan p;
  auto stride_of = [&](const Shape& s, Shape& st) {
    st.assign(r, 0);
    int64_t acc = 1;
    for (size_t i = s.size(); i-- > 0;) {
      const size_t o = i + (r - s.size());
      st[o] = s[i] == 1 ? 0 : acc;  // size-1 axes broadcast: stride 0
      acc *= s[i];
    }
  };
  Shape sa, sb;
  stride_of(a, sa);
  stride_of(b, sb);
  for (size_t i = 0; i < r; ++i) {
    if (out[i] == 1) continue;  // contributes nothing to indexing
    if (!p.dims.empty() && p.sa.back() == sa[i] * out[i] && p.sb.back() == sb[i] * out[i]) {
      p.dims.back() *= out[i];
      p.sa.back() = sa[i];
      p.sb.back() = sb[i];
    } else {
      p.dims.push_back(out[i]);
      p.sa.push_back(sa[i]);
      p.sb.push_back(sb[i]);
    }
  }
  if (p.dims.empty()) p = Plan{{1}, {0}, {0}};
  return p;
}

// out[j] = f(a[j*sa], b[j*sb]) for j < n, with the unit/zero strides split out
// so each variant is a plain vectorisable loop.
template <class F>
inline void inner(F f, int64_t n, const float* a, int64_t sa, const float* b, int64_t sb, float* out) {
  if (sa == 1 && sb == 1) {
    for (int64_t j = 0; j < n; ++j) out[j] = f(a[j], b[j]);
  } else if (sa == 1 && sb == 0) {
    const float s = *b;
    for (int64_t j = 0; j < n; ++j) out[j] = f(a[j], s);
  } else if (sa == 0 && sb == 1) {
    const float s = *a;
    for (int64_t j = 0; j < n; ++j) out[j] = f(s, b[j]);
  } else {
    for (int64_t j = 0; j < n; ++j) out[j] = f(a[j * sa], b[j * sb]);
  }
}

// The broadcast loop: rows of the innermost merged axis, split over threads by
// the grain rule of ops/parallel_grain.h (one row is n elements of `cost`).
template <class F>
void run(F f, const Plan& p, const float* a, const float* b, float* out, Cost cost = Cost::kMemory) {
  const size_t r = p.dims.size();
  const int64_t n = p.dims.back(), sa = p.sa.back(), sb = p.sb.back();
  if (r == 1) {
    parallel_for(
        n, [&](int64_t s, int64_t e) { inner(f, e - s, a + s * sa, sa, b + s * sb, sb, out + s); },
        grain(cost));
    return;
  }
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < r; ++i) rows *= p.dims[i];
  parallel_for(
      rows,
      [&](int64_t s, int64_t e) {
        for (int64_t row = s; row < e; ++row) {
          int64_t oa = 0, ob = 0, rem = row;
          for (size_t i = r - 1; i-- > 0;) {
            const int64_t c = rem % p.dims[i];
            rem /= p.dims[i];
            oa += c * p.sa[i];
            ob += c * p.sb[i];
          }
          inner(f, n, a + oa, sa, b + ob, sb, out + row * n);
        }
      },
      grain(cost, n));
}

}  // namespace

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  MINIDL_CHECK(a.defined() && b.defined(), ValueError, "binary op: received an undefined tensor ({} and {})",
               a.defined() ? shape_str(a.shape()) : "undefined", b.defined() ? shape_str(b.shape()) : "undefined");
  const Shape out_shape = broadcast_shapes(a.shape(), b.shape());
  Tensor out(out_shape);
  if (out.numel() == 0) return out;
  const Plan p = make_plan(out_shape, a.shape(), b.shape());
  switch (op) {
    case BinaryOp::kAdd: run(AddOp{}, p, a.data(), b.data(), out.data()); break;
    case BinaryOp::kSub: run(SubOp{}, p, a.data(), b.data(), out.data()); break;
    case BinaryOp::kMul: run(MulOp{}, p, a.data(), b.data(), out.data()); break;
    case BinaryOp::kDiv: run(DivOp{}, p, a.data(), b.data(), out.data()); break;
    case BinaryOp::kMax: run(MaxOp{}, p, a.data(), b.data(), out.data()); break;
    case BinaryOp::kMin: run(MinOp{}, p, a.data(), b.data(), out.data()); break;
    case BinaryOp::kPow: run(PowOp{}, p, a.data(), b.data(), out.data(), Cost::kCompute); break;
    default: raise<ValueError>("binary op: unknown BinaryOp value {}", static_cast<int>(op));
  }
  return out;
}

}  // namespace minidl::ops
