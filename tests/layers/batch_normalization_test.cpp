// Tests for layers/normalization/batch_normalization: weights and configs, the training and
// inference computations and the moving-statistics update against naive double
// loops, gradients in both modes, the frozen (trainable=false) behaviour and errors.
#include "layers/normalization/batch_normalization.h"


#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "layers/base/input_layer.h"
#include "layers/base/registry.h"
#include "support/assertions.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

// The feature (flat index over the normalized axes, in axis order) of element i.
int64_t feature_of(int64_t i, const Shape& s, std::vector<int> axes) {
  std::sort(axes.begin(), axes.end());
  std::vector<int64_t> idx(s.size());
  for (int d = static_cast<int>(s.size()) - 1; d >= 0; --d) {
    idx[d] = i % s[d];
    i /= s[d];
  }
  int64_t f = 0;
  for (int a : axes) f = f * s[a] + idx[a];
  return f;
}

struct Naive {
  std::vector<double> mean, var;  // biased batch statistics per feature
  Tensor y;
};

// Training-mode batch norm in double over all axes except `axes`.
Naive naive_train(const Tensor& x, const std::vector<int>& axes, const Tensor& gamma, const Tensor& beta,
                  double eps) {
  const int64_t P = gamma.numel();
  Naive r{std::vector<double>(P, 0.0), std::vector<double>(P, 0.0), Tensor(x.shape())};
  std::vector<double> count(P, 0.0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t f = feature_of(i, x.shape(), axes);
    r.mean[f] += x[i];
    count[f] += 1;
  }
  for (int64_t f = 0; f < P; ++f) r.mean[f] /= count[f];
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t f = feature_of(i, x.shape(), axes);
    r.var[f] += (x[i] - r.mean[f]) * (x[i] - r.mean[f]);
  }
  for (int64_t f = 0; f < P; ++f) r.var[f] /= count[f];
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t f = feature_of(i, x.shape(), axes);
    r.y[i] = static_cast<float>(gamma[f] * (x[i] - r.mean[f]) / std::sqrt(r.var[f] + eps) + beta[f]);
  }
  return r;
}

// Inference-mode batch norm in double with the given statistics.
Tensor naive_infer(const Tensor& x, const std::vector<int>& axes, const Tensor& gamma, const Tensor& beta,
                   const Tensor& mean, const Tensor& var, double eps) {
  Tensor y(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t f = feature_of(i, x.shape(), axes);
    y[i] = static_cast<float>(double(gamma[f]) * (x[i] - double(mean[f])) / std::sqrt(double(var[f]) + eps) +
                              beta[f]);
  }
  return y;
}

// moving - (moving - stat) * (1 - momentum), in double.
Tensor naive_moving(const Tensor& moving, const std::vector<double>& stat, double momentum) {
  Tensor r(moving.shape());
  for (int64_t f = 0; f < moving.numel(); ++f) r[f] = static_cast<float>(moving[f] - (moving[f] - stat[f]) * (1 - momentum));
  return r;
}

// Builds `bn` for `x` and gives it random gamma, beta and moving statistics.
std::vector<Tensor> randomize(BatchNormalization& bn, const Tensor& x, uint64_t seed) {
  bn(Variable(x));  // builds
  std::vector<Tensor> w;
  for (const auto& v : bn->weights()) {
    Tensor t = random_tensor(v.shape(), seed++);
    for (float& e : t.span()) e = 0.5f + std::fabs(e);  // positive, so moving_variance stays valid
    w.push_back(t);
  }
  bn->set_weights(w);
  return w;
}

// --- weights and config ------------------------------------------------------

