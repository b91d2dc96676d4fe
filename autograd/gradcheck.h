// autograd/gradcheck.h — verify analytic gradients with central differences.
//
// For a scalar-valued f (or any f, reduced with a fixed random projection
// <r, f(x)>, r uniform in [-1, 1) from a fixed seed), compares d/dx_i computed by
// backward() with
//   (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)
// evaluated in float32 on every element of every input (the projection is
// summed in double, and the float step actually taken replaces 2 eps). Returns
// a report rather than asserting, so tests can print where it failed.
//
//   Variable a(Tensor::normal({2, 3}), true), b(Tensor::normal({3}), true);
//   auto r = gradcheck([](const std::vector<Variable>& v) { return v[0] * v[1]; }, {a, b});
//   EXPECT_TRUE(r.ok) << r.message;
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace minidl::autograd {

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0, max_rel_error = 0;
  std::string message;  // describes the worst element when !ok
};

struct GradcheckOptions {
  double eps = 1e-2;    // float32 needs a large step
  double atol = 1e-3;
  double rtol = 1e-2;
};

// `inputs` are leaves passed to f; the ones with requires_grad set are checked,
// element by element, so f runs 2 * (their total size) + 1 times: keep them
// small. f must be deterministic and build its result from `inputs` (their
// values are perturbed in place and restored). An element passes when
// |analytic - numeric| <= atol + rtol * |numeric|; `message` names the worst
// failing element (input, index, both values). ValueError when an input is
// undefined or not a leaf, when none requires a gradient, or when eps <= 0.
GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& f,
                          const std::vector<Variable>& inputs, GradcheckOptions opts = {});

}  // namespace minidl::autograd
