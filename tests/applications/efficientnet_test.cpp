// tests/applications/efficientnet_test.cpp — EfficientNetB0 ... B7 built in C++: Keras's parameter
// count, the layers Keras's code creates, a small input that predicts and survives a save and reload,
// and Keras's errors for bad arguments.
#include "applications/efficientnet.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "built_model_checks.h"
#include "core/errors.h"

namespace minidl {
namespace {

using namespace testing;
using applications::EfficientNetB0;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Keras's documented size of EfficientNetB0 (keras.io/api/applications: 5.3M), 1000 classes; the
// unadapted Normalization's mean, variance and count are 7 of them.
TEST(EfficientNetB0, DefaultHasKerasParameterCount) {
  const Model model = EfficientNetB0();
  EXPECT_EQ(model->name(), "efficientnetb0");
  EXPECT_EQ(model->input_shape(), Shape({kNone, 224, 224, 3}));
  EXPECT_EQ(total_params(*model), 5330571);
  EXPECT_EQ(model->get_layer("block2b_drop")->class_name(), "Dropout");
  EXPECT_EQ(model->get_layer("block1a_se_excite")->class_name(), "Multiply");
  EXPECT_EQ(model->get_layer("block7a_project_bn")->output().shape(), Shape({kNone, 7, 7, 320}));
}

TEST(EfficientNetB0, SmallInputPredictsAndSurvivesSaveAndLoad) {
  const Model model = EfficientNetB0({.input_shape = Shape{32, 32, 3}, .classes = 3});
  const Tensor x = images({2, 32, 32, 3}, 11);
  const Tensor y = model->predict(x, 2);
  ASSERT_EQ(y.shape(), Shape({2, 3}));
  for (int64_t r = 0; r < 2; ++r) EXPECT_NEAR(y.at({r, 0}) + y.at({r, 1}) + y.at({r, 2}), 1.0, 1e-5);
  expect_save_load_predicts_same(model, x, "efficientnetb0");
}

TEST(EfficientNetB0, TrainsOneStep) {
  const Model model = EfficientNetB0({.input_shape = Shape{32, 32, 3}, .classes = 2});
  expect_training_step_moves_stem(model, images({2, 32, 32, 3}, 13));
}

TEST(EfficientNetB0, WithoutTopPoolsTheLastConvolution) {
  const Model model = EfficientNetB0({.include_top = false, .input_shape = Shape{32, 48, 3}, .pooling = "max"});
  EXPECT_EQ(model->predict(images({1, 32, 48, 3}, 12), 1).shape(), Shape({1, 1280}));
  EXPECT_EQ(model->get_layer("max_pool")->class_name(), "GlobalMaxPooling2D");
}

TEST(EfficientNet, WiderVariantsScaleFiltersAndRepeats) {
  // B3: width 1.2, depth 1.4 -> stem 40 filters, top 1536, stage 2 repeated ceil(1.4 * 2) = 3 times.
  const Model model = applications::EfficientNetB3({.include_top = false, .input_shape = Shape{32, 32, 3}});
  EXPECT_EQ(model->name(), "efficientnetb3");
  EXPECT_EQ(model->get_layer("stem_conv")->output().shape().back(), 40);
  EXPECT_EQ(model->get_layer("top_conv")->output().shape().back(), 1536);
  EXPECT_NO_THROW(model->get_layer("block2c_add"));
}

TEST(EfficientNetB0, BadArgumentsRaiseKerasErrors) {
  EXPECT_THAT(
      [] {
        EfficientNetB0({.include_top = false, .input_shape = Shape{16, 16, 3}});
      },
      ThrowsMessage<ValueError>(HasSubstr("Input size must be at least 32x32; Received: input_shape=(16, 16, 3)")));
  EXPECT_THAT(
      [] {
        EfficientNetB0({.input_shape = Shape{kNone, kNone, 3}});
      },
      ThrowsMessage<ValueError>(HasSubstr("If `include_top` is True, you should specify a static `input_shape`. "
                                          "Received: input_shape=(None, None, 3)")));
  EXPECT_THAT(
      [] {
        EfficientNetB0({.input_shape = Shape{64, 64}});
      },
      ThrowsMessage<ValueError>(HasSubstr("`input_shape` must be a tuple of three integers.")));
  EXPECT_THAT([] { EfficientNetB0({.weights = "imagenet"}); },
              ThrowsMessage<ValueError>(HasSubstr("weights=imagenet")));
}

TEST(EfficientNet, RegisteredByKerasNames) {
  const std::vector<std::string> names = applications::names();
  for (const char* name : {"EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4",
                           "EfficientNetB5", "EfficientNetB6", "EfficientNetB7"})
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  EXPECT_EQ(applications::build("EfficientNetB1", {.include_top = false, .input_shape = Shape{32, 32, 3}})->name(),
            "efficientnetb1");
}

}  // namespace
}  // namespace minidl