TEST(BatchNormalization, WeightsInKerasOrderWithKerasInitialValues) {
  auto bn = BatchNormalization();
  bn(Input({4, 4, 3}));
  const auto& w = bn->own_weights();
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0].name, "gamma");
  EXPECT_EQ(w[1].name, "beta");
  EXPECT_EQ(w[2].name, "moving_mean");
  EXPECT_EQ(w[3].name, "moving_variance");
  for (const auto& e : w) EXPECT_EQ(e.variable.shape(), Shape{3});
  EXPECT_EQ(bn->trainable_weights().size(), 2u);
  EXPECT_EQ(bn->non_trainable_weights().size(), 2u);
  EXPECT_EQ(w[0].variable.value().to_vector(), std::vector<float>(3, 1.f));
  EXPECT_EQ(w[1].variable.value().to_vector(), std::vector<float>(3, 0.f));
  EXPECT_EQ(w[2].variable.value().to_vector(), std::vector<float>(3, 0.f));
  EXPECT_EQ(w[3].variable.value().to_vector(), std::vector<float>(3, 1.f));
  EXPECT_FALSE(w[2].variable.requires_grad());
}

TEST(BatchNormalization, CenterAndScaleFalseDropBetaAndGamma) {
  auto bn = BatchNormalization({.center = false, .scale = false});
  bn(Input({5}));
  ASSERT_EQ(bn->own_weights().size(), 2u);
  EXPECT_EQ(bn->own_weights()[0].name, "moving_mean");
  const Tensor x = random_tensor({4, 5}, 1);
  const Tensor y = bn(Variable(x), training_args()).value();
  const Naive n = naive_train(x, {1}, Tensor::ones({5}), Tensor::zeros({5}), 1e-3);
  EXPECT_TRUE(testing::AllClose(y, n.y, 1e-5, 1e-5));
}

TEST(BatchNormalization, ConfigAxisIsTheGivenFormBeforeBuildAndAListAfter) {
  auto bn = BatchNormalization();
  EXPECT_EQ(bn->get_config()["axis"], -1);
  bn(Input({4, 4, 3}));
  EXPECT_EQ(bn->get_config()["axis"], json::array({3}));
  EXPECT_EQ(bn->axis(), std::vector<int>{3});
}

TEST(BatchNormalization, ConfigHasKerasKeysAndValues) {
  reset_layer_names();
  const json c = BatchNormalization({.momentum = 0.9, .gamma_regularizer = L2(0.01)})->get_config();
  EXPECT_EQ(c["name"], "batch_normalization");
  EXPECT_EQ(c["momentum"], 0.9);
  EXPECT_EQ(c["epsilon"], 0.001);
  EXPECT_EQ(c["center"], true);
  EXPECT_EQ(c["scale"], true);
  EXPECT_EQ(c["beta_initializer"], json::parse(R"({"class_name": "Zeros", "config": {}})"));
  EXPECT_EQ(c["moving_variance_initializer"], json::parse(R"({"class_name": "Ones", "config": {}})"));
  EXPECT_EQ(c["gamma_regularizer"]["class_name"], "L2");
  EXPECT_TRUE(c["beta_regularizer"].is_null());
  EXPECT_TRUE(c["gamma_constraint"].is_null());
  EXPECT_EQ(c.size(), 16u);
}

TEST(BatchNormalization, ReadsTfKeras24ConfigWithAxisListAndRoundTrips) {
  // As tf.keras 2.4 writes it (conformance case multi_16).
  const json c = json::parse(R"({"name": "batch_normalization", "trainable": false, "dtype": "float32",
      "axis": [3], "momentum": 0.99, "epsilon": 0.01, "center": true, "scale": true,
      "beta_initializer": {"class_name": "Zeros", "config": {}}, "gamma_initializer": {"class_name": "Ones", "config": {}},
      "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
      "moving_variance_initializer": {"class_name": "Ones", "config": {}},
      "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null})");
  LayerPtr l = layer_from_config({{"class_name", "BatchNormalization"}, {"config", c}});
  EXPECT_EQ(l->get_config(), c);
  EXPECT_FALSE(l->trainable());
  EXPECT_TRUE(RoundTrips(*l));
  l->apply(Input({4, 4, 2}));  // still [3] once built
  EXPECT_EQ(l->get_config(), c);
}

TEST(BatchNormalization, ReadsKeras3IntAxisAndSynchronized) {
  auto bn = BatchNormalizationImpl::from_config(json::parse(R"({"name": "bn", "axis": -1, "momentum": 0.9,
      "epsilon": 1e-5, "synchronized": false, "center": true, "scale": false})"));
  EXPECT_EQ(bn->axis(), std::vector<int>{-1});
  EXPECT_EQ(bn->momentum(), 0.9);
  EXPECT_FALSE(bn->scale());
  EXPECT_TRUE(RoundTrips(*bn));
}

