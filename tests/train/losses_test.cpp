// Keras losses against naive double-precision formulas, from_logits variants,
// stability on huge logits, finite-difference gradients and argument errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "core/errors.h"
#include "train/losses.h"

using namespace minidl;

namespace {

// Keras's backend.epsilon() and the clip bounds as float32 holds them (TF
// computes in float32, where 1 - 1e-7 rounds to 1 - 2^-23).
const double kEps = double(1e-7f);
const double kOneMinusEps = double(1.f - 1e-7f);

// Applies a per-row formula to [N, C] (y_true, y_pred) in double.
using RowFn = std::function<double(const std::vector<double>& t, const std::vector<double>& p)>;
std::vector<double> per_row(const Tensor& t, const Tensor& p, const RowFn& f) {
  const int64_t n = p.dim(0), c = p.numel() / n;
  std::vector<double> out;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> tr(c), pr(c);
    for (int64_t j = 0; j < c; ++j) {
      tr[j] = t[i * c + j];
      pr[j] = p[i * c + j];
    }
    out.push_back(f(tr, pr));
  }
  return out;
}

// An element formula term(y_true, y_pred) over [N, C] in double, summed over each
// row (row_sum) or averaged over it (row_mean), as Keras reduces the last axis.
using ElementFn = std::function<double(double t, double p)>;
std::vector<double> row_sum(const Tensor& t, const Tensor& p, const ElementFn& term) {
  return per_row(t, p, [&](auto& a, auto& b) {
    double s = 0;
    for (size_t j = 0; j < a.size(); ++j) s += term(a[j], b[j]);
    return s;
  });
}
std::vector<double> row_mean(const Tensor& t, const Tensor& p, const ElementFn& term) {
  std::vector<double> out = row_sum(t, p, term);
  for (double& v : out) v /= static_cast<double>(p.numel() / p.dim(0));
  return out;
}

double clip(double v, double lo, double hi) { return std::min(hi, std::max(lo, v)); }

void expect_values(const Variable& got, const std::vector<double>& want, double tol = 1e-5) {
  ASSERT_EQ(got.shape(), (Shape{static_cast<int64_t>(want.size())}));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got.value()[static_cast<int64_t>(i)], want[i], tol * std::max(1.0, std::fabs(want[i]))) << "sample " << i;
}

// Labels and probabilities of 3 samples over 4 classes (rows sum to 1).
Tensor probs() {
  return Tensor::from_data({3, 4}, {0.1f, 0.2f, 0.3f, 0.4f, 0.7f, 0.1f, 0.1f, 0.1f, 0.25f, 0.25f, 0.4f, 0.1f});
}
Tensor onehot() { return Tensor::from_data({3, 4}, {0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0}); }
Tensor logits() { return Tensor::from_data({3, 4}, {1.5f, -0.5f, 0.25f, 2.f, -1.f, 3.f, 0.5f, 0.f, 0.3f, 0.1f, -2.f, 1.f}); }

double log_sum_exp(const std::vector<double>& x) {
  double m = x[0];
  for (double v : x) m = std::max(m, v);
  double s = 0;
  for (double v : x) s += std::exp(v - m);
  return m + std::log(s);
}

// Gradient of sum(per_sample(y_true, y_pred)) with respect to y_pred.
void expect_gradcheck(const LossPtr& loss, const Tensor& y_true, const Tensor& y_pred) {
  Variable p(y_pred.clone(), true);
  auto r = autograd::gradcheck(
      [&](const std::vector<Variable>& v) { return autograd::sum(loss->per_sample(Variable(y_true), v[0])); }, {p});
  EXPECT_TRUE(r.ok) << loss->name() << ": " << r.message;
}

}  // namespace

TEST(Losses, MeanSquaredErrorIsTheMeanOverTheLastAxis) {
  Tensor t = onehot(), p = probs();
  auto want = row_mean(t, p, [](double a, double b) { return (b - a) * (b - a); });
  expect_values(get_loss("mse")->per_sample(Variable(t), Variable(p)), want);
  EXPECT_EQ(get_loss("MSE")->name(), "mean_squared_error");
  EXPECT_EQ(get_loss("MeanSquaredError")->class_name(), "MeanSquaredError");
}

TEST(Losses, MeanAbsoluteErrorIsTheMeanOfAbsoluteDifferences) {
  Tensor t = onehot(), p = probs();
  auto want = row_mean(t, p, [](double a, double b) { return std::fabs(b - a); });
  expect_values(get_loss("mae")->per_sample(Variable(t), Variable(p)), want);
}

