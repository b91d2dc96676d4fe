// tests/applications/efficientnet_v2_test.cpp — EfficientNetV2B0 (and the family) built in C++: Keras's
// parameter count, the layers Keras's code creates, a small input that predicts and survives a save and
// reload, and Keras's errors for bad arguments.
#include "applications/efficientnet_v2.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "built_model_checks.h"
#include "core/errors.h"
#include "layers/preprocessing/rescaling.h"

namespace minidl {
namespace {

using namespace testing;
using applications::EfficientNetV2B0;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Keras's documented size of EfficientNetV2B0 (keras.io/api/applications: 7.2M), 1000 classes. The
// Normalization is given its mean and variance, so it holds no weights.
TEST(EfficientNetV2B0, DefaultHasKerasParameterCount) {
  const Model model = EfficientNetV2B0();
  EXPECT_EQ(model->name(), "efficientnetv2-b0");
  EXPECT_EQ(model->input_shape(), Shape({kNone, 224, 224, 3}));
  EXPECT_EQ(total_params(*model), 7200312);
  EXPECT_EQ(model->get_layer("block1a_project_activation")->class_name(), "Activation");  // FusedMBConv, ratio 1
  EXPECT_EQ(model->get_layer("block4a_se_excite")->class_name(), "Multiply");
  EXPECT_EQ(model->get_layer(2)->class_name(), "Normalization");  // after the Rescaling
}

TEST(EfficientNetV2B0, SmallInputPredictsAndSurvivesSaveAndLoad) {
  const Model model = EfficientNetV2B0({.input_shape = Shape{32, 32, 3}, .classes = 4});
  const Tensor x = images({2, 32, 32, 3}, 21);
  const Tensor y = model->predict(x, 2);
  ASSERT_EQ(y.shape(), Shape({2, 4}));
  for (int64_t r = 0; r < 2; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < 4; ++c) sum += y.at({r, c});
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
  expect_save_load_predicts_same(model, x, "efficientnetv2-b0");
}

TEST(EfficientNetV2S, RescalesToMinusOneOneWithoutNormalization) {
  const Model model = applications::EfficientNetV2S({.include_top = false, .input_shape = Shape{32, 32, 3}});
  EXPECT_EQ(model->name(), "efficientnetv2-s");
  const auto rescaling = std::dynamic_pointer_cast<RescalingImpl>(model->get_layer(1));
  ASSERT_TRUE(rescaling);
  EXPECT_EQ(rescaling->get_config().at("offset"), -1);
  EXPECT_EQ(model->get_layer(2)->name(), "stem_conv");
}

TEST(EfficientNetV2B0, WithoutPreprocessingStartsAtTheStem) {
  const Model model = EfficientNetV2B0({.include_top = false, .input_shape = Shape{32, 32, 3}, .pooling = "avg"},
                                       {.include_preprocessing = false});
  EXPECT_EQ(model->get_layer(1)->name(), "stem_conv");
  EXPECT_EQ(model->predict(images({1, 32, 32, 3}, 22, -1.f, 1.f), 1).shape(), Shape({1, 1280}));
}

TEST(EfficientNetV2B0, BadArgumentsRaiseKerasErrors) {
  EXPECT_THAT(
      [] {
        EfficientNetV2B0({.include_top = false, .input_shape = Shape{32, 8, 3}});
      },
      ThrowsMessage<ValueError>(HasSubstr("Input size must be at least 32x32; Received: input_shape=(32, 8, 3)")));
  EXPECT_THAT(
      [] {
        EfficientNetV2B0({.input_shape = Shape{kNone, 64, 3}});
      },
      ThrowsMessage<ValueError>(HasSubstr("you should specify a static `input_shape`")));
  EXPECT_THAT([] { EfficientNetV2B0({.weights = "imagenet"}); },
              ThrowsMessage<ValueError>(HasSubstr("weights=imagenet")));
}

TEST(EfficientNetV2, RegisteredByKerasNames) {
  const std::vector<std::string> names = applications::names();
  for (const char* name : {"EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
                           "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L"})
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
}

}  // namespace
}  // namespace minidl