TEST(BatchNormalization, ConfigErrorsNameTheLayer) {
  const json bad_init = json::parse(R"({"name": "bn_7",
    "gamma_initializer": {"class_name": "Ones", "config": {"value": 2}}})");
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { BatchNormalizationImpl::from_config(bad_init); },
                                     {"BatchNormalization 'bn_7': ", "Ones initializer", "'value'"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { BatchNormalizationImpl::from_config({{"name", "bn_8"}, {"momentum", "fast"}}); },
      {"BatchNormalization 'bn_8': config key 'momentum'"}));
  EXPECT_TRUE(
      ThrowsWith<ValueError>([] { BatchNormalizationImpl::from_config({{"name", "bn_9"}, {"fused", 1}, {"beta", 0}}); },
                             {"BatchNormalization 'bn_9': unknown config key 'beta'"}));
}

TEST(BatchNormalization, ConfigRoundTripsWithPartsAndMultipleAxes) {
  auto bn = BatchNormalization({.axis = {1, 3},
                                .gamma_initializer = RandomNormal(1.0, 0.1),
                                .beta_regularizer = L1(0.5),
                                .gamma_constraint = NonNeg()});
  EXPECT_TRUE(RoundTrips(*bn.ptr()));
  bn(Input({4, 5, 6}));
  EXPECT_TRUE(RoundTrips(*bn.ptr()));
}

// --- training mode -------------------------------------------------------------

struct TrainCase {
  Shape shape;
  std::vector<int> axes;  // normalized
  int axis_arg;
  bool bessel;  // the moving variance uses n / (n - 1)
};

void check_training_case(const TrainCase& tc) {
  auto bn = BatchNormalization({.axis = tc.axis_arg, .momentum = 0.9});
  Tensor x = random_tensor(tc.shape, 21);
  for (float& v : x.span()) v = 3.f * v + 2.f;  // a mean far from 0
  const auto w = randomize(bn, x, 30);
  const Naive n = naive_train(x, tc.axes, w[0], w[1], 1e-3);

  Variable xv(x);
  const Tensor y = bn(xv, training_args()).value();
  EXPECT_TRUE(testing::AllClose(y, n.y, 1e-5, 1e-5)) << shape_str(tc.shape);
  // Nothing moves until the update runs.
  EXPECT_EQ(bn->get_weights()[2].to_vector(), w[2].to_vector());
  ASSERT_EQ(bn->get_updates_for(&xv).size(), 1u);

  bn->run_updates();
  std::vector<double> var = n.var;
  const double count = double(x.numel()) / double(w[0].numel());
  if (tc.bessel)
    for (double& v : var) v *= count / (count - 1);
  EXPECT_TRUE(testing::AllClose(bn->get_weights()[2], naive_moving(w[2], n.mean, 0.9), 1e-6, 1e-6));
  EXPECT_TRUE(testing::AllClose(bn->get_weights()[3], naive_moving(w[3], var, 0.9), 1e-6, 1e-6))
      << shape_str(tc.shape) << " bessel=" << tc.bessel;
  EXPECT_TRUE(bn->updates().empty());
}

TEST(BatchNormalization, TrainingNhwcUsesBatchStatsAndBesselCorrectedMovingVariance) {
  check_training_case({{3, 4, 5, 6}, {3}, -1, true});
}

TEST(BatchNormalization, TrainingNchwAxis1UsesBesselCorrectedMovingVariance) {
  check_training_case({{3, 6, 4, 5}, {1}, 1, true});
}

TEST(BatchNormalization, TrainingAfterDenseUsesBiasedMovingVariance) { check_training_case({{7, 5}, {1}, -1, false}); }

TEST(BatchNormalization, Training3DInputUsesBiasedMovingVariance) {
  check_training_case({{4, 3, 5}, {2}, -1, false});
}

TEST(BatchNormalization, Training4DOnAxis2IsNotFused) { check_training_case({{2, 3, 4, 5}, {2}, 2, false}); }