TEST(Losses, BinaryCrossentropyClipsAndAddsEpsilonAsKeras) {
  // Includes exact 0 and 1 predictions, which the clip keeps finite.
  Tensor t = Tensor::from_data({2, 3}, {1, 0, 1, 0, 1, 1});
  Tensor p = Tensor::from_data({2, 3}, {0.9f, 0.2f, 0.f, 1.f, 0.6f, 0.35f});
  auto want = row_mean(t, p, [](double a, double b) {
    const double q = clip(b, kEps, kOneMinusEps);
    return -(a * std::log(q + kEps) + (1 - a) * std::log(1 - q + kEps));
  });
  expect_values(get_loss("binary_crossentropy")->per_sample(Variable(t), Variable(p)), want, 1e-4);
}

TEST(Losses, BinaryCrossentropyFromLogitsMatchesSigmoidFormula) {
  Tensor t = Tensor::from_data({2, 3}, {1, 0, 1, 0, 1, 0.5f});
  Tensor z = Tensor::from_data({2, 3}, {2.f, -1.f, 0.3f, 4.f, -3.f, 0.f});
  auto want = row_mean(t, z, [](double a, double x) {
    const double sig = 1 / (1 + std::exp(-x));
    return -(a * std::log(sig) + (1 - a) * std::log(1 - sig));
  });
  expect_values(BinaryCrossentropy(true)->per_sample(Variable(t), Variable(z)), want);
}

TEST(Losses, CategoricalCrossentropyRenormalisesThenClips) {
  Tensor t = onehot();
  Tensor p = Tensor::from_data({3, 4}, {0.2f, 0.4f, 0.6f, 0.8f, 1.f, 0.f, 0.f, 0.f, 0.5f, 0.5f, 0.8f, 0.2f});  // unnormalised
  auto want = per_row(t, p, [](auto& a, auto& b) {
    double sum = 0, s = 0;
    for (double v : b) sum += v;
    for (size_t j = 0; j < a.size(); ++j) s -= a[j] * std::log(clip(b[j] / sum, kEps, kOneMinusEps));
    return s;
  });
  expect_values(get_loss("categorical_crossentropy")->per_sample(Variable(t), Variable(p)), want, 1e-4);
}

TEST(Losses, CategoricalCrossentropyFromLogitsIsLogSoftmax) {
  Tensor t = onehot(), z = logits();
  auto want = per_row(t, z, [](auto& a, auto& x) {
    double s = 0;
    const double lse = log_sum_exp(x);
    for (size_t j = 0; j < a.size(); ++j) s -= a[j] * (x[j] - lse);
    return s;
  });
  expect_values(CategoricalCrossentropy(true)->per_sample(Variable(t), Variable(z)), want);
}

TEST(Losses, SparseCategoricalCrossentropyEqualsCategoricalOnOneHot) {
  Tensor labels = Tensor::from_data({3}, {3, 0, 1});
  Tensor p = probs();
  auto want = per_row(onehot(), p, [](auto& a, auto& b) {
    // TF: log(clip(p)) then softmax cross-entropy, i.e. -log(clip(p)_c / sum(clip(p))).
    double sum = 0, s = 0;
    for (double v : b) sum += clip(v, kEps, kOneMinusEps);
    for (size_t j = 0; j < a.size(); ++j) s -= a[j] * std::log(clip(b[j], kEps, kOneMinusEps) / sum);
    return s;
  });
  expect_values(get_loss("sparse_categorical_crossentropy")->per_sample(Variable(labels), Variable(p)), want);
  // Labels as a column (N, 1) work the same.
  expect_values(get_loss("sparse_categorical_crossentropy")->per_sample(Variable(labels.reshape({3, 1})), Variable(p)),
                want);
}

TEST(Losses, SparseCategoricalCrossentropyFromLogits) {
  Tensor labels = Tensor::from_data({3}, {3, 0, 1});
  auto want = per_row(onehot(), logits(), [](auto& a, auto& x) {
    double s = 0;
    const double lse = log_sum_exp(x);
    for (size_t j = 0; j < a.size(); ++j) s -= a[j] * (x[j] - lse);
    return s;
  });
  expect_values(SparseCategoricalCrossentropy(true)->per_sample(Variable(labels), Variable(logits())), want);
}

TEST(Losses, HingeMapsZeroOneLabelsToPlusMinusOne) {
  Tensor t01 = Tensor::from_data({2, 2}, {0, 1, 1, 0});
  Tensor tpm = Tensor::from_data({2, 2}, {-1, 1, 1, -1});
  Tensor p = Tensor::from_data({2, 2}, {0.3f, 0.8f, -0.4f, -2.f});
  auto want = row_mean(tpm, p, [](double a, double b) { return std::max(0.0, 1 - a * b); });
  expect_values(get_loss("hinge")->per_sample(Variable(t01), Variable(p)), want);
  expect_values(get_loss("hinge")->per_sample(Variable(tpm), Variable(p)), want);
}

