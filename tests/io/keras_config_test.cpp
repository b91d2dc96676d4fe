// Era normalisation of model configs, checked through model_from_json: Keras 1 argument
// names and classes, Keras 1 Merge, Keras 3 wrappers and inbound-node objects, and the
// training_config / compile_config variants.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/keras_model.h"
#include "support/assertions.h"

namespace minidl {
namespace {

using testing::ThrowsQuietly;

const char* kKeras1Sequential = R"({"class_name": "Sequential", "config": [
  {"class_name": "Convolution2D", "config": {"name": "conv", "trainable": true, "batch_input_shape": [null, 2, 9, 9],
    "input_dtype": "float32", "nb_filter": 4, "nb_row": 3, "nb_col": 2, "init": "uniform", "activation": "relu",
    "border_mode": "same", "subsample": [2, 1], "dim_ordering": "th", "W_regularizer": {"name": "WeightRegularizer",
    "l1": 0.0, "l2": 0.01}, "b_regularizer": null, "activity_regularizer": null,
    "W_constraint": {"name": "MaxNorm", "m": 2, "axis": 0}, "b_constraint": null, "bias": false}},
  {"class_name": "BatchNormalization", "config": {"name": "bn", "epsilon": 0.001, "mode": 0, "axis": 1,
    "momentum": 0.99, "gamma_regularizer": null, "beta_regularizer": null}},
  {"class_name": "MaxPooling2D", "config": {"name": "pool", "trainable": true, "pool_size": [2, 2], "strides": [2, 2],
    "border_mode": "valid", "dim_ordering": "th"}},
  {"class_name": "Dropout", "config": {"name": "drop", "p": 0.25, "trainable": true}},
  {"class_name": "Flatten", "config": {"name": "flat", "trainable": true}},
  {"class_name": "Dense", "config": {"name": "fc", "output_dim": 5, "init": "glorot_uniform", "activation": "linear",
    "W_regularizer": null, "b_regularizer": null, "activity_regularizer": null, "W_constraint": null,
    "b_constraint": null, "bias": true, "input_dim": null}}]})";

TEST(KerasConfig, Keras1SequentialBecomesKeras2Layers) {
  auto m = model_from_json(kKeras1Sequential);
  const json conv = m->get_layer("conv")->get_config();
  EXPECT_EQ(m->get_layer("conv")->class_name(), "Conv2D");
  EXPECT_EQ(conv["filters"], 4);
  EXPECT_EQ(conv["kernel_size"], json::array({3, 2}));
  EXPECT_EQ(conv["strides"], json::array({2, 1}));
  EXPECT_EQ(conv["padding"], "same");
  EXPECT_EQ(conv["data_format"], "channels_first");
  EXPECT_EQ(conv["use_bias"], false);
  EXPECT_EQ(conv["kernel_regularizer"]["class_name"], "L1L2");
  EXPECT_EQ(conv["kernel_constraint"]["class_name"], "MaxNorm");
  EXPECT_EQ(m->get_layer("pool")->get_config()["data_format"], "channels_first");
  EXPECT_EQ(m->get_layer("pool")->get_config()["padding"], "valid");
  EXPECT_DOUBLE_EQ(m->get_layer("drop")->get_config()["rate"].get<double>(), 0.25);
  EXPECT_EQ(m->get_layer("fc")->get_config()["units"], 5);
  // A Keras 1 'th' Flatten flattens C, H, W: the memory order of the channels_first tensor.
  EXPECT_EQ(m->get_layer("flat")->get_config()["data_format"], "channels_last");
  EXPECT_EQ(m->get_layer("fc")->get_weights()[0].shape(), (Shape{4 * 2 * 4, 5}));
  EXPECT_EQ(m->predict(Tensor::uniform({1, 2, 9, 9})).shape(), (Shape{1, 5}));
}

TEST(KerasConfig, Keras1BatchNormalizationModesOtherThanZeroAreRefused) {
  const std::string cfg = R"({"class_name": "Sequential", "config": [{"class_name": "BatchNormalization",
    "config": {"name": "bn", "mode": 2, "axis": -1, "batch_input_shape": [null, 4]}}]})";
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { model_from_json(cfg); }, {"'bn'", "mode 2"}));
}

