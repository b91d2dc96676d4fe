// Tests for ops/layer_norm: the forward (standard and rms_scaling, with and without
// gamma/beta) against a naive double loop, the backward against central differences
// of that double loop, accuracy when |mean| >> std, thread-count independence, errors.
#include "ops/layer_norm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "support/assertions.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

struct Case {
  int64_t rows, features;
  bool rms, with_gamma, with_beta;
};

// Layer normalization of each row of x, in double, straight from the definition.
std::vector<double> naive(const std::vector<double>& x, const std::vector<float>* gamma,
                          const std::vector<float>* beta, int64_t rows, int64_t P, double eps, bool rms) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double m = 0, v = 0;
    for (int64_t p = 0; p < P; ++p) m += x[r * P + p];
    m /= P;
    for (int64_t p = 0; p < P; ++p) v += (x[r * P + p] - m) * (x[r * P + p] - m);
    v /= P;
    for (int64_t p = 0; p < P; ++p) {
      const double g = gamma ? (*gamma)[p] : 1.0, b = beta ? (*beta)[p] : 0.0;
      const double xv = x[r * P + p];
      y[r * P + p] = rms ? xv / std::sqrt(v + eps) * g : (xv - m) / std::sqrt(v + eps) * g + b;
    }
  }
  return y;
}

// gtest prints a parameter with its name's parts rather than its bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.rows << "x" << c.features << (c.rms ? " rms" : "") << (c.with_gamma ? " gamma" : "")
      << (c.with_beta ? " beta" : "");
}

class LayerNormKernel : public ::testing::TestWithParam<Case> {};

TEST_P(LayerNormKernel, ForwardMatchesNaiveDouble) {
  const Case c = GetParam();
  std::mt19937 rng(7);
  const std::vector<float> x = random_floats(c.rows * c.features, rng);
  std::vector<float> gamma = random_floats(c.features, rng), beta = random_floats(c.features, rng);
  const float eps = 1e-3f;
  std::vector<float> y(x.size()), mean(c.rows), rstd(c.rows);
  ops::layer_norm_forward(x.data(), c.with_gamma ? gamma.data() : nullptr, c.with_beta ? beta.data() : nullptr,
                          {c.rows, c.features}, eps, c.rms, y.data(), mean.data(), rstd.data());
  const std::vector<double> xd(x.begin(), x.end());
  const auto want = naive(xd, c.with_gamma ? &gamma : nullptr, c.with_beta && !c.rms ? &beta : nullptr, c.rows,
                          c.features, eps, c.rms);
  EXPECT_TRUE(close(y, want, 1e-5));
}

TEST_P(LayerNormKernel, BackwardMatchesCentralDifferencesOfNaiveDouble) {
  const Case c = GetParam();
  const int64_t n = c.rows * c.features;
  std::mt19937 rng(11);
  const std::vector<float> x = random_floats(n, rng), dy = random_floats(n, rng);
  std::vector<float> gamma = random_floats(c.features, rng), beta = random_floats(c.features, rng);
  const double eps = 1e-3;
  std::vector<float> y(n), mean(c.rows), rstd(c.rows), dx(n), dgamma(c.features, -7.f), dbeta(c.features, -7.f);
  const float* g = c.with_gamma ? gamma.data() : nullptr;
  ops::layer_norm_forward(x.data(), g, c.with_beta ? beta.data() : nullptr, {c.rows, c.features},
                          static_cast<float>(eps), c.rms, y.data(), mean.data(), rstd.data());
  ops::layer_norm_backward(dy.data(), x.data(), g, mean.data(), rstd.data(), {c.rows, c.features}, c.rms, dx.data(),
                           c.with_gamma ? dgamma.data() : nullptr, c.with_beta ? dbeta.data() : nullptr);

  // L = sum(dy * y) in double; dL/dv by central differences for every x, gamma and beta entry.
  std::vector<double> xd(x.begin(), x.end());
  std::vector<float> gam = gamma, bet = beta;
  auto loss = [&]() {
    const auto yy = naive(xd, c.with_gamma ? &gam : nullptr, c.with_beta && !c.rms ? &bet : nullptr, c.rows,
                          c.features, eps, c.rms);
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += dy[i] * yy[i];
    return s;
  };
  const double h = 1e-6;
  std::vector<double> want_dx(n);
  for (int64_t i = 0; i < n; ++i) {
    const double keep = xd[i];
    xd[i] = keep + h;
    const double up = loss();
    xd[i] = keep - h;
    want_dx[i] = (up - loss()) / (2 * h);
    xd[i] = keep;
  }
  EXPECT_TRUE(close(dx, want_dx, 1e-4));
  // gamma and beta are float parameters: difference them with a float-sized step
  // (the loss is linear in each, so the step size does not bias the estimate).
  auto param_grad = [&](std::vector<float>& v) {
    std::vector<double> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      const float keep = v[i];
      v[i] = keep + 0.5f;
      const double up = loss();
      v[i] = keep - 0.5f;
      out[i] = up - loss();
      v[i] = keep;
    }
    return out;
  };
  if (c.with_gamma) {
    EXPECT_TRUE(close(dgamma, param_grad(gam), 1e-4));
  }
  if (c.with_beta && !c.rms) {
    EXPECT_TRUE(close(dbeta, param_grad(bet), 1e-4));
  }
  if (c.with_beta && c.rms) {
    EXPECT_EQ(dbeta, std::vector<float>(c.features, -7.f));  // rms has no beta: left untouched
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, LayerNormKernel,
                         ::testing::Values(Case{5, 7, false, true, true}, Case{3, 16, false, false, false},
                                           Case{4, 5, false, true, false}, Case{2, 9, false, false, true},
                                           Case{5, 7, true, true, true}, Case{3, 6, true, false, false},
                                           Case{1, 1, false, true, true}),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           const Case& c = i.param;
                           return "Rows" + std::to_string(c.rows) + "Features" + std::to_string(c.features) +
                                  (c.rms ? "Rms" : "") + (c.with_gamma ? "Gamma" : "") + (c.with_beta ? "Beta" : "");
                         });

