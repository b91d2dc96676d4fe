// tests/applications/resnet_v2_test.cpp — ResNet50V2/101V2/152V2 built in C++: Keras's parameter
// counts and layer names, save and reload of a small ResNet50V2, Keras's argument errors.
#include "applications/resnet_v2.h"
#include "architecture_checks.h"
#include "layers/base/layer.h"

namespace minidl {
namespace {

using namespace testing;

const ArchitectureCase kResNet50V2{"ResNet50V2", [](const auto& o) { return applications::ResNet50V2(o); }, 25613800,
                                   "resnet50v2", 32, 32,
                                   [](const Tensor& x) { return applications::resnet_v2::preprocess_input(x); }};

TEST(ResNet50V2, DefaultHasKerasParameterCount) { expect_keras_default(kResNet50V2); }
TEST(ResNet50V2, SmallModelSurvivesSaveAndLoad) { expect_small_model_survives_save_and_load(kResNet50V2); }
TEST(ResNet50V2, BadArgumentsRaiseKerasErrors) { expect_keras_argument_errors(kResNet50V2); }

TEST(ResNet50V2, StridesSitInTheLastBlockOfAStack) {
  reset_layer_names();
  const Model model = applications::ResNet50V2({.include_top = false, .input_shape = Shape{64, 64, 3}});
  EXPECT_EQ(model->get_layer("conv2_block2_out")->output().shape(), Shape({kNone, 16, 16, 256}));
  EXPECT_EQ(model->get_layer("conv2_block3_out")->output().shape(), Shape({kNone, 8, 8, 256}));
  // The strided block's shortcut is an unnamed MaxPooling2D(1, strides=2): one per stack conv2..conv4.
  EXPECT_EQ(model->get_layer("max_pooling2d_2")->output().shape(), Shape({kNone, 2, 2, 1024}));
  EXPECT_EQ(model->get_layer("conv5_block3_out")->output().shape(), Shape({kNone, 2, 2, 2048}));
  EXPECT_EQ(model->layers().back()->name(), "post_relu");
}

TEST(ResNet101V2And152V2, HaveKerasParameterCounts) {
  // keras.io's counts with the top, less the 1000-class Dense (2048 * 1000 + 1000).
  EXPECT_EQ(applications::ResNet101V2({.include_top = false})->count_params(), 44675560 - 2049000);
  EXPECT_EQ(applications::ResNet152V2({.include_top = false})->count_params(), 60380648 - 2049000);
}

}  // namespace
}  // namespace minidl