TEST(KerasConfig, Keras1BorderModeFullIsRefused) {
  const std::string cfg = R"({"class_name": "Sequential", "config": [{"class_name": "Convolution2D",
    "config": {"name": "c", "nb_filter": 1, "nb_row": 3, "nb_col": 3, "border_mode": "full",
    "batch_input_shape": [null, 5, 5, 1], "dim_ordering": "tf"}}]})";
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { model_from_json(cfg); }, {"'c'", "full"}));
}

TEST(KerasConfig, Keras1DenseInputDimBecomesTheInputShape) {
  const std::string cfg = R"({"class_name": "Sequential", "config": [{"class_name": "Dense",
    "config": {"name": "d", "output_dim": 3, "input_dim": 7, "init": "zero", "bias": true}}]})";
  auto m = model_from_json(cfg);
  EXPECT_EQ(m->get_layer("d")->get_weights()[0].shape(), (Shape{7, 3}));
}

TEST(KerasConfig, Keras1MergeModesBecomeMergeLayers) {
  for (const auto& [mode, cls] : std::vector<std::pair<std::string, std::string>>{
           {"sum", "Add"}, {"mul", "Multiply"}, {"ave", "Average"}, {"max", "Maximum"}, {"concat", "Concatenate"}}) {
    const std::string cfg = R"({"class_name": "Model", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "name": "a", "config": {"batch_input_shape": [null, 4], "name": "a"}, "inbound_nodes": []},
      {"class_name": "InputLayer", "name": "b", "config": {"batch_input_shape": [null, 4], "name": "b"}, "inbound_nodes": []},
      {"class_name": "Merge", "name": "merge_1", "config": {"name": "merge_1", "mode": ")" +
                            mode + R"(", "concat_axis": -1, "dot_axes": -1, "output_shape": null},
       "inbound_nodes": [[["a", 0, 0], ["b", 0, 0]]]}],
      "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["merge_1", 0, 0]]}})";
    auto m = model_from_json(cfg);
    EXPECT_EQ(m->get_layer("merge_1")->class_name(), cls) << mode;
  }
}

TEST(KerasConfig, Keras1MergeOfSequentialBranchesIsRefusedClearly) {
  const std::string cfg = R"({"class_name": "Sequential", "config": [{"class_name": "Merge",
    "config": {"name": "m", "mode": "concat", "layers": []}}]})";
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { model_from_json(cfg); }, {"Merge", "functional"}));
}

const char* kKeras3Functional = R"({"module": "keras", "class_name": "Functional", "registered_name": null,
  "config": {"name": "f", "trainable": true, "layers": [
    {"module": "keras.layers", "class_name": "InputLayer", "registered_name": null, "name": "x",
     "config": {"batch_shape": [null, 4], "dtype": "float32", "sparse": false, "name": "x"}, "inbound_nodes": []},
    {"module": "keras.layers", "class_name": "Dense", "registered_name": null, "name": "d1",
     "build_config": {"input_shape": [null, 4]},
     "config": {"name": "d1", "trainable": true, "units": 3,
       "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
       "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null},
         "registered_name": null}},
     "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32",
       "keras_history": ["x", 0, 0]}}], "kwargs": {}}]},
    {"module": "keras.layers", "class_name": "Dense", "registered_name": null, "name": "d2",
     "config": {"name": "d2", "units": 3}, "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
       "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["x", 0, 0]}}], "kwargs": {}}]},
    {"module": "keras.layers", "class_name": "Add", "registered_name": null, "name": "sum",
     "config": {"name": "sum"}, "inbound_nodes": [{"args": [[
       {"class_name": "__keras_tensor__", "config": {"shape": [null, 3], "dtype": "float32", "keras_history": ["d1", 0, 0]}},
       {"class_name": "__keras_tensor__", "config": {"shape": [null, 3], "dtype": "float32", "keras_history": ["d2", 0, 0]}}
     ]], "kwargs": {}}]}],
  "input_layers": ["x", 0, 0], "output_layers": ["sum", 0, 0]}})";

