// tests/io/operation_layers_io_test.cpp — Keras 3 operation layers (x + 3, x * y) in files: a small
// functional model with operations on constants, on two tensors and the squeeze-excite broadcast
// (N, 1, 1, C) * (N, H, W, C), beside merge layers of the same class names, saved as legacy .h5 and as
// .keras and loaded back (graph, configs as Keras 3.15 writes them, predictions); and MobileNetV3Small
// of ../shared/keras-apps, whose files hold both kinds.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <iostream>
#include <map>

#include "io/hdf5.h"
#include "io/keras_internal.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "layers/base/input_layer.h"
#include "layers/base/json_text.h"
#include "layers/base/registry.h"
#include "layers/conv/conv2d.h"
#include "layers/merge/merge.h"
#include "layers/merge/operation_layers.h"
#include "layers/pooling/global_pooling2d.h"
#include "support/assertions.h"
#include "support/files.h"
#include "support/tensors.h"
#include "train/model.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;
using namespace testing;

// inputs (6, 6, 4) and (6, 6, 4):
//   h = conv(x); gate = avg_pool_keepdims(h)                 (None, 1, 1, 4)
//   hard_sigmoid = (relu-free) (gate + 3) * (1/6)            operations with constants
//   se = h * hard_sigmoid                                     operation, broadcast
//   prod = se * other                                         operation on two tensors
//   out = Add()([1 - prod, h])                                merge layer Add beside operation Add
std::shared_ptr<ModelImpl> operations_model() {
  reset_layer_names();
  KerasTensor x = Input({6, 6, 4}), other = Input({6, 6, 4});
  KerasTensor h = Conv2D(4, 1)(x);
  KerasTensor gate = GlobalAveragePooling2D({.keepdims = true})(h);
  KerasTensor hs = keras_ops::multiply(keras_ops::add(gate, 3.0), 1.0 / 6);
  KerasTensor se = keras_ops::multiply(h, hs);
  KerasTensor prod = keras_ops::multiply(se, other);
  KerasTensor out = Add()({keras_ops::subtract(1, prod), h});
  return Model({x, other}, {out}).ptr();
}

// True when the era normalisation (io/keras_config.cpp) keeps an operation's call {"args": [x, 3.0]}
// for the functional reader; a normaliser that flattens it to [x] loses the constant, and the tests
// reading files then skip, naming what they wait for.
bool normaliser_keeps_operation_calls() {
  const json call = {{"args", json::array({{{"class_name", "__keras_tensor__"},
                                            {"config", {{"keras_history", json::array({"x", 0, 0})}}}},
                                           3.0})},
                     {"kwargs", json::object()}};
  const json model = {
      {"class_name", "Functional"},
      {"config",
       {{"layers", json::array({{{"class_name", "InputLayer"},
                                 {"name", "x"},
                                 {"config", {{"name", "x"}, {"batch_shape", json::array({nullptr, 2})}}},
                                 {"inbound_nodes", json::array()}},
                                {{"class_name", "Add"},
                                 {"name", "add"},
                                 {"config", {{"name", "add"}}},
                                 {"inbound_nodes", json::array({call})}}})},
        {"input_layers", json::array({"x", 0, 0})},
        {"output_layers", json::array({"add", 0, 0})}}}};
  const json n = keras_io::normalize_config(model, "probe");
  return n["config"]["layers"][1]["inbound_nodes"][0].is_object();
}

constexpr const char* kWaitsForNormaliser =
    "io/keras_config.cpp normalize_node flattens an operation's call {\"args\": [x, 3.0]} and drops its constant "
    "(the change it needs is in H5's report)";

std::vector<Tensor> model_inputs() { return {random_tensor({2, 6, 6, 4}, 11), random_tensor({2, 6, 6, 4}, 12)}; }

