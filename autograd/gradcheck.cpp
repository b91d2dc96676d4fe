// Central-difference gradient checking.
//
// A non-scalar output is reduced to <r, f(x)> with a fixed random r, so one
// backward gives the analytic gradient of that projection; the same sum is
// evaluated in double for every perturbed input element.
#include "autograd/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "core/errors.h"

namespace minidl::autograd {

namespace {

constexpr uint64_t kProjectionSeed = 0x9c0ffee;

double project(const Tensor& y, const Tensor& r) {
  double s = 0;
  for (int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y[i]) * static_cast<double>(r[i]);
  return s;
}

// Row-major multi-index of `flat` in `shape`, as "(i, j, k)".
std::string index_str(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return shape_str(idx);
}

}  // namespace

GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& f,
                          const std::vector<Variable>& inputs, GradcheckOptions opts) {
  MINIDL_CHECK(opts.eps > 0, ValueError, "gradcheck: eps must be positive, received {}", opts.eps);
  std::vector<Variable> checked;
  std::vector<size_t> checked_index;
  for (size_t i = 0; i < inputs.size(); ++i) {
    MINIDL_CHECK(inputs[i].defined(), ValueError, "gradcheck: input {} is an undefined Variable", i);
    MINIDL_CHECK(inputs[i].is_leaf(), ValueError, "gradcheck: input {} ('{}') is not a leaf", i, inputs[i].name());
    if (inputs[i].requires_grad()) {
      checked.push_back(inputs[i]);
      checked_index.push_back(i);
    }
  }
  MINIDL_CHECK(!checked.empty(), ValueError, "gradcheck: none of the {} inputs requires a gradient", inputs.size());

  const Variable y = f(inputs);
  MINIDL_CHECK(y.defined(), ValueError, "gradcheck: f returned an undefined Variable");
  Tensor r(y.shape());
  std::mt19937_64 gen(kProjectionSeed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (int64_t i = 0; i < r.numel(); ++i) r[i] = dist(gen);

  std::vector<Tensor> analytic(checked.size());
  if (y.requires_grad()) analytic = grad(y, checked, r);

  GradcheckResult result;
  double worst_excess = 0;  // error minus its tolerance, for the worst element
  NoGradGuard no_grad;
  for (size_t k = 0; k < checked.size(); ++k) {
    Variable x = checked[k];
    // Every write goes through mutable_value(), which gives the weight a new version
    // (autograd/variable_version.h): caches keyed by it, such as the Winograd kernel
    // transform, then see each perturbed value.
    const int64_t n = x.value().numel();
    for (int64_t i = 0; i < n; ++i) {
      const float orig = x.value()[i];
      double up = 0, down = 0, f_up = 0, f_down = 0;
      try {
        // The float steps actually taken, which are not exactly eps.
        x.mutable_value()[i] = static_cast<float>(orig + opts.eps);
        up = static_cast<double>(x.value()[i]) - orig;
        f_up = project(f(inputs).value(), r);
        x.mutable_value()[i] = static_cast<float>(orig - opts.eps);
        down = orig - static_cast<double>(x.value()[i]);
        f_down = project(f(inputs).value(), r);
      } catch (...) {
        x.mutable_value()[i] = orig;  // leave the caller's inputs as they were
        throw;
      }
      x.mutable_value()[i] = orig;

      const double numeric = (f_up - f_down) / (up + down);
      const double a = analytic[k].defined() ? analytic[k][i] : 0.0;
      const double err = std::fabs(a - numeric);
      const double rel = err / std::max({std::fabs(numeric), std::fabs(a), 1e-12});
      result.max_abs_error = std::max(result.max_abs_error, err);
      result.max_rel_error = std::max(result.max_rel_error, rel);
      const double excess = err - (opts.atol + opts.rtol * std::fabs(numeric));
      if (!(excess <= 0) && (result.ok || !(excess <= worst_excess))) {
        worst_excess = excess;
        result.ok = false;
        result.message = fmt::format(
            "gradcheck: input {} ('{}', shape {}) element {}: analytic {:.6g} vs numeric {:.6g}, abs error {:.3g} > "
            "atol {} + rtol {} * |numeric|",
            checked_index[k], x.name(), shape_str(x.shape()), index_str(i, x.shape()), a, numeric, err, opts.atol,
            opts.rtol);
      }
    }
  }
  return result;
}

}  // namespace minidl::autograd