TEST(KerasConfig, Keras3FunctionalWithNodeObjectsAndUnwrappedRefsBuilds) {
  auto m = model_from_json(kKeras3Functional);
  EXPECT_EQ(m->layers().size(), 4u);
  const Tensor x = Tensor::uniform({2, 4});
  const Tensor y = m->predict(x);
  // sum = d1(x) + d2(x), computed here by hand.
  const Tensor a = (*m->get_layer("d1"))(x), b = (*m->get_layer("d2"))(x);
  for (int64_t i = 0; i < y.numel(); ++i) EXPECT_NEAR(y[i], a[i] + b[i], 1e-6);
}

TEST(KerasConfig, Keras3TensorKeywordArgumentsAreRefused) {
  std::string cfg = kKeras3Functional;
  const std::string from = R"("kwargs": {}}]},
    {"module": "keras.layers", "class_name": "Dense", "registered_name": null, "name": "d2")";
  const std::string to = R"("kwargs": {"mask": {"class_name": "__keras_tensor__", "config": {"shape": [null, 4],
    "dtype": "float32", "keras_history": ["x", 0, 0]}}}}]},
    {"module": "keras.layers", "class_name": "Dense", "registered_name": null, "name": "d2")";
  ASSERT_NE(cfg.find(from), std::string::npos);
  cfg.replace(cfg.find(from), from.size(), to);
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { model_from_json(cfg); }, {"'d1'", "keyword"}));
}

TEST(KerasConfig, UnknownClassInsideAFunctionalNamesTheLayer) {
  std::string cfg = kKeras3Functional;
  cfg.replace(cfg.find("\"Add\""), 5, "\"Blend\"");
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { model_from_json(cfg); }, {"model_from_json", "'Blend'", "'sum'"}));
}

TEST(KerasConfig, TrainingConfigVariantsCompile) {
  const std::string arch = R"({"class_name": "Sequential", "config": {"layers": [
    {"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [null, 3]}}]}, )";
  // Keras 3 compile_config with a builtins-function loss and a wrapped optimizer.
  auto m = model_from_json(arch + R"("compile_config": {"optimizer": {"module": "keras.optimizers", "class_name": "Adam",
    "config": {"name": "adam", "learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
    "amsgrad": false, "use_ema": false}, "registered_name": null}, "loss": {"module": "builtins",
    "class_name": "function", "config": "categorical_crossentropy", "registered_name": "function"},
    "metrics": ["accuracy"]}})");
  ASSERT_TRUE(m->compiled());
  EXPECT_EQ(m->optimizer()->class_name(), "Adam");
  EXPECT_EQ(m->loss()->name(), "categorical_crossentropy");
  ASSERT_EQ(m->metrics().size(), 1u);
}

TEST(KerasConfig, UnsupportedTrainingSetupLoadsUncompiled) {
  const std::string arch = R"({"class_name": "Sequential", "config": {"layers": [
    {"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [null, 3]}}]}, )";
  auto a = model_from_json(arch + R"("compile_config": {"optimizer": {"class_name": "Lion", "config": {}},
    "loss": "mse"}})");
  EXPECT_FALSE(a->compiled());
  auto b = model_from_json(arch + R"("compile_config": {"optimizer": "sgd", "loss": "my_custom_loss"}})");
  EXPECT_FALSE(b->compiled());
  auto c = model_from_json(arch + R"("compile_config": {"optimizer": "sgd", "loss": "mse",
    "metrics": ["not_a_metric", "mae"]}})");
  ASSERT_TRUE(c->compiled());
  EXPECT_EQ(c->metrics().size(), 1u);  // the unknown metric is dropped
}

TEST(KerasConfig, InvalidJsonTextIsAValueError) {
  EXPECT_TRUE(ThrowsQuietly<ValueError>([] { model_from_json("{\"class_name\": "); }, {"invalid JSON"}));
  EXPECT_TRUE(ThrowsQuietly<ValueError>([] { model_from_json("{\"config\": {}}"); }, {"class_name"}));
}

}  // namespace
}  // namespace minidl