// Counts of (operation layers, merge layers) by class name.
std::pair<std::map<std::string, int>, std::map<std::string, int>> layer_kinds(const ModelImpl& m) {
  std::map<std::string, int> ops, merges;
  for (const auto& l : m.layers()) {
    if (dynamic_cast<const OperationImpl*>(l.get())) ++ops[l->class_name()];
    if (dynamic_cast<const MergeImpl*>(l.get())) ++merges[l->class_name()];
  }
  return {ops, merges};
}

void expect_same_model(const std::shared_ptr<ModelImpl>& original, const std::shared_ptr<ModelImpl>& loaded) {
  EXPECT_EQ(layer_kinds(*loaded), layer_kinds(*original));
  const auto [ops, merges] = layer_kinds(*loaded);
  EXPECT_EQ(ops.at("Multiply"), 3);
  EXPECT_EQ(ops.at("Add"), 1);
  EXPECT_EQ(ops.at("Subtract"), 1);
  EXPECT_EQ(merges.at("Add"), 1);
  const auto xs = model_inputs();
  const auto want = original->predict(xs), got = loaded->predict(xs);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(AllClose(got[0], want[0], 1e-6, 1e-6));
}

// The layer entries of a config, by name.
std::map<std::string, json> entries_by_name(const json& model_config) {
  std::map<std::string, json> out;
  for (const auto& e : model_config["config"]["layers"]) out[e["name"].get<std::string>()] = e;
  return out;
}

json keras_config_json(const std::string& path) {
  const ZipReader zip(path);
  const Bytes b = zip.read("config.json", int64_t{1} << 26);
  return parse_json_limited(std::string(b.begin(), b.end()), path);
}

TEST(OperationLayersIo, FunctionalConfigRebuildsOperationCalls) {
  // minidl's own config, read without a file: the operations' calls carry their constants.
  auto model = operations_model();
  const json cfg = model->get_config();
  auto rebuilt = std::dynamic_pointer_cast<ModelImpl>(layer_from_config({{"class_name", "Functional"}, {"config", cfg}}));
  ASSERT_TRUE(rebuilt);
  rebuilt->set_weights(model->get_weights());
  expect_same_model(model, rebuilt);
  EXPECT_EQ(rebuilt->get_config(), cfg);
}

TEST(OperationLayersIo, LegacyH5RoundTripKeepsOperationsAndMerges) {
  if (!normaliser_keeps_operation_calls()) GTEST_SKIP() << kWaitsForNormaliser;
  auto model = operations_model();
  const std::string path = fresh_path("ops.h5");
  save_model(*model, path);
  // The entries as Keras 3.15 writes them into model_config.
  const json cfg = parse_json_limited(h5::H5File::open_read(path).root().read_string_attr("model_config"), path);
  const auto entries = entries_by_name(cfg);
  const json& add = entries.at("add");
  EXPECT_EQ(add["class_name"], "Add");
  EXPECT_EQ(add["config"], json({{"name", "add"}}));
  ASSERT_EQ(add["inbound_nodes"].size(), 1u);
  const json& call = add["inbound_nodes"][0];
  ASSERT_EQ(call["args"].size(), 2u);
  EXPECT_EQ(call["args"][0]["class_name"], "__keras_tensor__");
  EXPECT_EQ(call["args"][0]["config"]["keras_history"], json::array({"global_average_pooling2d", 0, 0}));
  EXPECT_EQ(call["args"][1], json(3.0));
  EXPECT_EQ(call["kwargs"], json::object());
  EXPECT_EQ(entries.at("subtract")["inbound_nodes"][0]["args"][0], json(1.0));
  EXPECT_TRUE(entries.at("add_1")["inbound_nodes"][0].is_array());  // the merge layer: Keras 2 references
  expect_same_model(model, load_model(path));
}