TEST(Losses, HuberIsQuadraticInsideDeltaAndLinearOutside) {
  Tensor t = Tensor::from_data({2, 3}, {0, 0, 0, 1, 1, 1});
  Tensor p = Tensor::from_data({2, 3}, {0.5f, -2.f, 3.5f, 1.2f, 0.f, -1.f});
  for (double delta : {1.0, 2.5}) {
    auto want = row_mean(t, p, [delta](double a, double b) {
      const double e = std::fabs(b - a);
      return e <= delta ? 0.5 * e * e : delta * e - 0.5 * delta * delta;
    });
    expect_values(Huber(delta)->per_sample(Variable(t), Variable(p)), want);
  }
  EXPECT_EQ(get_loss("huber")->name(), "huber_loss");
}

TEST(Losses, KLDivergenceClipsBothSides) {
  Tensor t = Tensor::from_data({2, 3}, {0.2f, 0.3f, 0.5f, 0.f, 0.5f, 0.5f});
  Tensor p = Tensor::from_data({2, 3}, {0.1f, 0.6f, 0.3f, 0.4f, 0.4f, 0.2f});
  auto want = row_sum(t, p, [](double a, double b) {
    const double tc = clip(a, kEps, 1), pc = clip(b, kEps, 1);
    return tc * std::log(tc / pc);
  });
  expect_values(get_loss("kld")->per_sample(Variable(t), Variable(p)), want);
  EXPECT_EQ(get_loss("kullback_leibler_divergence")->class_name(), "KLDivergence");
}

TEST(Losses, HigherRankOutputsAverageTheExtraAxes) {
  // (N, T, C): Keras's mse gives (N, T), then SUM_OVER_BATCH_SIZE averages T too.
  Tensor t = Tensor::zeros({2, 2, 2});
  Tensor p = Tensor::from_data({2, 2, 2}, {1, 1, 2, 2, 0, 0, 4, 4});
  Variable per = get_loss("mse")->per_sample(Variable(t), Variable(p));
  expect_values(per, {(1.0 + 4.0) / 2, (0.0 + 16.0) / 2});
}

TEST(Losses, TargetsWithoutTheTrailingUnitAxisAreExpanded) {
  // Keras accepts y of shape (N,) for a (N, 1) output.
  Tensor t = Tensor::from_data({3}, {1, 2, 3});
  Tensor p = Tensor::from_data({3, 1}, {1, 0, 5});
  expect_values(get_loss("mse")->per_sample(Variable(t), Variable(p)), {0, 4, 4});
  expect_values(get_loss("mse")->per_sample(Variable(p), Variable(t)), {0, 4, 4});
}

TEST(Losses, HugeLogitsStayFinite) {
  Tensor z = Tensor::from_data({2, 3}, {1000.f, 0.f, -1000.f, -500.f, 500.f, 80.f});
  Tensor t = Tensor::from_data({2, 3}, {0, 0, 1, 1, 0, 0});
  Tensor labels = Tensor::from_data({2}, {2, 0});
  for (const auto& per : {CategoricalCrossentropy(true)->per_sample(Variable(t), Variable(z)),
                          SparseCategoricalCrossentropy(true)->per_sample(Variable(labels), Variable(z)),
                          BinaryCrossentropy(true)->per_sample(Variable(t), Variable(z))}) {
    for (float v : per.value().span()) EXPECT_TRUE(std::isfinite(v)) << v;
  }
  // The wrong class at a 2000 margin costs 2000 nats, not inf.
  EXPECT_NEAR(CategoricalCrossentropy(true)->per_sample(Variable(t), Variable(z)).value()[0], 2000.f, 1e-2);
  // BCE from logits: max(x,0) - x z + log1p(exp(-|x|)), large margins are linear.
  EXPECT_NEAR(BinaryCrossentropy(true)->per_sample(Variable(t), Variable(z)).value()[0], (1000.0 + 0.6931472 + 1000.0) / 3,
              1e-2);
  // Gradients stay finite too.
  Variable zv(z.clone(), true);
  autograd::sum(CategoricalCrossentropy(true)->per_sample(Variable(t), zv)).backward();
  for (float g : zv.grad().span()) EXPECT_TRUE(std::isfinite(g));
}