TEST(BatchNormalization, MultipleAxesNormalizeEachFeatureOfTheirProduct) {
  auto bn = BatchNormalization({.axis = {3, 1}});
  const Tensor x = random_tensor({3, 4, 5, 2}, 40);
  const auto w = randomize(bn, x, 41);
  EXPECT_EQ(w[0].shape(), (Shape{1, 4, 1, 2}));
  const Naive n = naive_train(x, {1, 3}, w[0], w[1], 1e-3);
  EXPECT_TRUE(testing::AllClose(bn(Variable(x), training_args()).value(), n.y, 1e-5, 1e-5));
  bn->run_updates();
  EXPECT_TRUE(testing::AllClose(bn->get_weights()[3], naive_moving(w[3], n.var, 0.99), 1e-6, 1e-6));
  EXPECT_TRUE(testing::AllClose(bn(x), naive_infer(x, {1, 3}, w[0], w[1], bn->get_weights()[2],
                                                   bn->get_weights()[3], 1e-3),
                                1e-5, 1e-5));
}

// --- inference and frozen ----------------------------------------------------------

TEST(BatchNormalization, InferenceUsesMovingStatistics) {
  auto bn = BatchNormalization({.axis = 1, .epsilon = 0.01});
  const Tensor x = random_tensor({2, 3, 4, 4}, 50);
  const auto w = randomize(bn, x, 51);
  const Tensor y = bn(Variable(x)).value();
  EXPECT_TRUE(testing::AllClose(y, naive_infer(x, {1}, w[0], w[1], w[2], w[3], 0.01), 1e-5, 1e-5));
  EXPECT_TRUE(bn->updates().empty());
}

TEST(BatchNormalization, FrozenLayerRunsInferenceEvenWhenTraining) {
  auto bn = BatchNormalization({.trainable = false});
  const Tensor x = random_tensor({4, 3, 3, 2}, 60);
  const auto w = randomize(bn, x, 61);
  const Tensor y = bn(Variable(x), training_args()).value();
  EXPECT_TRUE(testing::AllClose(y, naive_infer(x, {3}, w[0], w[1], w[2], w[3], 1e-3), 1e-5, 1e-5));
  EXPECT_TRUE(bn->updates().empty());
  EXPECT_TRUE(bn->trainable_weights().empty());
  EXPECT_FALSE(bn->own_weights()[0].variable.requires_grad());
}

TEST(BatchNormalization, FreezingAfterBuildAlsoStopsTraining) {
  auto bn = BatchNormalization();
  const Tensor x = random_tensor({4, 3}, 62);
  const auto w = randomize(bn, x, 63);
  bn->set_trainable(false);
  const Tensor y = bn(Variable(x), training_args()).value();
  EXPECT_TRUE(testing::AllClose(y, naive_infer(x, {1}, w[0], w[1], w[2], w[3], 1e-3), 1e-5, 1e-5));
  EXPECT_TRUE(bn->updates().empty());
}

// A layer called twice in training mode before its updates run (a shared
// layer) gets both moving-average steps, in call order; running the updates
// again does nothing, and the next training call starts a fresh list.
TEST(BatchNormalization, TwoTrainingCallsBeforeTheUpdatesRunApplyBothInOrder) {
  auto bn = BatchNormalization({.momentum = 0.5});
  const Tensor a = Tensor::from_data({2, 1}, {0, 2});  // mean 1, biased variance 1
  const Tensor b = Tensor::from_data({2, 1}, {4, 8});  // mean 6, biased variance 4
  bn(Variable(a), training_args());
  bn(Variable(b), training_args());
  EXPECT_EQ(bn->updates().size(), 2u);
  bn->run_updates();
  auto w = bn->get_weights();  // gamma, beta, moving_mean, moving_variance
  // mean: 0 -> 0 - (0 - 1) / 2 = 0.5 -> 0.5 - (0.5 - 6) / 2 = 3.25;
  // variance (rank 2: not fused, biased): 1 -> 1 -> 1 - (1 - 4) / 2 = 2.5.
  EXPECT_FLOAT_EQ(w[2][0], 3.25f);
  EXPECT_FLOAT_EQ(w[3][0], 2.5f);
  EXPECT_TRUE(bn->updates().empty());
  bn->run_updates();
  EXPECT_FLOAT_EQ(bn->get_weights()[2][0], 3.25f);
  bn(Variable(a), training_args());
  bn->run_updates();
  w = bn->get_weights();
  EXPECT_FLOAT_EQ(w[2][0], 2.125f);  // 3.25 - (3.25 - 1) / 2
  EXPECT_FLOAT_EQ(w[3][0], 1.75f);   // 2.5 - (2.5 - 1) / 2
}

