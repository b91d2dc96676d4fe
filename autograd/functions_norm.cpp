// autograd/functions_norm.cpp — layer_norm: the forward kernel, and a backward that keeps the row statistics.
#include "autograd/functions_norm.h"

#include <array>
#include <cmath>
#include <span>

#include "core/errors.h"
#include "ops/layer_norm.h"

namespace minidl::autograd {
namespace {

void check_parameter(const Variable& v, const char* what, int64_t features) {
  if (!v.defined()) return;
  MINIDL_CHECK(v.value().numel() == features, ValueError,
               "layer_norm: {} of shape {} has {} elements, expected {} (the normalized features)", what,
               shape_str(v.shape()), v.value().numel(), features);
}

}  // namespace

Variable layer_norm(const Variable& x, const Variable& gamma, const Variable& beta, int64_t features, float epsilon,
                    bool rms_scaling) {
  MINIDL_CHECK(x.defined(), ValueError, "layer_norm: received an undefined input");
  const int64_t n = x.value().numel();
  MINIDL_CHECK(features > 0 && n % features == 0, ValueError,
               "layer_norm: input of shape {} cannot be read as rows of {} features", shape_str(x.shape()),
               features);
  MINIDL_CHECK(std::isfinite(epsilon) && epsilon >= 0, ValueError,
               "layer_norm: epsilon must be a finite number >= 0, received {}", epsilon);
  MINIDL_CHECK(!(rms_scaling && beta.defined()), ValueError, "layer_norm: rms_scaling takes no beta");
  check_parameter(gamma, "gamma", features);
  check_parameter(beta, "beta", features);

  const ops::LayerNormSizes sizes{n / features, features};
  const Tensor xv = x.value();
  const Tensor gv = gamma.defined() ? gamma.value() : Tensor();
  Tensor y = Tensor::empty(x.shape());
  Tensor mean = Tensor::empty({sizes.rows}), rstd = Tensor::empty({sizes.rows});  // per row
  ops::layer_norm_forward(xv.data(), gamma.defined() ? gv.data() : nullptr,
                          beta.defined() ? beta.value().data() : nullptr, sizes, epsilon, rms_scaling, y.data(),
                          mean.data(), rstd.data());

  // The tape inputs, held inline: x, then gamma and beta when present.
  std::array<Variable, 3> inputs;
  size_t count = 0;
  int gi = -1, bi = -1;
  inputs[count++] = x;
  if (gamma.defined()) {
    gi = static_cast<int>(count);
    inputs[count++] = gamma;
  }
  if (beta.defined()) {
    bi = static_cast<int>(count);
    inputs[count++] = beta;
  }
  const Shape gamma_shape = gamma.defined() ? gamma.shape() : Shape{};
  const Shape beta_shape = beta.defined() ? beta.shape() : Shape{};
  return make_result(
      std::move(y), std::span<const Variable>(inputs.data(), count), "layer_norm",
      [xv, gv, mean, rstd, sizes, rms_scaling, gi, bi, gamma_shape, beta_shape](
          const Tensor& dy, const std::vector<bool>& needs) -> Grads {
        Grads grads(needs.size());
        Tensor dx, dgamma, dbeta;
        if (needs[0]) dx = Tensor::empty(xv.shape());
        if (gi >= 0 && needs[gi]) dgamma = Tensor::empty(gamma_shape);
        if (bi >= 0 && needs[bi]) dbeta = Tensor::empty(beta_shape);
        ops::layer_norm_backward(dy.data(), xv.data(), gv.defined() ? gv.data() : nullptr, mean.data(),
                                 rstd.data(), sizes, rms_scaling, dx.defined() ? dx.data() : nullptr,
                                 dgamma.defined() ? dgamma.data() : nullptr, dbeta.defined() ? dbeta.data() : nullptr);
        grads[0] = dx;
        if (gi >= 0) grads[gi] = dgamma;
        if (bi >= 0) grads[bi] = dbeta;
        return grads;
      });
}

}  // namespace minidl::autograd
