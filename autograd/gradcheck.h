// autograd/gradcheck.h — verify analytic gradients with central differences.
//
// For a scalar-valued f (or any f, reduced with a fixed random projection
// <r, f(x)>), compares d/dx_i computed by backward() with
//   (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)
// evaluated in float32 on every element of every input. Returns a report
// rather than asserting, so tests can print where it failed.
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

// `inputs` are leaves (requires_grad set on the ones to check). f must be
// deterministic.
GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& f,
                          const std::vector<Variable>& inputs, GradcheckOptions opts = {});

}  // namespace minidl::autograd
