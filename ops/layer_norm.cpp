// ops/layer_norm.cpp — the layer-normalization kernels: per-row statistics, output, gradients.
//
// Row sums are taken in double: a row of a few hundred features summed in
// float loses digits the test against a double reference would see, and the
// cost is one conversion per element. The parameter gradients sum over every
// row, so they also accumulate in double (leased scratch: no allocation in
// a steady training step).
#include "ops/layer_norm.h"

#include <cmath>
#include <vector>

#include "core/errors.h"
#include "core/scratch.h"
#include "ops/parallel_grain.h"

namespace minidl::ops {
namespace {

void check_sizes(LayerNormSizes s, const char* who) {
  MINIDL_CHECK(s.rows >= 0 && s.features >= 0, ValueError, "{}: sizes must be >= 0, received rows={} features={}",
               who, s.rows, s.features);
}

// The double accumulators of the parameter gradients, zeroed.
class DoubleSums {
 public:
  explicit DoubleSums(int64_t n) { buffer_->assign(static_cast<size_t>(n), 0.0); }
  double* data() const { return buffer_->data(); }

 private:
  ScratchLease<std::vector<double>> buffer_;
};

}  // namespace

void layer_norm_forward(const float* x, const float* gamma, const float* beta, LayerNormSizes s, float epsilon,
                        bool rms_scaling, float* y, float* mean, float* rstd) {
  check_sizes(s, "layer_norm_forward");
  MINIDL_CHECK(std::isfinite(epsilon) && epsilon >= 0, ValueError,
               "layer_norm_forward: epsilon must be a finite number >= 0, received {}", epsilon);
  const int64_t P = s.features;
  if (P == 0) {
    for (int64_t r = 0; r < s.rows; ++r) {
      mean[r] = 0.f;
      rstd[r] = static_cast<float>(1.0 / std::sqrt(double(epsilon)));
    }
    return;
  }
  for_each_item(s.rows, Cost::kMemory, 4 * P, [&](int64_t r) {
    const float* xr = x + r * P;  // [P]
    float* yr = y + r * P;        // [P]
    double sum = 0;
    for (int64_t p = 0; p < P; ++p) sum += xr[p];
    const double m = sum / static_cast<double>(P);
    double sq = 0;
    for (int64_t p = 0; p < P; ++p) {
      const double d = double(xr[p]) - m;
      sq += d * d;
    }
    const double var = sq / static_cast<double>(P);
    const float inv = static_cast<float>(1.0 / std::sqrt(var + double(epsilon)));
    const float mf = static_cast<float>(m);
    mean[r] = mf;
    rstd[r] = inv;
    if (rms_scaling) {
      for (int64_t p = 0; p < P; ++p) yr[p] = xr[p] * inv * (gamma ? gamma[p] : 1.f);
      return;
    }
    for (int64_t p = 0; p < P; ++p) {
      const float k = gamma ? gamma[p] * inv : inv;
      yr[p] = (xr[p] - mf) * k + (beta ? beta[p] : 0.f);
    }
  });
}

void layer_norm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                         LayerNormSizes s, bool rms_scaling, float* dx, float* dgamma, float* dbeta) {
  check_sizes(s, "layer_norm_backward");
  const int64_t P = s.features;
  if (rms_scaling) dbeta = nullptr;
  if (dx && P > 0) {
    const double n = static_cast<double>(P);
    for_each_item(s.rows, Cost::kMemory, 4 * P, [&](int64_t r) {
      const float* xr = x + r * P;    // [P]
      const float* gr = dy + r * P;   // [P]
      float* dr = dx + r * P;         // [P]
      const double inv = rstd[r], m = mean[r];
      if (rms_scaling) {
        double sgx = 0;  // sum(dy * gamma * x)
        for (int64_t p = 0; p < P; ++p) sgx += double(gr[p]) * (gamma ? gamma[p] : 1.f) * xr[p];
        const float c = static_cast<float>(inv * inv * sgx / n);
        const float mf = static_cast<float>(m), invf = static_cast<float>(inv);
        for (int64_t p = 0; p < P; ++p) {
          const float g = gr[p] * (gamma ? gamma[p] : 1.f);
          dr[p] = invf * (g - (xr[p] - mf) * c);
        }
        return;
      }
      double sg = 0, sgx = 0;  // sum(g), sum(g * xhat), g = dy * gamma
      for (int64_t p = 0; p < P; ++p) {
        const double g = double(gr[p]) * (gamma ? gamma[p] : 1.f);
        sg += g;
        sgx += g * (double(xr[p]) - m) * inv;
      }
      const float mg = static_cast<float>(sg / n), mgx = static_cast<float>(sgx / n);
      const float mf = static_cast<float>(m), invf = static_cast<float>(inv);
      for (int64_t p = 0; p < P; ++p) {
        const float g = gr[p] * (gamma ? gamma[p] : 1.f);
        const float xhat = (xr[p] - mf) * invf;
        dr[p] = invf * (g - mg - xhat * mgx);
      }
    });
  }
  if (!dgamma && !dbeta) return;
  const DoubleSums sums(2 * P);
  double* sg = sums.data();  // sum over rows of dy * xhat (or dy * x * rstd)
  double* sb = sg + P;       // sum over rows of dy
  for (int64_t r = 0; r < s.rows; ++r) {
    const float* xr = x + r * P;
    const float* gr = dy + r * P;
    const double inv = rstd[r], m = rms_scaling ? 0.0 : double(mean[r]);
    for (int64_t p = 0; p < P; ++p) {
      sg[p] += double(gr[p]) * (double(xr[p]) - m) * inv;
      sb[p] += gr[p];
    }
  }
  if (dgamma)
    for (int64_t p = 0; p < P; ++p) dgamma[p] = static_cast<float>(sg[p]);
  if (dbeta)
    for (int64_t p = 0; p < P; ++p) dbeta[p] = static_cast<float>(sb[p]);
}

}  // namespace minidl::ops
