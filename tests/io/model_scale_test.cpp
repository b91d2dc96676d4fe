// Loading scales with the model: graph construction and config reading are linear in
// layers + nodes (Sequential::add extends the graph by one node, Functional configs connect
// each node when its inputs exist), so legacy .h5 files of 3,000 and 6,000 layers load
// within the test budget and compute the right values. Models nested inside models are
// capped at kMaxModelNesting levels (layers/base/functional.h): deeper configs are one error
// naming the file and the nested model, never a stack overflow. Times are not asserted.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "layers/activations/activation_layers.h"
#include "layers/base/functional.h"
#include "layers/base/input_layer.h"
#include "layers/base/json_text.h"
#include "layers/base/registry.h"
#include "layers/core/dense.h"
#include "support/assertions.h"
#include "support/files.h"

namespace minidl {
namespace {

using nlohmann::json;
using testing::ThrowsQuietly;

// "a12" for ("a", 12).
std::string numbered(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

// A Sequential (or Functional) config: Input(3) -> `n` Activation("relu") -> Dense(2, "d").
// Functional layers are listed in reverse order when `reversed` (Keras accepts any order).
std::string chain_config(int n, bool functional, bool reversed = false) {
  json layers = json::array();
  layers.push_back({{"class_name", "InputLayer"},
                    {"name", "in"},
                    {"config", {{"batch_input_shape", {nullptr, 3}}, {"dtype", "float32"}, {"name", "in"}}},
                    {"inbound_nodes", json::array()}});
  std::string prev = "in";
  auto add = [&](json entry, const std::string& name) {
    entry["name"] = name;
    if (functional) entry["inbound_nodes"] = json::array({json::array({json::array({prev, 0, 0, json::object()})})});
    layers.push_back(std::move(entry));
    prev = name;
  };
  for (int i = 0; i < n; ++i) {
    const std::string name = numbered("a", i);
    add({{"class_name", "Activation"}, {"config", {{"name", name}, {"activation", "relu"}}}}, name);
  }
  add({{"class_name", "Dense"}, {"config", {{"name", "d"}, {"units", 2}}}}, "d");
  if (reversed) std::reverse(layers.begin(), layers.end());
  json config = {{"name", "chain"}, {"layers", layers}};
  if (functional) {
    config["input_layers"] = json::array({json::array({"in", 0, 0})});
    config["output_layers"] = json::array({json::array({"d", 0, 0})});
  }
  return json{{"class_name", functional ? "Functional" : "Sequential"}, {"config", config}}.dump();
}

// A legacy full-model .h5 as Keras writes it: model_config, one group per layer under
// /model_weights (empty weight_names for weightless layers), Dense "d" with kernel of ones.
std::string write_legacy_model(const std::string& name, const std::string& model_config,
                               const std::vector<std::string>& layer_names) {
  const std::string path = (testing::temp_dir() / name).string();
  h5::H5File f = h5::H5File::create(path);
  f.root().write_string_attr("keras_version", "2.4.0");
  f.root().write_string_attr("backend", "tensorflow");
  f.root().write_string_attr("model_config", model_config);  // variable-length: no 64 KiB header limit
  const h5::Group mw = f.root().create_group("model_weights");
  mw.write_string_array_attr("layer_names", layer_names);
  for (const auto& ln : layer_names) {
    const h5::Group g = mw.create_group(ln);
    if (ln != "d") {
      g.write_empty_array_attr("weight_names");
      continue;
    }
    g.write_string_array_attr("weight_names", {"d/kernel:0", "d/bias:0"});
    g.write_tensor("d/kernel:0", Tensor::ones({3, 2}));
    g.write_tensor("d/bias:0", Tensor::full({2}, 0.5f));
  }
  f.close();
  return path;
}

std::vector<std::string> chain_names(int n) {
  std::vector<std::string> names = {"in"};
  for (int i = 0; i < n; ++i) names.push_back(numbered("a", i));
  names.push_back("d");
  return names;
}

// relu applied any number of times is relu; then the Dense sums the three inputs, plus 0.5.
void expect_chain_output(ModelImpl& model) {
  const Tensor x = Tensor::from_data({2, 3}, {-1.f, 2.f, 3.f, 4.f, -5.f, 6.f});
  const Tensor y = model.predict(x);
  ASSERT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_FLOAT_EQ(y.data()[0], 5.5f);
  EXPECT_FLOAT_EQ(y.data()[1], 5.5f);
  EXPECT_FLOAT_EQ(y.data()[2], 10.5f);
  EXPECT_FLOAT_EQ(y.data()[3], 10.5f);
}

void load_chain(int n, bool functional, bool reversed = false) {
  const std::string path = write_legacy_model(numbered("chain_", n) + ".h5",
                                              chain_config(n, functional, reversed), chain_names(n));
  auto model = load_model(path);
  ASSERT_NE(model, nullptr);
  // Sequential.layers has no InputLayer; Functional.layers has it.
  EXPECT_EQ(model->layers().size(), static_cast<size_t>(n + (functional ? 2 : 1)));
  EXPECT_EQ(model->layers().back()->name(), "d");
  expect_chain_output(*model);
}

TEST(ModelScale, LoadsSequentialOf3000Activations) { load_chain(3000, false); }

TEST(ModelScale, LoadsSequentialOf6000Activations) { load_chain(6000, false); }

TEST(ModelScale, LoadsFunctionalOf6000ActivationsListedInReverse) { load_chain(6000, true, true); }

TEST(ModelScale, SequentialAddOneAtATimeKeepsTheGraphOfAFullBuild) {
  // add() extends the graph by one node; the result must be the graph init_graph builds.
  Sequential grown;
  grown->add(Input(Shape{3}, {.name = "in"}));
  for (int i = 0; i < 50; ++i) grown->add(ActivationLayer("relu", {.name = numbered("g", i)}));
  grown->add(Dense(2, {.name = "d"}));
  const auto rebuilt = model_from_json(json{{"class_name", "Sequential"}, {"config", grown->get_config()}}.dump());
  EXPECT_EQ(rebuilt->get_config(), grown->get_config());
  EXPECT_EQ(grown->layers().size(), 51u);
  EXPECT_EQ(grown->get_layer("g49")->name(), "g49");
  const Tensor x = Tensor::ones({4, 3});
  EXPECT_EQ(grown->predict(x).shape(), (Shape{4, 2}));
  // A name used by the InputLayer or an added layer is refused, and the model is unchanged.
  EXPECT_THROW(grown->add(ActivationLayer("relu", {.name = "in"})), ValueError);
  EXPECT_THROW(grown->add(ActivationLayer("relu", {.name = "g7"})), ValueError);
  EXPECT_EQ(grown->layers().size(), 51u);
  grown->pop();
  grown->add(Dense(2, {.name = "d"}));  // the popped name is free again
  EXPECT_EQ(grown->predict(x).shape(), (Shape{4, 2}));
}

// `depth` Sequential models, each the only layer of the one around it, the innermost
// holding Input(3) -> Activation (no weights). Model k is named "m<k>" (m1 outermost).
json nested_sequentials(int depth) {
  json inner = {{"class_name", "Sequential"},
                {"config",
                 {{"name", numbered("m", depth)},
                  {"layers",
                   {{{"class_name", "InputLayer"}, {"config", {{"batch_input_shape", {nullptr, 3}}, {"name", "in"}}}},
                    {{"class_name", "Activation"}, {"config", {{"name", "act"}, {"activation", "relu"}}}}}}}}};
  for (int k = depth - 1; k >= 1; --k) {
    json outer = {{"class_name", "Sequential"},
                  {"config", {{"name", numbered("m", k)}, {"layers", json::array({std::move(inner)})}}}};
    inner = std::move(outer);
  }
  return inner;
}

// The text of nested_sequentials(depth), written without nlohmann::json: its
// dump() recurses once per level, which overflows the stack of an
// AddressSanitizer build at 10,000 levels.
std::string nested_sequentials_text(int depth) {
  const std::string innermost = nested_sequentials(1).dump();  // model "m1": rename it m<depth>
  const std::string inner = innermost.substr(0, innermost.find("\"m1\"")) + "\"" + numbered("m", depth) + "\"" +
                            innermost.substr(innermost.find("\"m1\"") + 4);
  std::string text;
  for (int k = 1; k < depth; ++k)
    text += R"({"class_name":"Sequential","config":{"name":")" + numbered("m", k) + R"(","layers":[)";
  text += inner;
  for (int k = 1; k < depth; ++k) text += "]}}";
  return text;
}

TEST(ModelNesting, NestedTextIsTheConfigsDump) {
  EXPECT_EQ(json::parse(nested_sequentials_text(5)), nested_sequentials(5));
}

TEST(ModelNesting, ModelsNestedToTheLimitLoad) {
  const std::string path = write_legacy_model("nested_ok.h5", nested_sequentials(kMaxModelNesting).dump(), {});
  auto model = load_model(path);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->predict(Tensor::ones({1, 3})).shape(), (Shape{1, 3}));
}

TEST(ModelNesting, OneLevelPastTheLimitIsAValueErrorNamingFileAndModel) {
  const int depth = kMaxModelNesting + 1;
  const std::string path = write_legacy_model("nested_over.h5", nested_sequentials(depth).dump(), {});
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { load_model(path); },
                                        {path, "model '" + numbered("m", depth) + "'",
                                         numbered("limit of ", kMaxModelNesting), "m1, m2"}));
}

TEST(ModelNesting, TenThousandNestedModelsInAFileAreOneError) {
  const std::string path = write_legacy_model("nested_10000.h5", nested_sequentials_text(10000), {});
  // The JSON nesting limit refuses the text before any model is built.
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(path); }, {path, "model_config"}));
}

TEST(ModelNesting, AThousandNestedModelsInMemoryAreOneValueError) {
  // A config built in memory passes no parse limit: the nesting guard stops the
  // recursion. (1,000 levels: copies of a nlohmann::json recurse once per level,
  // and 10,000 overflow the stack of an AddressSanitizer build.)
  const json config = nested_sequentials(1000);
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { layer_from_config(config); },
                                        {"model '" + numbered("m", kMaxModelNesting + 1) + "'", "nested"}));
  // The guard unwinds: a normal model still builds afterwards on this thread.
  EXPECT_NE(layer_from_config(nested_sequentials(3)), nullptr);
}

}  // namespace
}  // namespace minidl
