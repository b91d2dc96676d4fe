// tests/applications/xception_test.cpp — Xception built in C++: Keras's parameter count and layer
// names (the unnamed projections and merges get Keras's default names), save and reload at its
// minimum input 71x71, and Keras's argument errors (architecture_checks.h).
#include "applications/xception.h"
#include "architecture_checks.h"
#include "layers/base/layer.h"

namespace minidl {
namespace {

using namespace testing;

const ArchitectureCase kXception{"Xception", [](const auto& o) { return applications::Xception(o); }, 22910480,
                                 "xception", 71, 71,
                                 [](const Tensor& x) { return applications::xception::preprocess_input(x); }};

TEST(Xception, DefaultHasKerasParameterCount) { expect_keras_default(kXception); }
TEST(Xception, SmallModelSurvivesSaveAndLoad) { expect_small_model_survives_save_and_load(kXception); }
TEST(Xception, BadArgumentsRaiseKerasErrors) { expect_keras_argument_errors(kXception); }

TEST(Xception, FlowsHaveKerasNamesAndShapes) {
  reset_layer_names();
  const Model model = applications::Xception({.include_top = false});
  EXPECT_EQ(model->get_layer("block4_pool")->output().shape(), Shape({kNone, kNone, kNone, 728}));
  // Twelve unnamed Add layers (add ... add_11), four projections (conv2d ... conv2d_3).
  EXPECT_EQ(model->get_layer("add_11")->class_name(), "Add");
  EXPECT_EQ(model->get_layer("conv2d_3")->output().shape(), Shape({kNone, kNone, kNone, 1024}));
  EXPECT_EQ(model->get_layer("block14_sepconv2_act")->output().shape(), Shape({kNone, kNone, kNone, 2048}));
  const Model sized = applications::Xception({.include_top = false, .input_shape = Shape{299, 299, 3}});
  EXPECT_EQ(sized->outputs().at(0).shape(), Shape({kNone, 10, 10, 2048}));
}

}  // namespace
}  // namespace minidl
