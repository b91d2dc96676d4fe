// tests/applications/vgg16_test.cpp — VGG16 built in C++: Keras's parameter count and layer names,
// its top at a small input, save and reload, and Keras's argument errors (architecture_checks.h).
#include <nlohmann/json.hpp>

#include "applications/vgg16.h"
#include "architecture_checks.h"

namespace minidl {
namespace {

using namespace testing;

const ArchitectureCase kVGG16{"VGG16", [](const auto& o) { return applications::VGG16(o); }, 138357544, "vgg16", 32,
                              32, [](const Tensor& x) { return applications::vgg16::preprocess_input(x); }};

TEST(VGG16, DefaultHasKerasParameterCount) { expect_keras_default(kVGG16); }
TEST(VGG16, SmallModelSurvivesSaveAndLoad) { expect_small_model_survives_save_and_load(kVGG16); }
TEST(VGG16, BadArgumentsRaiseKerasErrors) { expect_keras_argument_errors(kVGG16); }

TEST(VGG16, LayersHaveKerasNamesAndShapes) {
  const Model model = applications::VGG16({.input_shape = Shape{64, 64, 3}, .classes = 5, .classifier_activation = ""});
  EXPECT_EQ(model->get_layer("block3_conv3")->output().shape(), Shape({kNone, 16, 16, 256}));
  EXPECT_EQ(model->get_layer("block5_pool")->output().shape(), Shape({kNone, 2, 2, 512}));
  EXPECT_EQ(model->get_layer("flatten")->output().shape(), Shape({kNone, 2048}));
  EXPECT_EQ(model->get_layer("fc2")->get_config().at("activation"), "relu");
  EXPECT_EQ(model->get_layer("predictions")->get_config().at("activation"), "linear");  // None: the logits
  const Model pooled = applications::VGG16({.include_top = false, .pooling = "max"});
  EXPECT_EQ(pooled->outputs().at(0).shape(), Shape({kNone, 512}));
  EXPECT_EQ(pooled->layers().back()->class_name(), "GlobalMaxPooling2D");
}

}  // namespace
}  // namespace minidl
