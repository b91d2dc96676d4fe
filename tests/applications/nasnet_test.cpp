// tests/applications/nasnet_test.cpp — NASNetMobile built in C++: Keras's parameter count, the cells
// Keras's code creates, a small input that predicts and survives a save and reload, and Keras's errors
// for bad arguments.
#include "applications/nasnet.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "built_model_checks.h"
#include "core/errors.h"

namespace minidl {
namespace {

using namespace testing;
using applications::NASNetMobile;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Keras's documented size of NASNetMobile (keras.io/api/applications: 5,326,716), 1000 classes.
TEST(NASNetMobile, DefaultHasKerasParameterCount) {
  const Model model = NASNetMobile();
  EXPECT_EQ(model->name(), "nasnet_mobile");
  EXPECT_EQ(model->input_shape(), Shape({kNone, 224, 224, 3}));
  EXPECT_EQ(total_params(*model), 5326716);
  EXPECT_EQ(model->get_layer("normal_concat_12")->output().shape(), Shape({kNone, 7, 7, 1056}));
  EXPECT_EQ(model->get_layer("reduction_concat_reduce_4")->class_name(), "Concatenate");
  EXPECT_EQ(model->get_layer("adjust_bn_stem_2")->class_name(), "BatchNormalization");
}

TEST(NASNetMobile, SmallInputPredictsAndSurvivesSaveAndLoad) {
  const Model model = NASNetMobile({.input_shape = Shape{32, 32, 3}, .classes = 3});
  const Tensor x = images({2, 32, 32, 3}, 41, -1.f, 1.f);
  const Tensor y = model->predict(x, 2);
  ASSERT_EQ(y.shape(), Shape({2, 3}));
  for (int64_t r = 0; r < 2; ++r) EXPECT_NEAR(y.at({r, 0}) + y.at({r, 1}) + y.at({r, 2}), 1.0, 1e-5);
  expect_save_load_predicts_same(model, x, "nasnet_mobile");
}

TEST(NASNetMobile, WithoutTopDefaultsTo224) {
  const Model model = NASNetMobile({.include_top = false});
  EXPECT_EQ(model->input_shape(), Shape({kNone, 224, 224, 3}));
  EXPECT_EQ(model->output().shape(), Shape({kNone, 7, 7, 1056}));
}

TEST(NASNetMobile, BadArgumentsRaiseKerasErrors) {
  EXPECT_THAT(
      [] {
        NASNetMobile({.input_shape = Shape{24, 24, 3}});
      },
      ThrowsMessage<ValueError>(HasSubstr("Input size must be at least 32x32; Received: input_shape=(24, 24, 3)")));
  EXPECT_THAT(
      [] {
        NASNetMobile({.input_shape = Shape{kNone, kNone, 3}});
      },
      ThrowsMessage<ValueError>(HasSubstr("you should specify a static `input_shape`")));
  EXPECT_THAT([] { NASNetMobile({.weights = "imagenet"}); }, ThrowsMessage<ValueError>(HasSubstr("weights=imagenet")));
}

TEST(NASNet, RegisteredByKerasNames) {
  EXPECT_EQ(applications::build("NASNetMobile", {.input_shape = Shape{32, 32, 3}, .classes = 2})->name(),
            "nasnet_mobile");
  const std::vector<std::string> names = applications::names();
  EXPECT_NE(std::find(names.begin(), names.end(), "NASNetLarge"), names.end());
}

}  // namespace
}  // namespace minidl
