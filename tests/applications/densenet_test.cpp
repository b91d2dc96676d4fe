// tests/applications/densenet_test.cpp — DenseNet121/169/201 built in C++: Keras's parameter counts
// and layer names, save and reload of a small DenseNet121, Keras's argument errors.
#include "applications/densenet.h"
#include "architecture_checks.h"
#include "layers/base/layer.h"

namespace minidl {
namespace {

using namespace testing;

const ArchitectureCase kDenseNet121{"DenseNet121", [](const auto& o) { return applications::DenseNet121(o); },
                                    8062504, "densenet121", 32, 32,
                                    [](const Tensor& x) { return applications::densenet::preprocess_input(x); }};

TEST(DenseNet121, DefaultHasKerasParameterCount) { expect_keras_default(kDenseNet121); }
TEST(DenseNet121, SmallModelSurvivesSaveAndLoad) { expect_small_model_survives_save_and_load(kDenseNet121); }
TEST(DenseNet121, BadArgumentsRaiseKerasErrors) { expect_keras_argument_errors(kDenseNet121); }

TEST(DenseNet121, BlocksHaveKerasNamesAndShapes) {
  reset_layer_names();
  const Model model = applications::DenseNet121({.include_top = false, .input_shape = Shape{224, 224, 3}});
  EXPECT_EQ(model->get_layer("zero_padding2d_1")->output().shape(), Shape({kNone, 114, 114, 64}));
  EXPECT_EQ(model->get_layer("conv2_block6_concat")->output().shape(), Shape({kNone, 56, 56, 256}));
  EXPECT_EQ(model->get_layer("pool4_pool")->output().shape(), Shape({kNone, 7, 7, 512}));
  EXPECT_EQ(model->layers().back()->name(), "relu");
  EXPECT_EQ(model->outputs().at(0).shape(), Shape({kNone, 7, 7, 1024}));
}

TEST(DenseNet169And201, HaveKerasParameterCounts) {
  EXPECT_EQ(applications::DenseNet169()->count_params(), 14307880);  // keras.io/api/applications
  EXPECT_EQ(applications::DenseNet201()->count_params(), 20242984);
}

}  // namespace
}  // namespace minidl