// Copies of the update functions (updates()) apply their own batch's
// statistics once: run again after run_updates, or after a later training
// call has registered new statistics, they do nothing.
TEST(BatchNormalization, CopiedUpdatesApplyOnceAndNeverAnotherBatchsStatistics) {
  auto bn = BatchNormalization({.momentum = 0.5});
  const Tensor a = Tensor::from_data({2, 1}, {0, 2});  // mean 1
  const Tensor b = Tensor::from_data({2, 1}, {4, 8});  // mean 6
  bn(Variable(a), training_args());
  const auto copies = bn->updates();
  ASSERT_EQ(copies.size(), 1u);
  copies[0]();  // run by hand: 0 -> 0.5
  EXPECT_FLOAT_EQ(bn->get_weights()[2][0], 0.5f);
  bn->run_updates();  // the same update: already applied
  EXPECT_FLOAT_EQ(bn->get_weights()[2][0], 0.5f);
  bn(Variable(b), training_args());
  copies[0]();  // stale: must not apply b's statistics
  EXPECT_FLOAT_EQ(bn->get_weights()[2][0], 0.5f);
  bn->run_updates();  // b's own update: 0.5 -> 3.25
  EXPECT_FLOAT_EQ(bn->get_weights()[2][0], 3.25f);
}

TEST(BatchNormalization, FusedCaseClampsTinyEpsilonLikeTensorFlow) {
  // moving_variance 0, gamma 1, beta 0, mean 0: y = x / sqrt(eps_used).
  auto fused = BatchNormalization({.epsilon = 1e-7, .moving_variance_initializer = "zeros"});
  auto dense = BatchNormalization({.epsilon = 1e-7, .moving_variance_initializer = "zeros"});
  const Tensor y4 = fused(Tensor::ones({1, 1, 1, 2}));
  const Tensor y2 = dense(Tensor::ones({1, 2}));
  EXPECT_NEAR(y4[0], 1 / std::sqrt(1.001e-5), 1e-2);
  EXPECT_NEAR(y2[0], 1 / std::sqrt(1e-7), 1);
  EXPECT_EQ(fused->get_config()["epsilon"], 1e-7);
}

TEST(BatchNormalization, RegularizersAddLosses) {
  auto bn = BatchNormalization({.beta_regularizer = L1(0.5), .gamma_regularizer = L2(0.25)});
  bn(Input({3}));
  const auto losses = bn->losses();
  ASSERT_EQ(losses.size(), 2u);
  EXPECT_NEAR(losses[0].value().item(), 0.25 * 3, 1e-6);  // gamma first: 0.25 * sum(1^2)
  EXPECT_NEAR(losses[1].value().item(), 0.0, 1e-6);
}

// --- gradients -------------------------------------------------------------------

void check_gradients(const Shape& shape, int axis, bool training, uint64_t seed) {
  auto bn = BatchNormalization({.axis = axis});
  const Tensor x = random_tensor(shape, seed);
  randomize(bn, x, seed + 1);
  Variable xv(x.clone(), true);
  std::vector<Variable> inputs{xv, bn->own_weights()[0].variable, bn->own_weights()[1].variable};
  CallArgs args;
  args.training = training;
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return bn(v[0], args); }, inputs);
  EXPECT_TRUE(r.ok) << shape_str(shape) << " axis " << axis << " training " << training << ": " << r.message;
}