TEST(Losses, SaturatedProbabilitiesStayFinite) {
  Tensor t = Tensor::from_data({1, 3}, {0, 1, 0});
  Tensor p = Tensor::from_data({1, 3}, {1, 0, 0});
  for (const char* name : {"binary_crossentropy", "categorical_crossentropy", "kld"}) {
    Variable pv(p.clone(), true);
    Variable per = get_loss(name)->per_sample(Variable(t), pv);
    EXPECT_TRUE(std::isfinite(per.value()[0])) << name;
    autograd::sum(per).backward();
    for (float g : pv.grad().span()) EXPECT_TRUE(std::isfinite(g)) << name;
  }
}

TEST(Losses, GradientsMatchFiniteDifferences) {
  Tensor t = onehot(), p = probs();
  for (const char* name : {"mse", "mae", "binary_crossentropy", "categorical_crossentropy", "kld", "huber"})
    expect_gradcheck(get_loss(name), t, p);
  expect_gradcheck(get_loss("sparse_categorical_crossentropy"), Tensor::from_data({3}, {3, 0, 1}), p);
  expect_gradcheck(get_loss("hinge"), t, Tensor::from_data({3, 4}, {0.5f, -2.f, 0.25f, 0.3f, 1.5f, 0.5f, -1.5f,
                                                                    -0.5f, 0.2f, 0.6f, 0.1f, -3.f}));
  expect_gradcheck(Huber(0.15), t, p);
}

TEST(Losses, BinaryCrossentropyFromLogitsGradientIsRightAtZero) {
  // d/dx mean(softplus(x) - x z) = (sigmoid(x) - z) / C; at x = 0 that is (0.5 - z) / 2.
  Variable z(Tensor::zeros({1, 2}), true);
  autograd::sum(BinaryCrossentropy(true)->per_sample(Variable(Tensor::from_data({1, 2}, {1, 0})), z)).backward();
  EXPECT_NEAR(z.grad()[0], -0.25f, 1e-7);
  EXPECT_NEAR(z.grad()[1], 0.25f, 1e-7);
}

TEST(Losses, FromLogitsGradientsMatchFiniteDifferences) {
  expect_gradcheck(CategoricalCrossentropy(true), onehot(), logits());
  expect_gradcheck(SparseCategoricalCrossentropy(true), Tensor::from_data({3}, {3, 0, 1}), logits());
  expect_gradcheck(BinaryCrossentropy(true), Tensor::from_data({3, 4}, {0, 1, 1, 0, 1, 0, 0, 1, 0.5f, 0.5f, 0, 1}),
                   logits());
}

TEST(Losses, MismatchedShapesAreValueErrors) {
  Variable a(Tensor::zeros({2, 3})), b(Tensor::zeros({2, 4})), c(Tensor::zeros({3, 3}));
  for (const char* name : {"mse", "mae", "binary_crossentropy", "categorical_crossentropy", "hinge", "huber", "kld"}) {
    EXPECT_THROW(get_loss(name)->per_sample(a, b), ValueError) << name;
    EXPECT_THROW(get_loss(name)->per_sample(a, c), ValueError) << name;
  }
  try {
    get_loss("mse")->per_sample(a, b);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("(2, 4)"), std::string::npos) << e.what();
  }
}

TEST(Losses, SparseLabelsMustBeIntegerClassesOnePerSample) {
  Variable p(probs());
  auto scce = get_loss("sparse_categorical_crossentropy");
  EXPECT_THROW(scce->per_sample(Variable(Tensor::from_data({3}, {0, 4, 1})), p), ValueError);    // out of range
  EXPECT_THROW(scce->per_sample(Variable(Tensor::from_data({3}, {0, 1.5f, 1})), p), ValueError);  // not integer
  EXPECT_THROW(scce->per_sample(Variable(Tensor::from_data({3}, {0, -1, 1})), p), ValueError);
  EXPECT_THROW(scce->per_sample(Variable(Tensor::from_data({2}, {0, 1})), p), ValueError);  // count
  EXPECT_THROW(scce->per_sample(Variable(Tensor::from_data({3}, {0, 1, 1})), Variable(Tensor::zeros({3}))),
               ValueError);  // predictions without a class axis
}

TEST(Losses, UnknownNamesAreValueErrorsListingKnownOnes) {
  try {
    get_loss("mean_squared_eror");
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("mean_squared_error"), std::string::npos);
  }
  EXPECT_THROW(LossArg("nope").resolve(), ValueError);
}

TEST(Losses, ConfigsCarryKerasKeys) {
  auto c = CategoricalCrossentropy(true)->get_config();
  EXPECT_EQ(c["from_logits"], true);
  EXPECT_EQ(c["reduction"], "auto");
  EXPECT_EQ(c["name"], "categorical_crossentropy");
  EXPECT_DOUBLE_EQ(Huber(2.0)->get_config()["delta"].get<double>(), 2.0);
}
