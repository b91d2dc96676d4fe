// tests/io/keras_new_layers_contract_test.cpp — what Keras's readers need from the configs minidl writes
// for the layers the keras.applications CNNs added: Rescaling, Normalization (given and adapted),
// LayerNormalization (with rms_scaling), ConvNeXt's LayerScale and the operation layers (x + 3, x * y).
// Keras builds a layer as cls(**config); every key must be an argument of that class:
//   * .keras: Keras 3.15's constructors (keras/src/layers/..., keras/src/applications/convnext.py,
//     keras/src/ops/numpy.py whose operations take only `name`), each class found from its module
//     and registered_name as serialization_lib._retrieve_class_or_fn finds it;
//   * .h5: the layout of tf.keras 2.x (io/keras_save.cpp writes keras_version 2.4.0), whose
//     Layer.__init__ takes name, trainable, dtype, dynamic and a fixed set of keyword arguments;
//     arguments a later tf.keras added (Normalization's invert, 2.10) or Keras 3 alone takes
//     (LayerNormalization's rms_scaling) are written only when they differ from the default.
// And the errors a reader of such files meets: an unknown layer class names the class, the layer and
// the file, in both layouts; operands that do not broadcast are Keras's ValueError.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "minidl/minidl.h"
#include "support/assertions.h"
#include "support/files.h"
#include "support/saved_configs.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using nlohmann::json;
using testing::saved_layer_entries;

std::set<std::string> with(std::set<std::string> base, std::initializer_list<std::string> more) {
  base.insert(more);
  return base;
}

// Keras 3.15 Layer.__init__'s keywords; an Operation's __init__ takes `name` alone.
const std::set<std::string> kKeras3LayerKwargs = {"name",        "trainable", "dtype",
                                                  "autocast",    "input_shape", "input_dim",
                                                  "activity_regularizer"};
// tf.keras 2.x Layer.__init__: trainable, name, dtype, dynamic and its allowed_kwargs.
const std::set<std::string> kTfKerasLayerKwargs = {"name",        "trainable",         "dtype",
                                                   "dynamic",     "input_dim",         "input_shape",
                                                   "batch_input_shape", "batch_size", "weights",
                                                   "activity_regularizer", "autocast", "implementation"};

const std::set<std::string> kLayerNormArguments = {"axis",              "epsilon",           "center",
                                                   "scale",             "beta_initializer",  "gamma_initializer",
                                                   "beta_regularizer",  "gamma_regularizer", "beta_constraint",
                                                   "gamma_constraint"};

const std::map<std::string, std::set<std::string>>& keras315_arguments() {
  static const std::map<std::string, std::set<std::string>> args = {
      {"Rescaling", with(kKeras3LayerKwargs, {"scale", "offset"})},
      {"Normalization", with(kKeras3LayerKwargs, {"axis", "mean", "variance", "invert"})},
      {"LayerNormalization", with(kKeras3LayerKwargs, {"rms_scaling"})},
      {"LayerScale", with(kKeras3LayerKwargs, {"init_values", "projection_dim"})},
  };
  return args;
}

const std::map<std::string, std::set<std::string>>& tf_keras2_arguments() {
  static const std::map<std::string, std::set<std::string>> args = {
      {"Rescaling", with(kTfKerasLayerKwargs, {"scale", "offset"})},
      {"Normalization", with(kTfKerasLayerKwargs, {"axis", "mean", "variance"})},
      {"LayerNormalization", kTfKerasLayerKwargs},
      {"LayerScale", with(kTfKerasLayerKwargs, {"init_values", "projection_dim"})},  // tf.keras 2.10's convnext
  };
  return args;
}

std::set<std::string> arguments(const std::map<std::string, std::set<std::string>>& table, const std::string& cls) {
  std::set<std::string> out = table.at(cls);
  if (cls == "LayerNormalization") out.insert(kLayerNormArguments.begin(), kLayerNormArguments.end());
  return out;
}

const std::set<std::string> kOperationClasses = {"Add", "Subtract", "Multiply", "Divide", "TrueDivide",
                                                 "Maximum", "Minimum", "Power"};

