// Optimizer state in the full-model .h5 (/optimizer_weights, tf.keras 2.x optimizer_v2
// layout): saved after training, restored by load_model, so training resumes exactly; files
// whose optimizer weights do not fit are loaded with a fresh optimizer and a warning.
#include <gtest/gtest.h>

#include "io/hdf5.h"
#include "io/keras_internal.h"
#include "io/keras_model.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/reshaping/reshaping.h"
#include "support/keras_files.h"

namespace minidl {
namespace {

std::shared_ptr<ModelImpl> conv_bn_dense(OptimizerPtr optimizer) {
  reset_layer_names();
  KerasTensor in = Input({4, 4, 2});
  KerasTensor c = Conv2D(3, 3, {.activation = "relu"})(in);
  KerasTensor b = BatchNormalization()(c);
  KerasTensor out = Dense(2)(Flatten()(b));
  auto m = std::make_shared<ModelImpl>(in, out, "resume");
  m->compile(optimizer, "mse");
  return m;
}

// Deterministic batches (no shuffling, no dropout): step k sees batch k.
std::pair<Tensor, Tensor> batch(int k) {
  Tensor x({3, 4, 4, 2}), y({3, 2});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i + 11 * k)));
  for (int64_t i = 0; i < y.numel(); ++i) y[i] = static_cast<float>(std::cos(0.5 * static_cast<double>(i + 3 * k)));
  return {x, y};
}

void step(ModelImpl& m, int k) {
  const auto [x, y] = batch(k);
  m.train_on_batch(x, y);
}

struct OptimizerCase {
  const char* label;
  std::function<OptimizerPtr()> make;
};

class KerasOptimizerResume : public ::testing::TestWithParam<OptimizerCase> {};

// Train 2 steps, save, load; one more step on the original and on the loaded model gives
// bitwise the same weights — and differs from a model that lost its optimizer state.
TEST_P(KerasOptimizerResume, LoadedModelContinuesBitwiseLikeTheOriginal) {
  auto m = conv_bn_dense(GetParam().make());
  step(*m, 0);
  step(*m, 1);
  const std::string path = (testing::temp_dir() / "resume.h5").string();
  m->save(path);
  testing::LogCapture log;
  auto back = load_model(path);
  EXPECT_EQ(log.text(), "");
  ASSERT_TRUE(back->compiled());
  EXPECT_EQ(back->optimizer()->iterations(), 2);
  ASSERT_TRUE(testing::SameWeights(*m, *back));
  step(*m, 2);
  step(*back, 2);
  EXPECT_TRUE(testing::SameWeights(*m, *back));
}

// The hyperparameters are float32 numbers (powers of two apart): the file stores them as
// float32, as Keras does, while minidl's optimizers compute with the doubles they were given,
// so only float32-exact values come back bit for bit (see the report on train/optimizers).
constexpr double kLr = 0.015625, kBeta1 = 0.875, kBeta2 = 0.998046875;

INSTANTIATE_TEST_SUITE_P(
    BuiltIns, KerasOptimizerResume,
    ::testing::Values(
        OptimizerCase{"Adam",
                      [] { return OptimizerPtr(std::make_shared<Adam>(kLr, AdamOptions{.beta_1 = kBeta1, .beta_2 = kBeta2})); }},
        OptimizerCase{"AdamAmsgrad",
                      [] {
                        return OptimizerPtr(
                            std::make_shared<Adam>(kLr, AdamOptions{.beta_1 = kBeta1, .beta_2 = kBeta2, .amsgrad = true}));
                      }},
        OptimizerCase{"SGDMomentum", [] { return OptimizerPtr(std::make_shared<SGD>(0.05, SGDOptions{.momentum = 0.9})); }},
        OptimizerCase{"RMSpropCenteredMomentum",
                      [] {
                        return OptimizerPtr(
                            std::make_shared<RMSprop>(0.01, RMSpropOptions{.momentum = 0.5, .centered = true}));
                      }},
        OptimizerCase{"Adagrad", [] { return OptimizerPtr(std::make_shared<Adagrad>(0.05)); }},
        OptimizerCase{"Adadelta", [] { return OptimizerPtr(std::make_shared<Adadelta>(1.0)); }},
        OptimizerCase{"Adamax",
                      [] { return OptimizerPtr(std::make_shared<Adamax>(kLr, AdamaxOptions{.beta_1 = kBeta1, .beta_2 = kBeta2})); }},
        OptimizerCase{"Nadam",
                      [] { return OptimizerPtr(std::make_shared<Nadam>(kLr, NadamOptions{.beta_1 = kBeta1, .beta_2 = kBeta2})); }}),
    [](const ::testing::TestParamInfo<OptimizerCase>& info) { return std::string(info.param.label); });

TEST(KerasOptimizerState, FreshOptimizerWouldDivergeSoTheResumeTestCanFail) {
  auto m = conv_bn_dense(std::make_shared<Adam>(0.01));
  step(*m, 0);
  step(*m, 1);
  auto other = conv_bn_dense(std::make_shared<Adam>(0.01));
  other->set_weights(m->get_weights());
  step(*m, 2);
  step(*other, 2);
  EXPECT_FALSE(testing::SameWeights(*m, *other));
}

