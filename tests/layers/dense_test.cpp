// Tests for layers/core/dense: shapes, Keras config, values against a double loop,
// gradients, regularization losses and errors.
#include "layers/core/dense.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "layers/base/input_layer.h"
#include "support/assertions.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

// y[r, u] = act(sum_i x[r, i] w[i, u] + b[u]) over the last axis, in double.
Tensor naive_dense(const Tensor& x, const Tensor& w, const Tensor* b, bool relu) {
  const int64_t in = w.shape()[0], units = w.shape()[1], rows = x.numel() / in;
  Shape s = x.shape();
  s.back() = units;
  Tensor y(s);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t u = 0; u < units; ++u) {
      double acc = b ? (*b)[u] : 0.0;
      for (int64_t i = 0; i < in; ++i) acc += double(x[r * in + i]) * w[i * units + u];
      y[r * units + u] = static_cast<float>(relu && acc < 0 ? 0.0 : acc);
    }
  return y;
}

TEST(Dense, OutputShapeReplacesLastAxis) {
  auto d = Dense(4);
  EXPECT_EQ(d->compute_output_shape({{kNone, 3}})[0], (Shape{kNone, 4}));
  EXPECT_EQ(d->compute_output_shape({{kNone, 5, 3}})[0], (Shape{kNone, 5, 4}));
}

TEST(Dense, SymbolicCallBuildsKerasWeights) {
  reset_layer_names();
  auto d = Dense(4);
  KerasTensor y = d(Input({3}));
  EXPECT_EQ(y.shape(), (Shape{kNone, 4}));
  EXPECT_EQ(d->name(), "dense");
  ASSERT_EQ(d->weights().size(), 2u);
  EXPECT_EQ(d->kernel().shape(), (Shape{3, 4}));
  EXPECT_EQ(d->bias().shape(), (Shape{4}));
  EXPECT_EQ(d->kernel().name(), "dense/kernel:0");
  EXPECT_EQ(d->count_params(), 16);
  // Zeros bias, glorot-uniform kernel bounded by sqrt(6 / (3 + 4)).
  EXPECT_EQ(max_abs_diff(d->bias().value(), Tensor::zeros({4})), 0.f);
  for (float v : d->kernel().value().span()) EXPECT_LE(std::fabs(v), std::sqrt(6.0 / 7.0));
}

TEST(Dense, NoBiasMeansOneWeight) {
  auto d = Dense(2, {.use_bias = false});
  d(Input({5}));
  EXPECT_EQ(d->weights().size(), 1u);
  EXPECT_FALSE(d->bias().defined());
}

TEST(Dense, ConfigHasKerasKeysAndValues) {
  auto d = Dense(4, {.activation = "relu", .name = "fc"});
  const json c = d->get_config();
  EXPECT_EQ(c["name"], "fc");
  EXPECT_EQ(c["units"], 4);
  EXPECT_EQ(c["activation"], "relu");
  EXPECT_EQ(c["use_bias"], true);
  EXPECT_EQ(c["kernel_initializer"]["class_name"], "GlorotUniform");
  EXPECT_EQ(c["bias_initializer"]["class_name"], "Zeros");
  for (const char* k :
       {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"})
    EXPECT_TRUE(c.at(k).is_null()) << k;
  EXPECT_EQ(c["dtype"], "float32");
  EXPECT_EQ(c["trainable"], true);
}

TEST(Dense, ConfigRoundTripsWithEveryPart) {
  auto d = Dense(3, {.activation = "tanh",
                     .use_bias = false,
                     .kernel_initializer = "he_normal",
                     .kernel_regularizer = L2(0.01),
                     .activity_regularizer = "l1",
                     .kernel_constraint = "max_norm",
                     .input_shape = Shape{7}});
  EXPECT_TRUE(RoundTrips(*d));
  EXPECT_EQ(d->get_config()["batch_input_shape"], json::parse("[null, 7]"));
}

TEST(Dense, ReadsAKeras2Config) {
  const json c = json::parse(R"({"name": "dense_9", "trainable": true, "dtype": "float32", "units": 5,
    "activation": "sigmoid", "use_bias": true,
    "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
    "bias_initializer": {"class_name": "Zeros", "config": {}},
    "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.009999999776482582}},
    "bias_regularizer": null, "activity_regularizer": null,
    "kernel_constraint": null, "bias_constraint": null})");
  auto layer = std::dynamic_pointer_cast<DenseImpl>(layer_from_config({{"class_name", "Dense"}, {"config", c}}));
  ASSERT_TRUE(layer);
  EXPECT_EQ(layer->name(), "dense_9");
  EXPECT_EQ(layer->units(), 5);
  EXPECT_EQ(layer->activation()->name(), "sigmoid");
  EXPECT_EQ(layer->get_config()["kernel_regularizer"]["config"]["l2"], 0.009999999776482582);
}

TEST(Dense, MissingConfigKeysTakeKerasDefaults) {
  auto layer =
      std::dynamic_pointer_cast<DenseImpl>(layer_from_config({{"class_name", "Dense"}, {"config", {{"units", 2}}}}));
  ASSERT_TRUE(layer);
  EXPECT_TRUE(layer->use_bias());
  EXPECT_EQ(layer->activation()->name(), "linear");
  EXPECT_EQ(layer->get_config()["kernel_initializer"]["class_name"], "GlorotUniform");
}

TEST(Dense, AnInitializerErrorNamesTheLayer) {
  const json c = json::parse(R"({"name": "head", "units": 2,
    "kernel_initializer": {"class_name": "HeNormal", "config": {"seed": 1, "scale": 2.0}}})");
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { layer_from_config({{"class_name", "Dense"}, {"config", c}}); },
                                     {"Dense 'head': ", "HeNormal initializer", "'scale'"}));
}

