// tests/io/keras3_layer_arguments_test.cpp — every config key minidl writes for the layer classes
// of the keras.applications CNNs is an argument Keras 3.15's constructor takes, in the .h5 and in
// the .keras file. Keras 3 builds a layer as cls(**config) (its legacy .h5 loader first moves
// batch_input_shape to input_shape / batch_shape), and Layer.__init__ raises "Unrecognized keyword
// arguments passed to <Class>" for anything else. The argument lists are those of Keras 3.15's
// keras/src/layers (each class's __init__ plus the keyword arguments of Layer.__init__).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "io/keras_model.h"
#include "minidl/minidl.h"
#include "support/saved_configs.h"

namespace minidl {
namespace {

using nlohmann::json;
using testing::saved_layer_entries;

// Layer.__init__: name, trainable, dtype, autocast, activity_regularizer, input_shape, input_dim.
const std::set<std::string> kLayerKwargs = {"name",        "trainable", "dtype",
                                            "autocast",    "input_shape", "input_dim",
                                            "activity_regularizer"};

const std::set<std::string> kConvBase = {"kernel_size", "strides", "padding", "data_format", "dilation_rate",
                                         "activation",  "use_bias", "bias_initializer", "bias_regularizer",
                                         "bias_constraint"};

std::set<std::string> with(std::set<std::string> base, std::initializer_list<std::string> more) {
  base.insert(more);
  return base;
}

const std::map<std::string, std::set<std::string>>& keras315_arguments() {
  static const std::map<std::string, std::set<std::string>> args = {
      {"Conv2D", with(kConvBase, {"filters", "groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint",
                                  "lora_rank", "lora_alpha"})},
      {"DepthwiseConv2D",
       with(kConvBase, {"depth_multiplier", "depthwise_initializer", "depthwise_regularizer", "depthwise_constraint"})},
      {"SeparableConv2D",
       with(kConvBase, {"filters", "depth_multiplier", "depthwise_initializer", "pointwise_initializer",
                        "depthwise_regularizer", "pointwise_regularizer", "depthwise_constraint",
                        "pointwise_constraint"})},
      {"BatchNormalization",
       {"axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
        "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer", "gamma_regularizer",
        "beta_constraint", "gamma_constraint", "renorm", "renorm_clipping", "renorm_momentum", "synchronized"}},
      {"Dense",
       {"units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
        "bias_regularizer", "kernel_constraint", "bias_constraint", "lora_rank", "lora_alpha", "quantization_config"}},
      {"ReLU", {"max_value", "negative_slope", "threshold"}},
      {"Activation", {"activation"}},
      {"ZeroPadding2D", {"padding", "data_format"}},
      {"Cropping2D", {"cropping", "data_format"}},
      {"MaxPooling2D", {"pool_size", "strides", "padding", "data_format"}},
      {"AveragePooling2D", {"pool_size", "strides", "padding", "data_format"}},
      {"GlobalAveragePooling2D", {"data_format", "keepdims"}},
      {"Reshape", {"target_shape"}},
      {"Flatten", {"data_format"}},
      {"Dropout", {"rate", "noise_shape", "seed"}},
      {"Add", {}},
      {"Multiply", {}},
      {"Concatenate", {"axis"}},
  };
  return args;
}

// InputLayer takes its own arguments (and ignores other keywords, so only these are checked).
const std::set<std::string> kInputLayerArguments = {"shape",        "batch_size", "dtype",    "sparse",
                                                    "ragged",       "batch_shape", "input_tensor", "optional",
                                                    "name",         "input_shape", "batch_input_shape"};

// One model with every layer class of the 14 keras.applications CNNs that minidl builds in.
std::shared_ptr<ModelImpl> applications_layers_model() {
  reset_layer_names();
  KerasTensor in = Input({16, 16, 3}, {.name = "image"});
  KerasTensor x = ZeroPadding2D(1)(in);                                     // (18, 18, 3)
  x = Conv2D(8, 3, {.use_bias = false})(x);                                 // (16, 16, 8)
  x = BatchNormalization()(x);
  KerasTensor r = ReLU({.max_value = 6.0})(x);
  KerasTensor d = DepthwiseConv2D(3, {.padding = "same"})(r);
  KerasTensor s = SeparableConv2D(8, 3, {.padding = "same"})(r);
  KerasTensor a = Add()({d, s});
  KerasTensor m = Multiply()({a, r});
  x = Concatenate()({m, a});                                                // (16, 16, 16)
  x = Cropping2D(1)(x);                                                     // (14, 14, 16)
  x = MaxPooling2D(2)(x);                                                   // (7, 7, 16)
  x = AveragePooling2D(2, {.padding = "same"})(x);                          // (4, 4, 16)
  x = GlobalAveragePooling2D({.keepdims = true})(x);                        // (1, 1, 16)
  x = Reshape({4, 4})(x);
  x = Flatten()(x);
  x = Dropout(0.2)(x);
  x = Dense(4)(x);
  KerasTensor out = ActivationLayer("softmax")(x);
  return std::make_shared<ModelImpl>(in, out, "applications_layers");
}

TEST(Keras3LayerArguments, EveryWrittenKeyIsAnArgumentOfTheKeras315Class) {
  const auto model = applications_layers_model();
  for (const char* file : {"applications_layers.h5", "applications_layers.keras"}) {
    std::set<std::string> seen;
    for (const json& entry : saved_layer_entries(*model, file)) {
      const std::string cls = entry["class_name"];
      seen.insert(cls);
      const json& config = entry["config"];
      if (cls == "InputLayer") {
        for (const auto& [k, v] : config.items()) EXPECT_TRUE(kInputLayerArguments.count(k)) << file << ": " << k;
        continue;
      }
      ASSERT_TRUE(keras315_arguments().count(cls)) << cls;
      const std::set<std::string>& own = keras315_arguments().at(cls);
      for (const auto& [k, v] : config.items()) {
        // The legacy loader moves batch_input_shape; a .keras lists an InputLayer instead.
        const bool legacy_shape = k == "batch_input_shape" && !std::string(file).ends_with(".keras");
        EXPECT_TRUE(own.count(k) || kLayerKwargs.count(k) || legacy_shape)
            << file << ": Unrecognized keyword arguments passed to " << cls << ": {'" << k << "'}";
      }
    }
    EXPECT_EQ(seen.size(), keras315_arguments().size() + 1) << file;  // every class, and the InputLayer
  }
}

TEST(Keras3LayerArguments, GlobalAveragePoolingKeepsKeepdims) {
  for (const char* file : {"applications_layers.h5", "applications_layers.keras"})
    for (const json& entry : saved_layer_entries(*applications_layers_model(), file)) {
      if (entry["class_name"] == "GlobalAveragePooling2D") {
        EXPECT_EQ(entry["config"]["keepdims"], true) << file;
      }
    }
}

}  // namespace
}  // namespace minidl