TEST(OperationLayersIo, KerasZipRoundTripKeepsOperationsAndMerges) {
  if (!normaliser_keeps_operation_calls()) GTEST_SKIP() << kWaitsForNormaliser;
  auto model = operations_model();
  const std::string path = fresh_path("ops.keras");
  save_model(*model, path);
  const auto entries = entries_by_name(keras_config_json(path));
  const json& mul = entries.at("multiply");
  EXPECT_EQ(mul["module"], "keras.src.ops.numpy");
  EXPECT_EQ(mul["class_name"], "Multiply");
  EXPECT_EQ(mul["registered_name"], "Multiply");
  EXPECT_EQ(mul["config"], json({{"name", "multiply"}}));
  EXPECT_FALSE(mul.contains("build_config"));
  const json& args = mul["inbound_nodes"][0]["args"];
  ASSERT_EQ(args.size(), 2u);
  EXPECT_EQ(args[0]["config"]["keras_history"], json::array({"add", 0, 0}));
  EXPECT_EQ(args[0]["config"]["shape"], json::array({nullptr, 1, 1, 4}));
  EXPECT_NEAR(args[1].get<double>(), 1.0 / 6, 1e-7);
  const json& two_tensors = entries.at("multiply_2")["inbound_nodes"][0]["args"];
  ASSERT_EQ(two_tensors.size(), 2u);  // x * y: two positional tensors, not one list
  EXPECT_EQ(two_tensors[1]["config"]["keras_history"][0], model->inputs()[1].layer()->name());
  const json& merge = entries.at("add_1");
  EXPECT_EQ(merge["module"], "keras.layers");
  EXPECT_EQ(merge["inbound_nodes"][0]["args"].size(), 1u);  // one list of tensors
  expect_same_model(model, load_model(path));
}

TEST(OperationLayersIo, OperationOnAConstantArrayRoundTrips) {
  if (!normaliser_keeps_operation_calls()) GTEST_SKIP() << kWaitsForNormaliser;
  reset_layer_names();
  KerasTensor x = Input({3});
  auto scale = std::make_shared<OperationImpl>(
      OperationKind::kMultiply, std::vector<std::optional<Tensor>>{std::nullopt, Tensor::from_data({3}, {1, 2, 3})});
  auto model = Model(x, (*scale)(x)).ptr();
  for (const char* name : {"arr.h5", "arr.keras"}) {
    const std::string path = (temp_dir() / name).string();
    save_model(*model, path);
    auto loaded = load_model(path);
    const Tensor in = Tensor::from_data({1, 3}, {1, 1, 1});
    EXPECT_TRUE(AllClose(loaded->predict(in), Tensor::from_data({1, 3}, {1, 2, 3}))) << name;
  }
}

// Operations whose class no merge layer shares (TrueDivide, Power, ...) load from both layouts.
TEST(OperationLayersIo, DivisionAndPowerRoundTripInBothLayouts) {
  reset_layer_names();
  KerasTensor x = Input({3});
  KerasTensor y = keras_ops::power(keras_ops::true_divide(x, 2.0), 2.0);
  auto model = Model(x, keras_ops::divide(y, x)).ptr();
  for (const char* name : {"div.h5", "div.keras"}) {
    const std::string path = (temp_dir() / name).string();
    save_model(*model, path);
    auto loaded = load_model(path);
    const Tensor in = Tensor::from_data({1, 3}, {1, 2, 4});
    EXPECT_TRUE(AllClose(loaded->predict(in), Tensor::from_data({1, 3}, {0.25f, 0.5f, 1.0f}))) << name;
  }
}

TEST(OperationLayersIo, UnknownOperationNamesTheClassTheLayerAndTheFile) {
  auto model = operations_model();
  const std::string path = fresh_path("ops.json");
  json cfg = {{"class_name", "Functional"}, {"config", model->get_config()}};
  for (auto& e : cfg["config"]["layers"])
    if (e["name"] == "subtract") e["class_name"] = "Hypot";
  write_file(path, cfg.dump());
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { load_model_from_parts(path, ""); }, {path, "Hypot", "subtract"}));
}

