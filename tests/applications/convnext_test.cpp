// tests/applications/convnext_test.cpp — ConvNeXtTiny (and the family) built in C++: Keras's parameter
// count, the layers Keras's code creates (nested Sequential stem and downsampling blocks, grouped
// convolutions, LayerScale, the residual operation), a small input that predicts and survives a save and
// reload, and Keras's errors for bad arguments.
#include "applications/convnext.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "built_model_checks.h"
#include "core/errors.h"
#include "layers/conv/conv2d.h"

namespace minidl {
namespace {

using namespace testing;
using applications::ConvNeXtTiny;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Keras's documented size of ConvNeXtTiny (keras.io/api/applications: 28.6M), 1000 classes. The
// prestem Normalization is given its mean and variance, so it holds no weights.
TEST(ConvNeXtTiny, DefaultHasKerasParameterCount) {
  const Model model = ConvNeXtTiny();
  EXPECT_EQ(model->name(), "convnext_tiny");
  EXPECT_EQ(total_params(*model), 28589128);
  EXPECT_EQ(model->get_layer("convnext_tiny_stem")->class_name(), "Sequential");
  EXPECT_EQ(model->get_layer("convnext_tiny_downsampling_block_2")->class_name(), "Sequential");
  EXPECT_EQ(model->get_layer("convnext_tiny_stage_3_block_2_layer_scale")->class_name(), "LayerScale");
  const auto dw =
      std::dynamic_pointer_cast<Conv2DImpl>(model->get_layer("convnext_tiny_stage_1_block_0_depthwise_conv"));
  ASSERT_TRUE(dw);
  EXPECT_EQ(dw->groups(), 192);
  EXPECT_EQ(model->get_layer("convnext_tiny_head_dense")->output().shape(), Shape({kNone, 1000}));
}

TEST(ConvNeXtTiny, SmallInputPredictsAndSurvivesSaveAndLoad) {
  const Model model = ConvNeXtTiny({.input_shape = Shape{32, 32, 3}, .classes = 3});
  const Tensor x = images({2, 32, 32, 3}, 31);
  const Tensor y = model->predict(x, 2);
  ASSERT_EQ(y.shape(), Shape({2, 3}));
  for (int64_t r = 0; r < 2; ++r) EXPECT_NEAR(y.at({r, 0}) + y.at({r, 1}) + y.at({r, 2}), 1.0, 1e-5);
  expect_save_load_predicts_same(model, x, "convnext_tiny");
}

TEST(ConvNeXtTiny, TrainsOneStep) {
  const Model model = ConvNeXtTiny({.input_shape = Shape{32, 32, 3}, .classes = 2});
  expect_training_step_moves_stem(model, images({2, 32, 32, 3}, 13));
}

TEST(ConvNeXtTiny, WithoutTopEndsInLayerNormalization) {
  const Model model = ConvNeXtTiny({.include_top = false, .input_shape = Shape{32, 32, 3}, .pooling = "avg"},
                                   {.include_preprocessing = false});
  EXPECT_EQ(model->get_layer(1)->name(), "convnext_tiny_stem");
  const auto layers = model->layers();
  EXPECT_EQ(layers.back()->class_name(), "LayerNormalization");
  EXPECT_EQ(model->predict(images({1, 32, 32, 3}, 32, -1.f, 1.f), 1).shape(), Shape({1, 768}));
}

TEST(ConvNeXtTiny, BadArgumentsRaiseKerasErrors) {
  EXPECT_THAT(
      [] {
        ConvNeXtTiny({.include_top = false, .input_shape = Shape{31, 64, 3}});
      },
      ThrowsMessage<ValueError>(HasSubstr("Input size must be at least 32x32; Received: input_shape=(31, 64, 3)")));
  EXPECT_THAT([] { ConvNeXtTiny({.weights = "imagenet"}); }, ThrowsMessage<ValueError>(HasSubstr("weights=imagenet")));
}

TEST(ConvNeXt, RegisteredByKerasNames) {
  const std::vector<std::string> names = applications::names();
  for (const char* name : {"ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge"})
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
}

}  // namespace
}  // namespace minidl