// Input (4, 4, 3) -> Rescaling (number) -> Rescaling (per channel) -> adapted Normalization ->
// Normalization given -> Normalization inverted -> LayerNormalization -> LayerNormalization over
// (1, 2, 3) with rms_scaling -> LayerScale -> hard_sigmoid gate as operations with constants,
// multiplied in (squeeze-excite broadcast), then 1 - x * 0.5.
std::shared_ptr<ModelImpl> new_layers_model() {
  reset_layer_names();
  KerasTensor in = Input({4, 4, 3}, {.name = "image"});
  auto adapted = Normalization({.axis = -1});
  KerasTensor x = Rescaling(1.0 / 127.5, {.offset = -1.0})(in);
  x = Rescaling({0.5, 1.5, 2.0}, {.offset = 0.25, .name = "per_channel"})(x);
  x = adapted(x);
  x = Normalization({.mean = {0.1, 0.2, 0.3}, .variance = {1.0, 4.0, 9.0}, .name = "given"})(x);
  x = Normalization({.mean = {0.5}, .variance = {2.0}, .invert = true, .name = "inverted"})(x);
  x = LayerNormalization()(x);
  x = LayerNormalization({.axis = {1, 2, 3}, .rms_scaling = true, .name = "rms"})(x);
  x = LayerScale(1e-6, 3)(x);
  KerasTensor gate = GlobalAveragePooling2D({.keepdims = true})(x);
  KerasTensor hard_sigmoid = keras_ops::multiply(keras_ops::add(gate, 3.0), 1.0 / 6);
  x = keras_ops::multiply(x, hard_sigmoid);
  KerasTensor out = keras_ops::subtract(1.0, keras_ops::multiply(x, 0.5));
  auto m = std::make_shared<ModelImpl>(in, out, "new_layers");
  std::mt19937_64 rng(3);
  adapted->adapt(testing::random_tensor({6, 4, 4, 3}, rng, 0.f, 1.f));
  return m;
}

// The entries of `file` (saved from new_layers_model) by class name.
std::map<std::string, std::vector<json>> entries_by_class(const std::string& file) {
  std::map<std::string, std::vector<json>> out;
  for (const json& e : saved_layer_entries(*new_layers_model(), file)) out[e["class_name"]].push_back(e);
  return out;
}

bool is_number_or_numbers(const json& v) {
  if (v.is_number()) return true;
  if (!v.is_array()) return false;
  for (const json& e : v)
    if (!is_number_or_numbers(e)) return false;
  return true;
}

TEST(KerasNewLayersContract, KerasArchiveConfigsCarryOnlyKeras315Arguments) {
  const auto by_class = entries_by_class("new_layers.keras");
  for (const auto& [cls, entries] : by_class) {
    if (!keras315_arguments().count(cls) || entries[0].value("module", "") == "keras.src.ops.numpy") continue;
    for (const json& e : entries)
      for (const auto& [k, v] : e["config"].items())
        EXPECT_TRUE(arguments(keras315_arguments(), cls).count(k))
            << "Unrecognized keyword arguments passed to " << cls << ": {'" << k << "'}";
  }
  for (const char* cls : {"Rescaling", "Normalization", "LayerNormalization", "LayerScale"})
    EXPECT_TRUE(by_class.count(cls)) << cls;
}

