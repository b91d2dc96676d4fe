// tests/applications/mobilenet_test.cpp — MobileNet built in C++: the config Keras 3.15 writes for
// the same call (../shared/keras-apps/MobileNet.*), Keras's output with Keras's weights, and the
// checks every architecture gets (architecture_checks.h); alpha and depth_multiplier.
#include <nlohmann/json.hpp>

#include "applications/mobilenet.h"
#include "architecture_checks.h"
#include "keras_apps_checks.h"
#include "layers/base/layer.h"

namespace minidl {
namespace {

using namespace testing;

const ArchitectureCase kMobileNet{"MobileNet", [](const auto& o) { return applications::MobileNet(o); }, 4253864,
                                  "mobilenet_1.00_224", 32, 32,
                                  [](const Tensor& x) { return applications::mobilenet::preprocess_input(x); }};

TEST(MobileNet, DefaultHasKerasParameterCount) { expect_keras_default(kMobileNet); }
TEST(MobileNet, SmallModelSurvivesSaveAndLoad) { expect_small_model_survives_save_and_load(kMobileNet); }
TEST(MobileNet, BadArgumentsRaiseKerasErrors) { expect_keras_argument_errors(kMobileNet); }

// The call that wrote the shared files: MobileNet(weights=None, alpha=0.25, classes=10,
// input_shape=(64, 64, 3)), the first model of a fresh session (default names start over).
Model shared_file_call() {
  reset_layer_names();
  return applications::MobileNet({.input_shape = Shape{64, 64, 3}, .classes = 10}, {.alpha = 0.25});
}

TEST(MobileNet, ConfigIsKerasConfigLayerByLayer) {
  MINIDL_REQUIRE_SHARED();
  if (!have_keras_app("MobileNet")) GTEST_SKIP() << "needs ../shared/keras-apps/MobileNet.*";
  expect_config_is_keras(shared_file_call(), "MobileNet");
}

TEST(MobileNet, PredictsKerasOutputWithKerasWeights) {
  MINIDL_REQUIRE_SHARED();
  if (!have_keras_app("MobileNet")) GTEST_SKIP() << "needs ../shared/keras-apps/MobileNet.*";
  const Model model = shared_file_call();
  EXPECT_EQ(model->count_params(), 221114);  // the README's count
  expect_predicts_keras(model, "MobileNet");
}

TEST(MobileNet, AlphaAndDepthMultiplierSetTheWidths) {
  const Model model = applications::MobileNet({.include_top = false, .input_shape = Shape{64, 64, 3}},
                                              {.alpha = 0.5, .depth_multiplier = 2});
  EXPECT_EQ(model->name(), "mobilenet_0.50_64");
  EXPECT_EQ(model->get_layer("conv1")->output().shape(), Shape({kNone, 32, 32, 16}));
  EXPECT_EQ(model->get_layer("conv_dw_1")->output().shape(), Shape({kNone, 32, 32, 32}));
  EXPECT_EQ(model->get_layer("conv_pad_2")->output().shape(), Shape({kNone, 33, 33, 32}));
  EXPECT_EQ(model->outputs().at(0).shape(), Shape({kNone, 2, 2, 512}));
  // Without input_shape and top: any size, as Keras's (None, None, 3), named after rows None.
  const Model any = applications::MobileNet({.include_top = false, .pooling = "avg"}, {.alpha = 0.25});
  EXPECT_EQ(any->name(), "mobilenet_0.25_None");
  EXPECT_EQ(any->predict(Tensor::zeros({1, 40, 48, 3}), 1).shape(), Shape({1, 256}));
}

TEST(MobileNet, TopIsKerasConvolutionalClassifier) {
  const Model model = applications::MobileNet({.input_shape = Shape{32, 32, 3}, .classes = 7}, {.dropout = 0.25});
  EXPECT_EQ(model->get_layer("dropout")->get_config().at("rate"), 0.25);
  EXPECT_EQ(model->get_layer("conv_preds")->output().shape(), Shape({kNone, 1, 1, 7}));
  EXPECT_EQ(model->get_layer("reshape_2")->output().shape(), Shape({kNone, 7}));
  EXPECT_EQ(model->get_layer("predictions")->get_config().at("activation"), "softmax");
}

}  // namespace
}  // namespace minidl
