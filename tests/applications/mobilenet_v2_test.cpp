// tests/applications/mobilenet_v2_test.cpp — MobileNetV2 built in C++: the config Keras 3.15 writes
// for the same call (../shared/keras-apps/MobileNetV2.*, a non-square input), Keras's output with
// Keras's weights, and the checks every architecture gets (architecture_checks.h); alpha.
#include <nlohmann/json.hpp>

#include "applications/mobilenet_v2.h"
#include "architecture_checks.h"
#include "keras_apps_checks.h"
#include "layers/base/layer.h"

namespace minidl {
namespace {

using namespace testing;

const ArchitectureCase kMobileNetV2{"MobileNetV2", [](const auto& o) { return applications::MobileNetV2(o); },
                                    3538984, "mobilenetv2_1.00_224", 32, 32,
                                    [](const Tensor& x) { return applications::mobilenet_v2::preprocess_input(x); }};

TEST(MobileNetV2, DefaultHasKerasParameterCount) { expect_keras_default(kMobileNetV2); }
TEST(MobileNetV2, SmallModelSurvivesSaveAndLoad) { expect_small_model_survives_save_and_load(kMobileNetV2); }
TEST(MobileNetV2, BadArgumentsRaiseKerasErrors) { expect_keras_argument_errors(kMobileNetV2); }

// The call that wrote the shared files: MobileNetV2(weights=None, alpha=0.35, classes=10,
// input_shape=(96, 64, 3)), the first model of a fresh session.
Model shared_file_call() {
  reset_layer_names();
  return applications::MobileNetV2({.input_shape = Shape{96, 64, 3}, .classes = 10}, {.alpha = 0.35});
}

TEST(MobileNetV2, ConfigIsKerasConfigLayerByLayer) {
  MINIDL_REQUIRE_SHARED();
  if (!have_keras_app("MobileNetV2")) GTEST_SKIP() << "needs ../shared/keras-apps/MobileNetV2.*";
  expect_config_is_keras(shared_file_call(), "MobileNetV2");
}

TEST(MobileNetV2, PredictsKerasOutputWithKerasWeights) {
  MINIDL_REQUIRE_SHARED();
  if (!have_keras_app("MobileNetV2")) GTEST_SKIP() << "needs ../shared/keras-apps/MobileNetV2.*";
  const Model model = shared_file_call();
  EXPECT_EQ(model->count_params(), 423018);  // the README's count
  expect_predicts_keras(model, "MobileNetV2");
}

TEST(MobileNetV2, AlphaRoundsWidthsToMultiplesOfEight) {
  // alpha 1.4: Conv1 has 48 filters (32 * 1.4 rounded to 8) and Conv_1 1792 (1280 * 1.4).
  const Model wide = applications::MobileNetV2({.include_top = false, .input_shape = Shape{32, 32, 3}}, {.alpha = 1.4});
  EXPECT_EQ(wide->get_layer("Conv1")->output().shape(), Shape({kNone, 16, 16, 48}));
  EXPECT_EQ(wide->outputs().at(0).shape(), Shape({kNone, 1, 1, 1792}));
  // alpha 0.35 keeps Conv_1 at 1280; block_1's 24 * 0.35 = 8.4 projects to 8 channels.
  const Model narrow = applications::MobileNetV2({.include_top = false, .input_shape = Shape{33, 32, 3}}, {.alpha = 0.35});
  EXPECT_EQ(narrow->get_layer("block_1_project")->output().shape(), Shape({kNone, 9, 8, 8}));
  EXPECT_EQ(narrow->get_layer("block_1_pad")->get_config().at("padding"), nlohmann::json({{1, 1}, {0, 1}}));
  EXPECT_EQ(narrow->outputs().at(0).shape(), Shape({kNone, 2, 1, 1280}));
}

}  // namespace
}  // namespace minidl