TEST(BatchNormalization, GradcheckTrainingNhwc) { check_gradients({2, 3, 3, 2}, -1, true, 70); }
TEST(BatchNormalization, GradcheckTrainingNchw) { check_gradients({2, 2, 3, 3}, 1, true, 72); }
TEST(BatchNormalization, GradcheckTrainingAfterDense) { check_gradients({5, 3}, -1, true, 74); }
TEST(BatchNormalization, GradcheckTrainingMultipleAxesViaPermute) {
  auto bn = BatchNormalization({.axis = {1, 3}});
  const Tensor x = random_tensor({3, 2, 2, 2}, 76);
  randomize(bn, x, 77);
  Variable xv(x.clone(), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return bn(v[0], training_args()); },
                               {xv, bn->own_weights()[0].variable, bn->own_weights()[1].variable});
  EXPECT_TRUE(r.ok) << r.message;
}
TEST(BatchNormalization, GradcheckInference) { check_gradients({2, 3, 2, 2}, 3, false, 78); }

TEST(BatchNormalization, TrainingGradientOfSumIsZeroForX) {
  // sum(y) = n * sum(beta) does not depend on x: the gradient through the
  // batch statistics cancels the direct one exactly.
  auto bn = BatchNormalization();
  Variable x(random_tensor({4, 3}, 80), true);
  bn(x, training_args()).backward(Tensor::ones({4, 3}));
  for (float g : x.grad().span()) EXPECT_NEAR(g, 0.f, 1e-6);
}

// --- errors ------------------------------------------------------------------------

TEST(BatchNormalization, RejectsAxisOutsideTheRank) {
  auto bn = BatchNormalization({.axis = 4, .name = "bn_a"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { bn(Input({4, 4, 3})); }, {"BatchNormalization 'bn_a'", "Invalid axis"}));
}

TEST(BatchNormalization, RejectsDuplicateAxes) {
  auto bn = BatchNormalization({.axis = {1, -3}, .name = "bn_d"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { bn(Input({4, 4, 3})); }, {"'bn_d'", "Duplicate axis"}));
}

TEST(BatchNormalization, RejectsUndefinedAxisDimension) {
  auto bn = BatchNormalization({.name = "bn_u"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { bn(Input({4, kNone})); }, {"'bn_u'", "undefined `axis` dimension"}));
}

TEST(BatchNormalization, RejectsInputsThatDoNotMatchTheBuiltShape) {
  auto bn = BatchNormalization({.name = "bn_m"});
  bn(Input({4, 4, 3}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { bn(Input({4, 4, 5})); }, {"'bn_m'", "built for 3"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { bn(Tensor::zeros({2, 3})); }, {"'bn_m'", "rank 4"}));
  // Concrete calls of the built rank take call()'s short check, which must still see the feature count.
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { bn(Tensor::zeros({2, 4, 4, 5})); }, {"'bn_m'", "built for 3"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { bn(Variable(Tensor::zeros({2, 4, 4, 5})), training_args()); },
                                     {"'bn_m'", "built for 3"}));
}

TEST(BatchNormalization, RejectsBadArguments) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { BatchNormalization({.axis = std::vector<int>{}, .name = "bn_e"}); },
                                     {"'bn_e'", "axis"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { BatchNormalization({.epsilon = -1, .name = "bn_n"}); },
                                     {"'bn_n'", "epsilon"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { BatchNormalization({.gamma_initializer = "no_such_init"}); },
                                     {"no_such_init"}));
}

TEST(BatchNormalization, RejectsUnsupportedOrMalformedConfigs) {
  auto from = [](const char* text) { return BatchNormalizationImpl::from_config(json::parse(text)); };
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { from(R"({"renorm": true})"); }, {"BatchNormalization", "renorm"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { from(R"({"virtual_batch_size": 8})"); }, {"virtual_batch_size"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { from(R"({"mode": 0})"); }, {"BatchNormalization", "mode"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { from(R"({"axis": "last"})"); }, {"axis"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { from(R"({"momentum": "high"})"); }, {"momentum"}));
  // renorm false (what tf.keras never writes but accepts) is fine.
  EXPECT_NO_THROW(from(R"({"renorm": false, "fused": null})"));
}

}  // namespace
}  // namespace minidl
