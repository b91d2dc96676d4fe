// ops/unary.cpp — unary element-wise maps declared in ops/elementwise.h.
//
// Each is ops/map.h's map over a small lambda, so the loop inlines and
// vectorises; only ops::map pays for std::function, by design (it is the
// escape hatch, not the hot path).
#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "ops/elementwise.h"
#include "ops/map.h"

namespace minidl::ops {
namespace {

// map_elements with the error naming the op.
template <class F>
Tensor unary(const Tensor& x, F f, const char* name, Cost cost = Cost::kMemory) {
  MINIDL_CHECK(x.defined(), ValueError, "{}: received an undefined tensor", name);
  Tensor out(x.shape());
  map_into(x.numel(), cost, f, out.data(), x.data());
  return out;
}

}  // namespace

// Serial on purpose: a user function may hold state that is not thread-safe.
Tensor map(const Tensor& x, const std::function<float(float)>& f) {
  MINIDL_CHECK(x.defined(), ValueError, "map: received an undefined tensor");
  MINIDL_CHECK(static_cast<bool>(f), ValueError, "map: received an empty function");
  Tensor out(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out[i] = f(x[i]);
  return out;
}

Tensor neg(const Tensor& x) {
  return unary(x, [](float v) { return -v; }, "neg");
}
Tensor exp(const Tensor& x) {
  return unary(x, [](float v) { return std::exp(v); }, "exp", Cost::kCompute);
}
Tensor log(const Tensor& x) {
  return unary(x, [](float v) { return std::log(v); }, "log", Cost::kCompute);
}
Tensor sqrt(const Tensor& x) {
  return unary(x, [](float v) { return std::sqrt(v); }, "sqrt", Cost::kCompute);
}
Tensor square(const Tensor& x) {
  return unary(x, [](float v) { return v * v; }, "square");
}
Tensor abs(const Tensor& x) {
  return unary(x, [](float v) { return std::fabs(v); }, "abs");
}
// NaN maps to NaN (tf.sign), zero to zero.
Tensor sign(const Tensor& x) {
  return unary(x, [](float v) { return v != v ? v : static_cast<float>((v > 0.f) - (v < 0.f)); }, "sign");
}

// Keras backend.clip raises hi to lo when hi < lo rather than failing.
Tensor clip(const Tensor& x, float lo, float hi) {
  MINIDL_CHECK(!std::isnan(lo) && !std::isnan(hi), ValueError, "clip: bounds must not be NaN, received [{}, {}]",
               lo, hi);
  if (hi < lo) hi = lo;
  return unary(x, [lo, hi](float v) { return std::min(std::max(v, lo), hi); }, "clip");
}

Tensor scale(const Tensor& x, float s) {
  return unary(x, [s](float v) { return s * v; }, "scale");
}
Tensor add_scalar(const Tensor& x, float s) {
  return unary(x, [s](float v) { return v + s; }, "add_scalar");
}

Tensor pow_scalar(const Tensor& x, float p) {
  if (p == 1.f) return unary(x, [](float v) { return v; }, "pow_scalar");
  if (p == 2.f) return square(x);
  return unary(x, [p](float v) { return std::pow(v, p); }, "pow_scalar", Cost::kCompute);
}

void axpy(float alpha, const Tensor& x, Tensor& y) {
  MINIDL_CHECK(x.defined() && y.defined() && x.numel() == y.numel(), ValueError,
               "axpy: x of shape {} and y of shape {} must have the same number of elements",
               x.defined() ? shape_str(x.shape()) : "undefined", y.defined() ? shape_str(y.shape()) : "undefined");
  map_into(x.numel(), Cost::kMemory, [alpha](float yi, float xi) { return yi + alpha * xi; }, y.data(), y.data(),
           x.data());
}

}  // namespace minidl::ops
