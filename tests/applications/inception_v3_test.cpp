// tests/applications/inception_v3_test.cpp — InceptionV3 built in C++: Keras's parameter count and
// layer names (conv2d_bn units with Keras's default names, mixed0..mixed10), save and reload at its
// minimum input 75x75, and Keras's argument errors (architecture_checks.h).
#include <nlohmann/json.hpp>

#include "applications/inception_v3.h"
#include "architecture_checks.h"
#include "layers/base/layer.h"

namespace minidl {
namespace {

using namespace testing;

const ArchitectureCase kInceptionV3{"InceptionV3", [](const auto& o) { return applications::InceptionV3(o); },
                                    23851784, "inception_v3", 75, 75,
                                    [](const Tensor& x) { return applications::inception_v3::preprocess_input(x); }};

TEST(InceptionV3, DefaultHasKerasParameterCount) { expect_keras_default(kInceptionV3); }
TEST(InceptionV3, SmallModelSurvivesSaveAndLoad) { expect_small_model_survives_save_and_load(kInceptionV3); }
TEST(InceptionV3, BadArgumentsRaiseKerasErrors) { expect_keras_argument_errors(kInceptionV3); }

TEST(InceptionV3, ModulesHaveKerasNamesAndShapes) {
  reset_layer_names();
  const Model model = applications::InceptionV3({.include_top = false, .input_shape = Shape{299, 299, 3}});
  EXPECT_EQ(model->get_layer("mixed2")->output().shape(), Shape({kNone, 35, 35, 288}));
  EXPECT_EQ(model->get_layer("mixed7")->output().shape(), Shape({kNone, 17, 17, 768}));
  EXPECT_EQ(model->get_layer("mixed9_1")->output().shape(), Shape({kNone, 8, 8, 768}));
  EXPECT_EQ(model->get_layer("mixed10")->output().shape(), Shape({kNone, 8, 8, 2048}));
  // 94 conv2d_bn units: conv2d ... conv2d_93, each BatchNormalization without scale.
  EXPECT_EQ(model->get_layer("conv2d_93")->class_name(), "Conv2D");
  EXPECT_EQ(model->get_layer("batch_normalization_93")->get_config().at("scale"), false);
  EXPECT_EQ(model->get_layer("activation_93")->class_name(), "Activation");
}

}  // namespace
}  // namespace minidl