TEST(LayerNormKernel, StaysAccurateWhenTheMeanDwarfsTheSpread) {
  // Values 1e4 + U[-1, 1): a one-pass E[x^2] - E[x]^2 in float loses every digit of
  // the variance here; two passes keep it.
  const int64_t rows = 3, P = 64;
  std::mt19937 rng(3);
  std::vector<float> x = random_floats(rows * P, rng);
  for (float& v : x) v += 1e4f;
  std::vector<float> y(x.size()), mean(rows), rstd(rows);
  ops::layer_norm_forward(x.data(), nullptr, nullptr, {rows, P}, 1e-3f, false, y.data(), mean.data(), rstd.data());
  const auto want = naive(std::vector<double>(x.begin(), x.end()), nullptr, nullptr, rows, P, 1e-3, false);
  // The float mean is within half an ulp of 1e4 (5e-4) of the true one; outputs are of order 1.
  EXPECT_TRUE(close_to_scale(y, want, 2e-3));
}

TEST(LayerNormKernel, ResultsDoNotDependOnTheThreadCount) {
  const int64_t rows = 20000, P = 8;  // enough rows for the rows to be split over threads
  std::mt19937 rng(5);
  const std::vector<float> x = random_floats(rows * P, rng), dy = random_floats(rows * P, rng);
  const std::vector<float> gamma = random_floats(P, rng), beta = random_floats(P, rng);
  auto run = [&](int threads) {
    set_num_threads(threads);
    std::vector<float> y(x.size()), mean(rows), rstd(rows), dx(x.size()), dg(P), db(P);
    ops::layer_norm_forward(x.data(), gamma.data(), beta.data(), {rows, P}, 1e-3f, false, y.data(), mean.data(),
                            rstd.data());
    ops::layer_norm_backward(dy.data(), x.data(), gamma.data(), mean.data(), rstd.data(), {rows, P}, false,
                             dx.data(), dg.data(), db.data());
    y.insert(y.end(), dx.begin(), dx.end());
    y.insert(y.end(), dg.begin(), dg.end());
    y.insert(y.end(), db.begin(), db.end());
    return y;
  };
  const int before = num_threads();
  const auto one = run(1), two = run(2);
  set_num_threads(before);
  EXPECT_EQ(one, two);
}

TEST(LayerNormKernel, RejectsNegativeSizesAndBadEpsilon) {
  float v = 0;
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] { ops::layer_norm_forward(&v, nullptr, nullptr, {-1, 1}, 1e-3f, false, &v, &v, &v); }, {"rows=-1"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] { ops::layer_norm_forward(&v, nullptr, nullptr, {1, 1}, -1.f, false, &v, &v, &v); }, {"epsilon", "-1"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] { ops::layer_norm_backward(&v, &v, nullptr, &v, &v, {1, -2}, false, &v, &v, &v); }, {"features=-2"}));
}

}  // namespace
}  // namespace minidl
