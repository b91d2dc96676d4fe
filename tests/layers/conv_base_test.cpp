// tests/layers/conv_base_test.cpp — what ConvBase gives all four conv layers alike:
// input checks through Layer::check_input (on symbolic calls, the concrete call
// that builds and every later one), default names, the getters' errors, and
// the config keys of every weight's parts.
#include "layers/conv/conv_base.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/conv2d_transpose.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/conv/separable_conv2d.h"

namespace minidl {
namespace {

using ::testing::HasSubstr;

// One layer of each conv class, channels_last, named `name` (or the default name when empty).
std::vector<LayerPtr> one_of_each(const std::string& name) {
  return {Conv2D(4, 3, {.data_format = "channels_last", .name = name}),
          DepthwiseConv2D(3, {.data_format = "channels_last", .name = name}),
          SeparableConv2D(4, 3, {.data_format = "channels_last", .name = name}),
          Conv2DTranspose(4, 3, {.data_format = "channels_last", .name = name})};
}

// The message of the ValueError f throws ("" and a test failure when it throws none).
std::string value_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ValueError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ValueError";
  return "";
}

TEST(ConvBase, FirstConcreteCallEchoesTheRealInputShape) {
  for (const auto& layer : one_of_each("e")) {
    const std::string msg = value_error_of([&] { (*layer)(Tensor::zeros({28, 28})); });
    EXPECT_THAT(msg, HasSubstr(layer->class_name() + " 'e': expected input of rank 4 (batch, rows, cols, channels), "
                                                      "received shape (28, 28)"));
    EXPECT_FALSE(layer->built());
  }
}

TEST(ConvBase, SymbolicAndLaterConcreteCallsCheckTheBuiltChannels) {
  for (const auto& layer : one_of_each("e")) {
    (*layer)(Tensor::zeros({1, 5, 5, 3}));
    EXPECT_THAT(value_error_of([&] { (*layer)(Tensor::zeros({1, 5, 5, 4})); }),
                HasSubstr("expected axis -1 of input shape to have value 3, received input with shape (1, 5, 5, 4)"));
    EXPECT_THAT(value_error_of([&] { (*layer)(Input({5, 5, 2})); }), HasSubstr("(None, 5, 5, 2)"));
  }
}

TEST(ConvBase, EmptyOrUndefinedChannelAxisIsRejected) {
  for (const auto& layer : one_of_each("e")) {
    EXPECT_THAT(value_error_of([&] { layer->compute_output_shape({{kNone, 4, 4, 0}}); }),
                HasSubstr("expected at least one input channel, received input shape (None, 4, 4, 0)"));
    EXPECT_THAT(value_error_of([&] { (*layer)(Input({4, 4, kNone})); }), HasSubstr("channel dimension"));
  }
}

TEST(ConvBase, DefaultNamesAreTheSnakeCaseOfTheClassName) {
  reset_layer_names();
  std::vector<std::string> names;
  for (const auto& layer : one_of_each("")) names.push_back(layer->name());
  EXPECT_EQ(names, (std::vector<std::string>{"conv2d", "depthwise_conv2d", "separable_conv2d", "conv2d_transpose"}));
}

TEST(ConvBase, WeightGettersNameTheLayerBeforeBuild) {
  auto conv = Conv2D(4, 3, {.name = "c"});
  EXPECT_THROW(conv->kernel(), RuntimeError);
  try {
    conv->bias();
    ADD_FAILURE() << "expected a RuntimeError";
  } catch (const RuntimeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Conv2D 'c' has no bias yet: it is built on its first call"));
  }
  EXPECT_THROW(Conv2D(4, 3, {.use_bias = false})->bias(), RuntimeError);
}

TEST(ConvBase, ConfigWritesTheKeysOfEachLayersOwnWeights) {
  const auto keys = [](const LayerPtr& l, const char* key) { return l->get_config().contains(key); };
  const auto layers = one_of_each("k");  // Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose
  EXPECT_EQ(std::vector<bool>({keys(layers[0], "filters"), keys(layers[1], "filters"), keys(layers[2], "filters"),
                               keys(layers[3], "filters")}),
            std::vector<bool>({true, false, true, true}));
  for (const auto& l : layers) EXPECT_TRUE(keys(l, "bias_constraint"));
  // groups is Conv2D's alone: Keras 3's other conv layers reject it.
  EXPECT_EQ(std::vector<bool>({keys(layers[0], "groups"), keys(layers[1], "groups"), keys(layers[2], "groups"),
                               keys(layers[3], "groups")}),
            std::vector<bool>({true, false, false, false}));
  EXPECT_TRUE(keys(layers[0], "kernel_regularizer") && !keys(layers[0], "depth_multiplier"));
  EXPECT_TRUE(keys(layers[1], "depthwise_initializer") && keys(layers[1], "depth_multiplier"));
  EXPECT_FALSE(keys(layers[1], "kernel_initializer"));
  EXPECT_TRUE(keys(layers[2], "pointwise_regularizer") && !keys(layers[2], "kernel_constraint"));
  EXPECT_TRUE(keys(layers[3], "output_padding") && keys(layers[3], "kernel_initializer"));
}

// tf.keras 2.x writes its Conv base's kernel parts into a SeparableConv2D config; they are
// checked on reading and not written back (Keras 3's SeparableConv2D rejects them).
TEST(ConvBase, SeparableReadsAndDropsTheUnusedKernelParts) {
  EXPECT_FALSE(SeparableConv2D(2, 3)->get_config().contains("kernel_initializer"));
  auto read = SeparableConv2DImpl::from_config(json::parse(
      R"({"filters": 2, "kernel_size": 3, "groups": 1, "kernel_initializer": null, "kernel_constraint": "non_neg"})"));
  for (const char* k : {"groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"})
    EXPECT_FALSE(read->get_config().contains(k)) << k;
  EXPECT_THROW(SeparableConv2DImpl::from_config(
                   json::parse(R"({"filters": 2, "kernel_size": 3, "kernel_constraint": "no_such_constraint"})")),
               ValueError);
}

// A config error names the layer once, whichever reader raised it.
TEST(ConvBase, ConfigErrorsNameTheLayerOnce) {
  for (const char* cfg : {R"({"name": "c", "filters": 2, "kernel_size": 3, "trainable": "yes"})",
                          R"({"name": "c", "filters": 2, "kernel_size": 3, "kernel_initializer": "no_such"})"}) {
    try {
      Conv2DImpl::from_config(json::parse(cfg));
      ADD_FAILURE() << "no error for " << cfg;
    } catch (const ValueError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("Conv2D 'c'"), std::string::npos) << what;
      EXPECT_EQ(what.find("Conv2D 'c'"), what.rfind("Conv2D 'c'")) << what;
    }
  }
}

}  // namespace
}  // namespace minidl