TEST(KerasOptimizerState, AdamWeightNamesFollowOptimizerV2) {
  auto m = conv_bn_dense(std::make_shared<Adam>());
  step(*m, 0);
  step(*m, 1);
  const std::string path = (testing::temp_dir() / "names.h5").string();
  m->save(path);
  const h5::Group ow = h5::H5File::open_read(path).root().open_group("optimizer_weights");
  std::vector<std::string> expected = {"Adam/iter:0"};
  for (const char* slot : {"m", "v"})
    for (const char* var : {"conv2d/kernel", "conv2d/bias", "batch_normalization/gamma", "batch_normalization/beta",
                            "dense/kernel", "dense/bias"})
      expected.push_back(fmt::format("Adam/{}/{}:0", var, slot));
  EXPECT_EQ(ow.read_string_array_attr("weight_names"), expected);
  EXPECT_EQ(ow.open_dataset("Adam/iter:0").read_scalar(), 2.0);
  EXPECT_EQ(ow.open_dataset("Adam/iter:0").type_name(), "int64");
}

TEST(KerasOptimizerState, SlotsKerasDoesNotCreateAreNotWritten) {
  auto m = conv_bn_dense(std::make_shared<RMSprop>());  // no momentum, not centered: only "rms"
  step(*m, 0);
  const std::string path = (testing::temp_dir() / "rms.h5").string();
  m->save(path);
  const auto names =
      h5::H5File::open_read(path).root().open_group("optimizer_weights").read_string_array_attr("weight_names");
  ASSERT_EQ(names.size(), 1u + 6u);
  EXPECT_EQ(names[1], "RMSprop/conv2d/kernel/rms:0");
}

TEST(KerasOptimizerState, NadamWritesItsMomentumCacheAfterIterations) {
  auto m = conv_bn_dense(std::make_shared<Nadam>());
  step(*m, 0);
  const std::string path = (testing::temp_dir() / "nadam.h5").string();
  m->save(path);
  const h5::Group ow = h5::H5File::open_read(path).root().open_group("optimizer_weights");
  const auto names = ow.read_string_array_attr("weight_names");
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names[1], "Nadam/momentum_cache:0");
  // mu_1 = 0.9 * (1 - 0.5 * 0.96^0.004), the product after one step.
  EXPECT_NEAR(ow.open_dataset(names[1]).read_scalar(), 0.9 * (1 - 0.5 * std::pow(0.96, 0.004)), 1e-15);
}

TEST(KerasOptimizerState, UntrainedModelHasNoOptimizerWeights) {
  auto m = conv_bn_dense(std::make_shared<Adam>());
  const std::string path = (testing::temp_dir() / "untrained.h5").string();
  m->save(path);
  EXPECT_FALSE(h5::H5File::open_read(path).root().exists("optimizer_weights"));
}

// A Keras 3 legacy .h5 lists [iteration, learning_rate, momentum/velocity per variable]:
// not the optimizer_v2 list, so the model loads with a fresh optimizer and a warning.
TEST(KerasOptimizerState, Keras3OptimizerWeightsAreSkippedWithAWarning) {
  MINIDL_REQUIRE_SHARED();
  testing::LogCapture log;
  auto m = load_model((testing::keras_h5_dir() / "k3.10.0_mnist-cnn_legacy-model.h5").string());
  ASSERT_TRUE(m->compiled());
  EXPECT_EQ(m->optimizer()->iterations(), 0);
  EXPECT_NE(log.text().find("optimizer_weights"), std::string::npos) << log.text();
  EXPECT_NE(log.text().find("fresh state"), std::string::npos) << log.text();
}

// A hand-made file whose Adam "m" of the kernel has the wrong shape: nothing is restored.
TEST(KerasOptimizerState, MisfitOptimizerWeightsChangeNothing) {
  auto m = conv_bn_dense(std::make_shared<Adam>());
  step(*m, 0);
  const std::string good = (testing::temp_dir() / "good.h5").string();
  m->save(good);
  const std::string bad = (testing::temp_dir() / "bad.h5").string();
  {
    const h5::Group src = h5::H5File::open_read(good).root();
    h5::H5File f = h5::H5File::create(bad);
    const h5::Group root = f.root();
    for (const char* a : {"keras_version", "backend"}) root.write_string_attr(a, src.read_string_attr(a));
    for (const char* a : {"model_config", "training_config"}) root.write_fixed_string_attr(a, src.read_string_attr(a));
    keras_io::write_legacy_weights(*m, root.create_group("model_weights"));
    const h5::Group src_ow = src.open_group("optimizer_weights");
    const auto names = src_ow.read_string_array_attr("weight_names");
    const h5::Group ow = root.create_group("optimizer_weights");
    ow.write_string_array_attr("weight_names", names);
    ow.write_scalar(names[0], 1.0, h5::DType::kInt64);
    for (size_t i = 1; i < names.size(); ++i) {
      const Tensor t = src_ow.open_dataset(names[i]).read_tensor();
      if (names[i] == "Adam/conv2d/kernel/m:0") {
        ow.write_tensor(names[i], t, Shape{t.numel()});  // flattened: the wrong shape
      } else {
        ow.write_tensor(names[i], t);
      }
    }
    f.close();
  }
  testing::LogCapture log;
  auto back = load_model(bad);
  ASSERT_TRUE(back->compiled());
  EXPECT_EQ(back->optimizer()->iterations(), 0);
  EXPECT_NE(log.text().find("Adam/conv2d/kernel/m:0"), std::string::npos) << log.text();
  EXPECT_TRUE(testing::SameWeights(*m, *back));  // the model itself still loads
}

}  // namespace
}  // namespace minidl