TEST(KerasNewLayersContract, KerasArchiveClassesResolveFromModuleAndRegisteredName) {
  int operations = 0;
  for (const json& e : saved_layer_entries(*new_layers_model(), "new_layers.keras")) {
    const std::string cls = e["class_name"], module = e["module"];
    if (module == "keras.src.ops.numpy") {
      // Imported from keras.src.ops.numpy; Operation.__init__(name) is all the config may hold.
      ++operations;
      EXPECT_TRUE(kOperationClasses.count(cls)) << cls;
      EXPECT_EQ(e["registered_name"], cls);
      EXPECT_EQ(e["config"], json({{"name", e["name"]}})) << cls;
      EXPECT_FALSE(e.contains("build_config")) << cls;
      for (const json& node : e["inbound_nodes"]) {
        ASSERT_EQ(node["args"].size(), 2u) << node.dump();
        EXPECT_EQ(node["kwargs"], json::object());
        int tensors = 0;
        for (const json& a : node["args"]) {
          const bool tensor = a.is_object() && a.value("class_name", "") == "__keras_tensor__";
          tensors += tensor;
          EXPECT_TRUE(tensor || a.is_number() || (a.is_object() && a.value("class_name", "") == "__numpy__"))
              << a.dump();
        }
        EXPECT_GE(tensors, 1) << node.dump();
      }
    } else if (cls == "LayerScale") {
      // Not exported: found by importing its application module and taking the class by name.
      EXPECT_EQ(module, "keras.src.applications.convnext");
      EXPECT_EQ(e["registered_name"], "LayerScale");
    } else {
      // Exported: a registered_name other than null or the class name is refused for a built-in.
      EXPECT_EQ(module, "keras.layers") << cls;
      EXPECT_TRUE(e["registered_name"].is_null() || e["registered_name"] == cls) << cls;
    }
  }
  EXPECT_EQ(operations, 5);  // add, multiply three times, subtract
}

TEST(KerasNewLayersContract, LegacyH5ConfigsCarryOnlyTfKeras2Arguments) {
  const auto by_class = entries_by_class("new_layers.h5");
  for (const char* cls : {"Rescaling", "Normalization", "LayerNormalization", "LayerScale"}) {
    ASSERT_TRUE(by_class.count(cls)) << cls;
    for (const json& e : by_class.at(cls)) {
      const json& c = e["config"];
      for (const auto& [k, v] : c.items()) {
        // Written only when not the default, which needs the tf.keras (2.10) or Keras 3 that has it.
        const bool later_argument = (cls == std::string("Normalization") && k == "invert") ||
                                    (cls == std::string("LayerNormalization") && k == "rms_scaling");
        if (later_argument) {
          EXPECT_EQ(v, true) << cls << " " << c["name"] << " " << k;
          continue;
        }
        EXPECT_TRUE(arguments(tf_keras2_arguments(), cls).count(k)) << cls << " " << c["name"] << ": " << k;
        EXPECT_TRUE(arguments(keras315_arguments(), cls).count(k) || k == "batch_input_shape")
            << cls << " " << c["name"] << ": " << k;
      }
    }
  }
  for (const json& e : by_class.at("Normalization")) {
    const json& c = e["config"];
    EXPECT_EQ(c.contains("invert"), c["name"] == "inverted") << c.dump();
  }
  for (const json& e : by_class.at("LayerNormalization"))
    EXPECT_EQ(e["config"].contains("rms_scaling"), e["config"]["name"] == "rms") << e["config"].dump();
}

TEST(KerasNewLayersContract, LegacyH5NumbersAreWhatTfKeras2Casts) {
  // tf.keras 2.x casts scale/offset and mean/variance as they are (tf.cast, np.array): numbers and
  // nested lists, as its json writer turns numpy arrays into lists.
  const auto by_class = entries_by_class("new_layers.h5");
  for (const json& e : by_class.at("Rescaling"))
    for (const char* k : {"scale", "offset"})
      EXPECT_TRUE(is_number_or_numbers(e["config"][k])) << e["config"]["name"] << " " << k << ": " << e["config"][k];
  for (const json& e : by_class.at("Normalization"))
    for (const char* k : {"mean", "variance"})
      EXPECT_TRUE(!e["config"].contains(k) || e["config"][k].is_null() || is_number_or_numbers(e["config"][k]))
          << e["config"]["name"] << " " << k << ": " << e["config"][k];
}

TEST(KerasNewLayersContract, LegacyH5OperationsAreMergeClassesWithANameOnly) {
  // Keras 3's legacy writer gives an operation its class name and {"name"}; a reader that takes it
  // for the merge layer of that name builds it with that config (Add(name=...), Multiply(name=...)).
  int operations = 0;
  for (const json& e : saved_layer_entries(*new_layers_model(), "new_layers.h5")) {
    const std::string name = e["config"]["name"];
    if (name.rfind("add", 0) != 0 && name.rfind("multiply", 0) != 0 && name.rfind("subtract", 0) != 0) continue;
    ++operations;
    EXPECT_TRUE(kOperationClasses.count(e["class_name"])) << e["class_name"];
    EXPECT_EQ(e["config"], json({{"name", name}})) << name;
  }
  EXPECT_EQ(operations, 5);
}