// MobileNetV3Small (Keras 3.15.1): 9 Add and 9 Multiply operations (hard_sigmoid written as
// relu6(x + 3) * (1/6)) beside 6 Add and 9 Multiply merge layers. Loaded from `file`, or null (and
// the test skipped) when the file is absent or needs a class another engineer adds.
std::shared_ptr<ModelImpl> load_mobilenet_v3_small(const std::string& file) {
  const fs::path path = shared_dir() / "keras-apps" / file;
  if (!fs::exists(path)) return nullptr;
  try {
    return load_model(path.string());
  } catch (const ValueError& e) {
    const std::string what = e.what();
    if (what.find("Rescaling") != std::string::npos || what.find("input_axes") != std::string::npos) return nullptr;
    throw;
  }
}

void check_mobilenet_v3_small(const std::string& file) {
  if (!normaliser_keeps_operation_calls()) GTEST_SKIP() << kWaitsForNormaliser;
  auto model = load_mobilenet_v3_small(file);
  if (!model) GTEST_SKIP() << file << " is absent or waits for another layer class or config key";
  const auto [ops, merges] = layer_kinds(*model);
  EXPECT_EQ(ops, (std::map<std::string, int>{{"Add", 9}, {"Multiply", 9}}));
  EXPECT_EQ(merges, (std::map<std::string, int>{{"Add", 6}, {"Multiply", 9}}));
  // Keras's own prediction, within the README's rule 1e-4 + 1e-3 * max|y|.
  auto io = h5::H5File::open_read((shared_dir() / "keras-apps" / "MobileNetV3Small.io.h5").string()).root();
  const Tensor x = io.open_dataset("x").read_tensor(), y = io.open_dataset("y").read_tensor();
  const Tensor got = model->predict(x, 2);
  ASSERT_EQ(got.shape(), y.shape());
  double err = 0, peak = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    err = std::max(err, std::abs(double(got[i]) - y[i]));
    peak = std::max(peak, std::abs(double(y[i])));
  }
  EXPECT_LE(err, 1e-4 + 1e-3 * peak) << file;
  std::cout << file << ": max|got - y| = " << err << ", max|y| = " << peak << "\n";
}

TEST(OperationLayersIo, MobileNetV3SmallKerasHasOperationsAndMerges) { check_mobilenet_v3_small("MobileNetV3Small.keras"); }

TEST(OperationLayersIo, MobileNetV3SmallH5HasOperationsAndMerges) { check_mobilenet_v3_small("MobileNetV3Small.h5"); }

TEST(OperationLayersIo, MobileNetV3SmallKerasRoundTripKeepsGraphAndOutputs) {
  if (!normaliser_keeps_operation_calls()) GTEST_SKIP() << kWaitsForNormaliser;
  auto model = load_mobilenet_v3_small("MobileNetV3Small.keras");
  if (!model) GTEST_SKIP() << "MobileNetV3Small.keras is absent or waits for another layer class or config key";
  const std::string path = fresh_path("v3.keras");
  save_model(*model, path);
  auto again = load_model(path);
  EXPECT_EQ(layer_kinds(*again), layer_kinds(*model));
  ASSERT_EQ(again->layers().size(), model->layers().size());
  for (size_t i = 0; i < model->layers().size(); ++i)
    EXPECT_EQ(again->layers()[i]->name(), model->layers()[i]->name());
  const Tensor x = random_tensor({2, 64, 64, 3}, 21);
  EXPECT_TRUE(AllClose(again->predict(x, 2), model->predict(x, 2), 1e-6, 1e-5));
  // The operations are written as Keras writes them.
  const auto entries = entries_by_name(keras_config_json(path));
  EXPECT_EQ(entries.at("add")["module"], "keras.src.ops.numpy");
  EXPECT_EQ(entries.at("add")["inbound_nodes"][0]["args"][1], json(3.0));
  EXPECT_EQ(entries.at("multiply")["inbound_nodes"][0]["args"][1], json(0.16666666666666666));
}

}  // namespace
}  // namespace minidl
