// autograd/functions_arith.cpp — broadcasting arithmetic: add, sub, mul, div, maximum, minimum, pow and the
// scalar forms. Each backward sums its gradient back to the input's shape.
#include <cmath>

#include "autograd/function_utils.h"
#include "autograd/functions.h"
#include "ops/elementwise.h"
#include "ops/map.h"

namespace minidl::autograd {

using detail::broadcast_to;
using detail::unbroadcast;
using ops::Cost;
using ops::map_elements;

Variable add(const Variable& a, const Variable& b) {
  return make_result(ops::add(a.value(), b.value()), {a, b}, "add",
                     [sa = a.shape(), sb = b.shape()](const Tensor& g, const std::vector<bool>& need) {
                       return Grads{need[0] ? unbroadcast(g, sa) : Tensor(),
                                                  need[1] ? unbroadcast(g, sb) : Tensor()};
                     });
}

Variable sub(const Variable& a, const Variable& b) {
  return make_result(ops::sub(a.value(), b.value()), {a, b}, "sub",
                     [sa = a.shape(), sb = b.shape()](const Tensor& g, const std::vector<bool>& need) {
                       return Grads{need[0] ? unbroadcast(g, sa) : Tensor(),
                                                  need[1] ? ops::neg(unbroadcast(g, sb)) : Tensor()};
                     });
}

Variable mul(const Variable& a, const Variable& b) {
  return make_result(ops::mul(a.value(), b.value()), {a, b}, "mul",
                     [av = a.value(), bv = b.value()](const Tensor& g, const std::vector<bool>& need) {
                       return Grads{need[0] ? unbroadcast(ops::mul(g, bv), av.shape()) : Tensor(),
                                                  need[1] ? unbroadcast(ops::mul(g, av), bv.shape()) : Tensor()};
                     });
}

Variable div(const Variable& a, const Variable& b) {
  Tensor y = ops::div(a.value(), b.value());
  // d/db (a/b) = -a/b^2 = -y/b, so the output stands in for a.
  return make_result(y, {a, b}, "div",
                     [sa = a.shape(), bv = b.value(), y](const Tensor& g, const std::vector<bool>& need) {
                       Grads out(2);
                       if (need[0]) out[0] = unbroadcast(ops::div(g, bv), sa);
                       if (need[1]) {
                         const Tensor gy = ops::mul(g, y);  // [broadcast shape]
                         out[1] = unbroadcast(ops::neg(ops::div(gy, bv)), bv.shape());
                       }
                       return out;
                     });
}

namespace {

// maximum/minimum share one backward: the gradient goes to a where a_wins.
template <class Wins>
Variable select(const Variable& a, const Variable& b, Tensor y, const char* name, Wins a_wins) {
  return make_result(std::move(y), {a, b}, name,
                     [av = a.value(), bv = b.value(), a_wins](const Tensor& g, const std::vector<bool>& need) {
                       const Tensor af = broadcast_to(av, g.shape());  // [broadcast shape]
                       const Tensor bf = broadcast_to(bv, g.shape());
                       Grads out(2);
                       if (need[0])
                         out[0] = unbroadcast(map_elements(g, af, bf, [&](float gi, float x, float z) {
                                                return a_wins(x, z) ? gi : 0.f;
                                              }),
                                              av.shape());
                       if (need[1])
                         out[1] = unbroadcast(map_elements(g, af, bf, [&](float gi, float x, float z) {
                                                return a_wins(x, z) ? 0.f : gi;
                                              }),
                                              bv.shape());
                       return out;
                     });
}

}  // namespace

Variable maximum(const Variable& a, const Variable& b) {
  return select(a, b, ops::maximum(a.value(), b.value()), "maximum", [](float x, float z) { return x >= z; });
}

Variable minimum(const Variable& a, const Variable& b) {
  return select(a, b, ops::minimum(a.value(), b.value()), "minimum", [](float x, float z) { return x <= z; });
}

Variable pow(const Variable& a, const Variable& b) {
  Tensor y = ops::pow(a.value(), b.value());
  return make_result(y, {a, b}, "pow", [av = a.value(), bv = b.value(), y](const Tensor& g, const std::vector<bool>& need) {
    const Tensor af = broadcast_to(av, g.shape());  // [broadcast shape]
    const Tensor bf = broadcast_to(bv, g.shape());
    Grads out(2);
    if (need[0]) {
      // b * a^(b-1), with the b == 0 case pinned to 0 so 0^0 does not give 0 * inf.
      const Tensor d = map_elements(
          af, bf, [](float x, float p) { return p == 0.f ? 0.f : p * std::pow(x, p - 1.f); }, Cost::kCompute);
      out[0] = unbroadcast(ops::mul(g, d), av.shape());
    }
    if (need[1]) {
      const Tensor d =
          map_elements(y, af, [](float yi, float x) { return x > 0.f ? yi * std::log(x) : 0.f; }, Cost::kCompute);
      out[1] = unbroadcast(ops::mul(g, d), bv.shape());
    }
    return out;
  });
}

Variable neg(const Variable& x) {
  return make_result(ops::neg(x.value()), {x}, "neg", [](const Tensor& g, const std::vector<bool>&) {
    return Grads{ops::neg(g)};
  });
}

Variable add_scalar(const Variable& x, float s) {
  return make_result(ops::add_scalar(x.value(), s), {x}, "add_scalar",
                     [](const Tensor& g, const std::vector<bool>&) { return Grads{g}; });
}

Variable mul_scalar(const Variable& x, float s) {
  return make_result(ops::scale(x.value(), s), {x}, "mul_scalar", [s](const Tensor& g, const std::vector<bool>&) {
    return Grads{ops::scale(g, s)};
  });
}

Variable pow_scalar(const Variable& x, float p) {
  return detail::unary_from_input(x, ops::pow_scalar(x.value(), p), "pow_scalar",
                                  [p](float xi) { return p == 0.f ? 0.f : p * std::pow(xi, p - 1.f); });
}

}  // namespace minidl::autograd