TEST(KerasNewLayersContract, BothLayoutsLoadBackTheSamePredictions) {
  auto m = new_layers_model();
  std::mt19937_64 rng(11);
  const Tensor x = testing::random_tensor({2, 4, 4, 3}, rng, 0.f, 255.f);
  const Tensor want = m->predict(x);
  for (const char* file : {"back.h5", "back.keras"}) {
    const std::string path = (testing::temp_dir() / file).string();
    save_model(*m, path);
    auto back = load_model(path);
    EXPECT_EQ(back->get_config(), m->get_config()) << file;
    EXPECT_TRUE(testing::AllClose(back->predict(x), want)) << file;
  }
}

// --- errors a reader of these files meets ------------------------------------------------

// A layer of a class no registry knows: what a file from a Keras with a custom layer holds.
class GatewayImpl : public Layer {
 public:
  GatewayImpl() : Layer(LayerOptions{.name = "gateway"}, "gateway") {}
  std::string class_name() const override { return "ContractGateway"; }
  json get_config() const override { return base_config(); }

 protected:
  VariableList call(const std::vector<Variable>& in, const CallArgs&) override { return {single_input(in)}; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& s) override { return {single_shape(s)}; }
};

// Saves Input -> ContractGateway as `file` and expects loading it to name the class, the layer and the file.
::testing::AssertionResult UnknownClassErrorNamesClassLayerAndFile(const std::string& file) {
  reset_layer_names();
  KerasTensor in = Input({3}, {.name = "v"});
  auto model = std::make_shared<ModelImpl>(in, (*std::make_shared<GatewayImpl>())(in), "custom");
  const std::string path = (testing::temp_dir() / file).string();
  save_model(*model, path);
  return testing::ThrowsQuietly<ValueError>([&] { load_model(path); },
                                            {path, "unknown layer class 'ContractGateway'", "'gateway'"});
}

TEST(KerasNewLayersContract, AnUnknownClassInALegacyH5NamesTheClassTheLayerAndTheFile) {
  EXPECT_TRUE(UnknownClassErrorNamesClassLayerAndFile("custom.h5"));
}

TEST(KerasNewLayersContract, AnUnknownClassInAKerasArchiveNamesTheClassTheLayerAndTheFile) {
  EXPECT_TRUE(UnknownClassErrorNamesClassLayerAndFile("custom.keras"));
}

TEST(KerasNewLayersContract, OperandsThatDoNotBroadcastAreAValueErrorThroughALoadedFile) {
  // x (None, 4) * y (None, 3) cannot be built; a file holding that call, the operation's config as
  // Keras writes it, fails to load with Keras's broadcast message naming the operation and the layer.
  reset_layer_names();
  KerasTensor a = Input({4}, {.name = "a"}), b = Input({4}, {.name = "b"});
  auto model = std::make_shared<ModelImpl>(std::vector<KerasTensor>{a, b},
                                           std::vector<KerasTensor>{keras_ops::multiply(a, b)}, "product");
  const std::string good = (testing::temp_dir() / "product.keras").string();
  save_model(*model, good);
  std::map<std::string, Bytes> members = read_zip(good);
  json cfg = json::parse(std::string(members.at("config.json").begin(), members.at("config.json").end()));
  for (json& layer : cfg["config"]["layers"])
    if (layer["name"] == "b") layer["config"]["batch_shape"] = json::array({nullptr, 3});
  const std::string text = cfg.dump();
  members["config.json"] = Bytes(text.begin(), text.end());
  std::vector<ZipEntry> entries;
  for (const char* name : {"metadata.json", "config.json", "model.weights.h5"})
    entries.push_back({name, members.at(name), std::nullopt});
  const std::string bad = (testing::temp_dir() / "product_bad.keras").string();
  write_zip(bad, entries);
  EXPECT_TRUE(testing::ThrowsQuietly<ValueError>(
      [&] { load_model(bad); }, {"Multiply 'multiply'", "Cannot broadcast shape", "(None, 4) and (None, 3)"}));
}

}  // namespace
}  // namespace minidl