TEST(Dense, MatchesNaiveLoopOnMatrixInput) {
  auto d = Dense(5, {.activation = "relu", .bias_initializer = "random_normal"});
  const Tensor x = random_tensor({6, 7}, 1);
  const Tensor y = d(x);
  EXPECT_TRUE(testing::AllClose(y, naive_dense(x, d->kernel().value(), &d->bias().value(), true)));
}

// Without a tape, one or two rows take the matrix-vector product (ops::gemv_row):
// the same values as the double loop and as the recorded call (the GEMM).
TEST(Dense, InferenceOnOneOrTwoRowsMatchesNaiveLoop) {
  auto d = Dense(128, {.activation = "relu", .bias_initializer = "random_normal"});
  for (int64_t rows : {1, 2, 3}) {
    const Tensor x = random_tensor({rows, 9216}, 3);
    const Tensor taped = d(Variable(x)).value();  // grad mode on, the kernel needs a gradient
    const Tensor inferred = d(x);                   // a plain tensor: no tape
    const Tensor ref = naive_dense(x, d->kernel().value(), &d->bias().value(), true);
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < ref.numel(); ++i) {
      worst = std::max(worst, std::abs(double(inferred[i]) - ref[i]));
      scale = std::max(scale, std::abs(double(ref[i])));
    }
    EXPECT_LE(worst, 1e-5 * scale) << rows << " row(s)";
    EXPECT_TRUE(testing::AllClose(inferred, taped, 1e-5, 1e-5)) << rows << " row(s)";
  }
}

TEST(Dense, ContractsOnlyTheLastAxisOfRank4Input) {
  auto d = Dense(3, {.bias_initializer = "ones"});
  const Tensor x = random_tensor({2, 3, 4, 6}, 2);
  const Tensor y = d(x);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 4, 3}));
  EXPECT_TRUE(testing::AllClose(y, naive_dense(x, d->kernel().value(), &d->bias().value(), false)));
}

TEST(Dense, EmptyBatchGivesEmptyOutput) {
  auto d = Dense(3);
  const Tensor y = d(Tensor::zeros({0, 4}));
  EXPECT_EQ(y.shape(), (Shape{0, 3}));
}

TEST(Dense, GradcheckInputKernelAndBias) {
  auto d = Dense(3, {.bias_initializer = "random_uniform"});
  Variable x(random_tensor({2, 2, 4}, 3), true);
  d(x);  // build
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return d(v[0]); }, {x, d->kernel(), d->bias()});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Dense, GradcheckThroughActivation) {
  auto d = Dense(2, {.activation = "tanh"});
  Variable x(random_tensor({3, 5}, 4), true);
  d(x);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return d(v[0]); }, {x, d->kernel(), d->bias()});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Dense, FrozenLayerGivesOnlyInputGradient) {
  auto d = Dense(2);
  Variable x(random_tensor({3, 4}, 5), true);
  d(x);
  d->set_trainable(false);
  autograd::sum(d(x)).backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(d->kernel().grad().defined());
  EXPECT_FALSE(d->bias().grad().defined());
}

TEST(Dense, RegularizersAddKerasLosses) {
  auto d = Dense(2, {.kernel_regularizer = L2(0.5), .activity_regularizer = L1(0.25)});
  const Tensor x = random_tensor({4, 3}, 6);
  Variable y = d(Variable(x));
  const auto losses = d->losses();
  ASSERT_EQ(losses.size(), 2u);
  double k2 = 0, a1 = 0;
  for (float w : d->kernel().value().span()) k2 += double(w) * w;
  for (float v : y.value().span()) a1 += std::fabs(double(v));
  EXPECT_NEAR(losses[0].value().item(), 0.5 * k2, 1e-5);
  EXPECT_NEAR(losses[1].value().item(), 0.25 * a1 / 4, 1e-5);  // divided by the batch size, as tf.keras 2
}

TEST(Dense, RejectsNonPositiveUnits) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Dense(0, {.name = "d0"}); }, {"Dense 'd0'", "units=0"}));
}

TEST(Dense, RejectsRank1Input) {
  auto d = Dense(2, {.name = "fc1"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { d->compute_output_shape({{kNone}}); }, {"fc1", "min_ndim=2"}));
}

TEST(Dense, RejectsUnknownLastDimension) {
  auto d = Dense(2, {.name = "fc2"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { d(Input({kNone})); }, {"fc2", "should be defined"}));
}

TEST(Dense, RejectsADifferentInputSizeOnceBuilt) {
  auto d = Dense(2, {.name = "fc3"});
  d(Input({3}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { d(Tensor::zeros({1, 4})); }, {"fc3", "value 3", "(1, 4)"}));
}

TEST(Dense, RejectsUnknownActivationName) { EXPECT_THROW(Dense(2, {.activation = "relu7"}), ValueError); }

}  // namespace
}  // namespace minidl
