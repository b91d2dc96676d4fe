// tests/applications/resnet_test.cpp — ResNet50/101/152 built in C++: Keras's parameter counts and
// layer names, save and reload of a small ResNet50, Keras's argument errors (architecture_checks.h).
#include <nlohmann/json.hpp>

#include "applications/resnet.h"
#include "architecture_checks.h"

namespace minidl {
namespace {

using namespace testing;

const ArchitectureCase kResNet50{"ResNet50", [](const auto& o) { return applications::ResNet50(o); }, 25636712,
                                 "resnet50", 32, 32,
                                 [](const Tensor& x) { return applications::resnet::preprocess_input(x); }};

TEST(ResNet50, DefaultHasKerasParameterCount) { expect_keras_default(kResNet50); }
TEST(ResNet50, SmallModelSurvivesSaveAndLoad) { expect_small_model_survives_save_and_load(kResNet50); }
TEST(ResNet50, BadArgumentsRaiseKerasErrors) { expect_keras_argument_errors(kResNet50); }

TEST(ResNet50, BlocksHaveKerasNamesAndShapes) {
  const Model model = applications::ResNet50({.include_top = false, .input_shape = Shape{64, 64, 3}, .pooling = "avg"});
  EXPECT_EQ(model->get_layer("pool1_pool")->output().shape(), Shape({kNone, 16, 16, 64}));
  EXPECT_EQ(model->get_layer("conv2_block1_add")->output().shape(), Shape({kNone, 16, 16, 256}));
  EXPECT_EQ(model->get_layer("conv3_block1_0_conv")->output().shape(), Shape({kNone, 8, 8, 512}));
  EXPECT_EQ(model->get_layer("conv5_block3_out")->output().shape(), Shape({kNone, 2, 2, 2048}));
  EXPECT_EQ(model->get_layer("conv4_block6_2_conv")->get_config().at("padding"), "same");
  EXPECT_EQ(model->layers().back()->name(), "avg_pool");
  const Model max = applications::ResNet50({.include_top = false, .pooling = "max"});
  EXPECT_EQ(max->layers().back()->name(), "max_pool");
}

TEST(ResNet101And152, HaveKerasParameterCounts) {
  // keras.io's counts with the top, less the 1000-class Dense (2048 * 1000 + 1000).
  EXPECT_EQ(applications::ResNet101({.include_top = false})->count_params(), 44707176 - 2049000);
  EXPECT_EQ(applications::ResNet152({.include_top = false})->count_params(), 60419944 - 2049000);
}

}  // namespace
}  // namespace minidl
