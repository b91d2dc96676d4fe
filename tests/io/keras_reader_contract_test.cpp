// What Keras's own readers need from a full-model .h5, checked item by item on a file minidl
// writes. The checklist comes from tf.keras 2.x hdf5_format.py (load_model_from_hdf5,
// load_weights_from_hdf5_group, preprocess_weights_for_loading, load_attributes_from_hdf5_group,
// load_optimizer_weights_from_hdf5_group) and Keras 3 legacy_h5_format.py (the same, plus
// safe_get_h5_group / safe_get_h5_dataset path walking). The file is read here the way they
// read it through h5py:
//   * root attrs model_config / training_config: scalar strings (h5py returns bytes or str,
//     Keras .decode('utf-8')s bytes), JSON; training_config["loss_weights"] is indexed, not .get;
//   * keras_version / backend at the root and on /model_weights: scalar strings; a version
//     "1..." or backend "theano" would trigger Keras 1 / Theano kernel conversions;
//   * layer_names / weight_names: iterated (`for n in attrs[name]`), so rank 1, strings or
//     h5py's empty float64 array, or split into name0, name1, ...;
//   * layers with weights are matched by position to the model's layers with weights, and
//     each weight_names entry is looked up as a path (g[name]) and assigned by position:
//     trainable weights then non-trainable ones, Keras shapes;
//   * optimizer_weights: weight_names entries resolved the same way, then set_weights in order.
//   * layer and initializer configs: built as cls(**config) by both (Keras 3's legacy loader first
//     moves batch_input_shape to input_shape), so every key must be an argument of the class.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/conv/separable_conv2d.h"
#include "layers/core/dense.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/global_pooling2d.h"
#include "layers/reshaping/reshaping.h"
#include "support/files.h"
#include "support/keras_files.h"
#include "support/saved_configs.h"

namespace minidl {
namespace {

using nlohmann::json;
using testing::collect_initializers;
using testing::saved_layer_entries;

// Conv2D + BatchNormalization + Dense, compiled with Adam and trained one step, so the file
// has every part: model_config, training_config, model_weights, optimizer_weights.
std::shared_ptr<ModelImpl> contract_model() {
  reset_layer_names();
  KerasTensor in = Input({5, 5, 2}, {.name = "image"});
  KerasTensor c = Conv2D(3, 3, {.padding = "same", .activation = "relu"})(in);
  KerasTensor b = BatchNormalization()(c);
  KerasTensor f = Flatten()(b);
  KerasTensor out = Dense(4, {.activation = "softmax"})(f);
  auto m = std::make_shared<ModelImpl>(in, out, "contract");
  m->compile("adam", "categorical_crossentropy", {"accuracy"});
  const Tensor x = Tensor::uniform({2, 5, 5, 2});
  const Tensor y = Tensor::from_data({2, 4}, {1, 0, 0, 0, 0, 0, 1, 0});
  m->train_on_batch(x, y);
  return m;
}

struct SavedFile {
  std::shared_ptr<ModelImpl> model;
  std::string path;
};

SavedFile save_contract_model() {
  SavedFile s{contract_model(), (testing::temp_dir() / "contract.h5").string()};
  s.model->save(s.path);
  return s;
}

// f.attrs[name] as Keras reads a scalar text attribute: it must be a string of rank 0 (a
// 1-element array would reach json.loads as a numpy array).
::testing::AssertionResult IsScalarText(const h5::Object& o, const std::string& name) {
  if (!o.has_attr(name)) return ::testing::AssertionFailure() << o.path() << " has no attribute " << name;
  const h5::Attribute a = o.attr(name);
  if (a.type_class() != h5::TypeClass::kString) return ::testing::AssertionFailure() << name << ": " << a.type_name();
  if (!a.shape().empty()) return ::testing::AssertionFailure() << name << ": shape " << shape_str(a.shape());
  return ::testing::AssertionSuccess();
}

// load_attributes_from_hdf5_group: attrs[name] iterated, else name0, name1, ...; each
// element must be iterable, i.e. the attribute has rank 1 (strings, or h5py's empty
// float64 array for []).
std::vector<std::string> keras_names(const h5::Object& o, const std::string& name) {
  std::vector<std::string> chunks;
  if (o.has_attr(name)) {
    chunks.push_back(name);
  } else {
    for (int i = 0; o.has_attr(name + std::to_string(i)); ++i) chunks.push_back(name + std::to_string(i));
  }
  std::vector<std::string> out;
  for (const auto& c : chunks) {
    const h5::Attribute a = o.attr(c);
    EXPECT_EQ(a.shape().size(), 1u) << o.path() << " attr " << c << " must be a 1-D array, is " << a.type_name();
    if (a.type_class() != h5::TypeClass::kString) {
      EXPECT_EQ(a.numel(), 0) << o.path() << " attr " << c << ": a non-string array must be the empty list";
      continue;
    }
    for (const auto& n : a.read_strings()) out.push_back(n);
  }
  return out;
}

// A weight dataset of a layer's group and the layer weight it holds.
struct SavedWeight {
  std::string name;
  h5::Dataset dataset;
  Tensor value;
};

// Every layer's weight datasets in weight_names order, each paired with the weight at
// its position in the layer's _legacy_weights (trainable_weights + non_trainable_weights).
// A layer whose counts differ is a failure and ends the list.
std::vector<SavedWeight> saved_weights(const ModelImpl& model, const h5::Group& mw) {
  std::vector<SavedWeight> out;
  for (const auto& layer : model.layers()) {
    std::vector<Variable> vars = layer->trainable_weights();
    for (const auto& v : layer->non_trainable_weights()) vars.push_back(v);
    const h5::Group g = mw.open_group(layer->name());
    const std::vector<std::string> names = keras_names(g, "weight_names");
    EXPECT_EQ(names.size(), vars.size()) << layer->name();
    if (names.size() != vars.size()) break;
    for (size_t i = 0; i < names.size(); ++i) out.push_back({names[i], g.open_dataset(names[i]), vars[i].value()});
  }
  return out;
}

// safe_get_h5_dataset(group, name): every "/"-separated part non-empty, the parents groups,
// the last a dataset.
::testing::AssertionResult ResolvesToDataset(const h5::Group& g, const std::string& name) {
  std::string parent;
  size_t start = 0;
  for (size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', start)) {
    if (slash == start) return ::testing::AssertionFailure() << "empty path part in " << name;
    if (!parent.empty()) parent += '/';
    parent.append(name, start, slash - start);
    if (!g.is_group(parent)) return ::testing::AssertionFailure() << parent << " is not a group";
    start = slash + 1;
  }
  if (start == name.size()) return ::testing::AssertionFailure() << "empty dataset name in " << name;
  if (!g.is_dataset(name)) return ::testing::AssertionFailure() << g.path() << "/" << name << " is not a dataset";
  return ::testing::AssertionSuccess();
}

TEST(KerasReaderContract, RootModelConfigIsScalarJsonTextWithAModelClass) {
  const SavedFile s = save_contract_model();
  const h5::Group root = h5::H5File::open_read(s.path).root();
  ASSERT_TRUE(IsScalarText(root, "model_config"));
  const json cfg = json::parse(root.read_string_attr("model_config"));  // also checks it is valid UTF-8 JSON
  EXPECT_EQ(cfg["class_name"], "Functional");
  ASSERT_TRUE(cfg["config"].is_object());
  for (const char* k : {"name", "layers", "input_layers", "output_layers"})
    EXPECT_TRUE(cfg["config"].contains(k)) << k;
}

TEST(KerasReaderContract, FunctionalLayersUseKeras2InboundNodes) {
  const SavedFile s = save_contract_model();
  const json cfg = json::parse(h5::H5File::open_read(s.path).root().read_string_attr("model_config"))["config"];
  std::set<std::string> seen;
  std::vector<std::string> classes;
  for (const json& layer : cfg["layers"]) {
    for (const char* k : {"class_name", "config", "name", "inbound_nodes"}) ASSERT_TRUE(layer.contains(k)) << k;
    const std::string name = layer["name"];
    EXPECT_EQ(layer["config"]["name"], name);  // from_config builds the layer from config, maps it by name
    classes.push_back(layer["class_name"]);
    for (const json& node : layer["inbound_nodes"]) {
      ASSERT_TRUE(node.is_array());
      for (const json& ref : node) {  // [layer_name, node_index, tensor_index, kwargs]
        ASSERT_TRUE(ref.is_array() && ref.size() == 4) << ref.dump();
        EXPECT_TRUE(ref[0].is_string() && seen.count(ref[0]) == 1) << ref.dump();
        EXPECT_TRUE(ref[1].is_number_integer() && ref[2].is_number_integer()) << ref.dump();
        EXPECT_TRUE(ref[3].is_object()) << ref.dump();
      }
    }
    seen.insert(name);
  }
  EXPECT_EQ(classes, (std::vector<std::string>{"InputLayer", "Conv2D", "BatchNormalization", "Flatten", "Dense"}));
  EXPECT_EQ(cfg["layers"][0]["inbound_nodes"], json::array());
  EXPECT_EQ(cfg["input_layers"], json::parse(R"([["image", 0, 0]])"));
  EXPECT_EQ(cfg["output_layers"], json::parse(R"([["dense", 0, 0]])"));
}

// Sequential.from_config (tf.keras >= 2.4 and Keras 3 legacy): config["name"], config["layers"],
// each a {class_name, config} with the InputLayer first; layer_names excludes the InputLayer.
TEST(KerasReaderContract, SequentialConfigIsNameAndLayersWithInputLayerFirst) {
  auto s = testing::conv_bn_sequential(5, 4);
  s->compile("sgd", "mse");
  const std::string path = (testing::temp_dir() / "seq.h5").string();
  s->save(path);
  const h5::Group root = h5::H5File::open_read(path).root();
  const json cfg = json::parse(root.read_string_attr("model_config"));
  EXPECT_EQ(cfg["class_name"], "Sequential");
  ASSERT_TRUE(cfg["config"].is_object());
  EXPECT_TRUE(cfg["config"]["name"].is_string());
  std::vector<std::string> classes;
  for (const json& layer : cfg["config"]["layers"]) {
    ASSERT_TRUE(layer.contains("class_name") && layer["config"].is_object()) << layer.dump();
    EXPECT_TRUE(layer["config"]["name"].is_string());
    classes.push_back(layer["class_name"]);
  }
  EXPECT_EQ(classes, (std::vector<std::string>{"InputLayer", "Conv2D", "BatchNormalization", "Flatten", "Dense"}));
  EXPECT_EQ(keras_names(root.open_group("model_weights"), "layer_names"),
            (std::vector<std::string>{"conv2d", "batch_normalization", "flatten", "dense"}));
}

TEST(KerasReaderContract, TrainingConfigHasEveryKeyCompileArgsReads) {
  const SavedFile s = save_contract_model();
  const h5::Group root = h5::H5File::open_read(s.path).root();
  ASSERT_TRUE(IsScalarText(root, "training_config"));
  const json tc = json::parse(root.read_string_attr("training_config"));
  // compile_args_from_training_config: ["optimizer_config"] and ["loss_weights"] are indexed.
  for (const char* k : {"optimizer_config", "loss", "metrics", "weighted_metrics", "loss_weights"})
    EXPECT_TRUE(tc.contains(k)) << k;
  EXPECT_EQ(tc["optimizer_config"]["class_name"], "Adam");
  EXPECT_TRUE(tc["optimizer_config"]["config"].is_object());
}

TEST(KerasReaderContract, OptimizerConfigHasOnlyArgumentsKeras3Accepts) {
  const SavedFile s = save_contract_model();
  const json oc = json::parse(h5::H5File::open_read(s.path).root().read_string_attr("training_config"))
      ["optimizer_config"]["config"];
  // Keras 3's Adam(**config) raises "Argument(s) not recognized" for anything else (such as
  // tf.keras 2.11's is_legacy_optimizer); decay it pops with a warning.
  const std::set<std::string> accepted = {"name", "learning_rate", "decay", "beta_1", "beta_2", "epsilon", "amsgrad"};
  for (const auto& [k, v] : oc.items()) EXPECT_EQ(accepted.count(k), 1u) << k;
  EXPECT_FALSE(oc.contains("is_legacy_optimizer"));
}

TEST(KerasReaderContract, VersionAndBackendSelectNoLegacyConversion) {
  const SavedFile s = save_contract_model();
  const h5::Group root = h5::H5File::open_read(s.path).root();
  for (const h5::Group& g : {root, root.open_group("model_weights")}) {
    ASSERT_TRUE(IsScalarText(g, "keras_version")) << g.path();
    ASSERT_TRUE(IsScalarText(g, "backend")) << g.path();
    EXPECT_NE(g.read_string_attr("keras_version").substr(0, 1), "1") << g.path();  // "1" = Keras 1 conversions
    EXPECT_EQ(g.read_string_attr("backend"), "tensorflow") << g.path();           // no Theano kernel flip
  }
}

TEST(KerasReaderContract, LayerNamesListModelLayersInOrderAndNameGroups) {
  const SavedFile s = save_contract_model();
  const h5::Group mw = h5::H5File::open_read(s.path).root().open_group("model_weights");
  std::vector<std::string> expected;
  for (const auto& l : s.model->layers()) expected.push_back(l->name());
  const std::vector<std::string> names = keras_names(mw, "layer_names");
  EXPECT_EQ(names, expected);
  for (const auto& n : names) {
    EXPECT_EQ(n.find('/'), std::string::npos) << n;  // safe_get_h5_group splits on '/'
    EXPECT_TRUE(mw.is_group(n)) << n;
  }
}

TEST(KerasReaderContract, LayersWithWeightsMatchByPosition) {
  const SavedFile s = save_contract_model();
  const h5::Group mw = h5::H5File::open_read(s.path).root().open_group("model_weights");
  std::vector<std::string> in_file, in_model;
  for (const auto& n : keras_names(mw, "layer_names"))
    if (!keras_names(mw.open_group(n), "weight_names").empty()) in_file.push_back(n);
  for (const auto& l : s.model->layers())
    if (!l->weights().empty()) in_model.push_back(l->name());
  EXPECT_EQ(in_file, in_model);
  EXPECT_EQ(in_file, (std::vector<std::string>{"conv2d", "batch_normalization", "dense"}));
}

TEST(KerasReaderContract, WeightNamesAreInKerasOrderWithKerasShapes) {
  const SavedFile s = save_contract_model();
  const h5::Group mw = h5::H5File::open_read(s.path).root().open_group("model_weights");
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, Shape>>>> expected = {
      {"conv2d", {{"conv2d/kernel:0", {3, 3, 2, 3}}, {"conv2d/bias:0", {3}}}},
      {"batch_normalization",
       {{"batch_normalization/gamma:0", {3}},
        {"batch_normalization/beta:0", {3}},
        {"batch_normalization/moving_mean:0", {3}},
        {"batch_normalization/moving_variance:0", {3}}}},
      {"dense", {{"dense/kernel:0", {75, 4}}, {"dense/bias:0", {4}}}},
  };
  for (const auto& [layer, weights] : expected) {
    const h5::Group g = mw.open_group(layer);
    const std::vector<std::string> names = keras_names(g, "weight_names");
    ASSERT_EQ(names.size(), weights.size()) << layer;
    for (size_t i = 0; i < names.size(); ++i) {
      EXPECT_EQ(names[i], weights[i].first);
      ASSERT_TRUE(ResolvesToDataset(g, names[i]));
      const h5::Dataset d = g.open_dataset(names[i]);
      EXPECT_EQ(d.shape(), weights[i].second) << names[i];
      EXPECT_EQ(d.type_name(), "float32") << names[i];
    }
  }
}

TEST(KerasReaderContract, DatasetValuesAreTheLegacyOrderedWeights) {
  const SavedFile s = save_contract_model();
  const h5::Group mw = h5::H5File::open_read(s.path).root().open_group("model_weights");
  for (const SavedWeight& w : saved_weights(*s.model, mw))
    EXPECT_EQ(w.dataset.read_tensor().to_vector(), w.value.to_vector()) << w.name;
}

TEST(KerasReaderContract, WeightlessLayersHaveAnEmptyIterableWeightNames) {
  const SavedFile s = save_contract_model();
  const h5::Group mw = h5::H5File::open_read(s.path).root().open_group("model_weights");
  for (const char* layer : {"image", "flatten"}) {
    EXPECT_TRUE(keras_names(mw.open_group(layer), "weight_names").empty()) << layer;
    EXPECT_EQ(mw.open_group(layer).attr("weight_names").shape(), (Shape{0})) << layer;
  }
}

TEST(KerasReaderContract, OptimizerWeightsResolveInSetWeightsOrder) {
  const SavedFile s = save_contract_model();
  const h5::Group ow = h5::H5File::open_read(s.path).root().open_group("optimizer_weights");
  const std::vector<std::string> names = keras_names(ow, "weight_names");
  const std::vector<Variable> params = s.model->trainable_weights();
  // optimizer_v2 Adam: iterations, then m of every trainable weight, then v of every one.
  ASSERT_EQ(names.size(), 1 + 2 * params.size());
  for (const auto& n : names) ASSERT_TRUE(ResolvesToDataset(ow, n));
  EXPECT_EQ(ow.open_dataset(names[0]).shape(), Shape{});
  EXPECT_EQ(ow.open_dataset(names[0]).type_name(), "int64");
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(ow.open_dataset(names[1 + i]).shape(), params[i].shape()) << names[1 + i];
    EXPECT_EQ(ow.open_dataset(names[1 + params.size() + i]).shape(), params[i].shape()) << names[1 + params.size() + i];
  }
}

// h5py (and so Keras) reads Fletcher-32 chunked datasets transparently; libhdf5 verifies the
// checksum on every read. Every weight and optimizer weight array minidl writes carries it
// (only scalars, such as the optimizer's iteration count, cannot), and the values read back.
TEST(KerasReaderContract, EveryWeightDatasetIsFletcher32ChecksummedAndReadsBackEqual) {
  const SavedFile s = save_contract_model();
  const h5::Group root = h5::H5File::open_read(s.path).root();
  const h5::Group mw = root.open_group("model_weights");
  const std::vector<SavedWeight> weights = saved_weights(*s.model, mw);
  for (const SavedWeight& w : weights) {
    EXPECT_TRUE(w.dataset.has_checksum()) << w.name;
    EXPECT_EQ(w.dataset.read_tensor().to_vector(), w.value.to_vector()) << w.name;
  }
  EXPECT_EQ(weights.size(), 8u);  // conv2d 2, batch_normalization 4, dense 2
  const h5::Group ow = root.open_group("optimizer_weights");
  const std::vector<std::string> opt = keras_names(ow, "weight_names");
  ASSERT_EQ(opt.size(), 1 + 2 * s.model->trainable_weights().size());
  EXPECT_FALSE(ow.open_dataset(opt[0]).has_checksum()) << opt[0];  // the scalar iteration count
  const std::vector<Variable> params = s.model->trainable_weights();
  auto* adam = dynamic_cast<OptimizerBase*>(s.model->optimizer().get());
  ASSERT_NE(adam, nullptr);
  for (size_t i = 1; i < opt.size(); ++i) {
    const h5::Dataset d = ow.open_dataset(opt[i]);
    EXPECT_TRUE(d.has_checksum()) << opt[i];
    // Adam's m of every trainable weight, then its v.
    const size_t param = (i - 1) % params.size(), slot = (i - 1) / params.size();
    EXPECT_EQ(d.read_tensor().to_vector(), adam->slots_of(params[param]).at(slot).to_vector())
        << opt[i];
  }
}

// --- layer and initializer configs ------------------------------------------------------

// Keras 3.15's DepthwiseConv2D and SeparableConv2D arguments, and the keyword arguments its
// Layer.__init__ takes; any other key is "Unrecognized keyword arguments passed to <Class>".
// batch_input_shape is moved to input_shape by the legacy loader before the call.
const std::set<std::string> kLayerKwargs = {"name",  "trainable",           "dtype",       "autocast",
                                            "input_shape", "input_dim", "activity_regularizer", "batch_input_shape"};
const std::map<std::string, std::set<std::string>> kKeras3Arguments = {
    {"DepthwiseConv2D",
     {"kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate", "activation", "use_bias",
      "depthwise_initializer", "bias_initializer", "depthwise_regularizer", "bias_regularizer", "depthwise_constraint",
      "bias_constraint"}},
    {"SeparableConv2D",
     {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "depth_multiplier", "activation",
      "use_bias", "depthwise_initializer", "pointwise_initializer", "bias_initializer", "depthwise_regularizer",
      "pointwise_regularizer", "bias_regularizer", "depthwise_constraint", "pointwise_constraint", "bias_constraint"}},
};

// The config keys each initializer class takes: tf.keras 2.x's, and Keras 3.15's, which adds
// the fan axes to the variance-scaling family.
const std::map<std::string, std::set<std::string>> kTfKerasInitializerKeys = {
    {"Zeros", {}}, {"Ones", {}}, {"GlorotUniform", {"seed"}}, {"HeNormal", {"seed"}}, {"LecunUniform", {"seed"}}};
std::set<std::string> keras315_initializer_keys(const std::string& cls) {
  std::set<std::string> keys = kTfKerasInitializerKeys.at(cls);
  if (keys.count("seed")) keys.insert({"input_axes", "output_axes"});
  return keys;
}

// Input -> DepthwiseConv2D -> SeparableConv2D -> GlobalAveragePooling2D -> Dense, with
// initializers of the variance-scaling family (unset fan axes) and fills.
std::shared_ptr<ModelImpl> separable_model() {
  reset_layer_names();
  KerasTensor in = Input({8, 8, 3}, {.name = "image"});
  KerasTensor x =
      DepthwiseConv2D(3, {.padding = "same", .depth_multiplier = 2, .depthwise_initializer = "he_normal"})(in);
  x = SeparableConv2D(4, 3, {.activation = "relu", .pointwise_initializer = "lecun_uniform"})(x);
  x = GlobalAveragePooling2D()(x);
  KerasTensor out = Dense(2)(x);
  return std::make_shared<ModelImpl>(in, out, "separable");
}

TEST(KerasReaderContract, DepthwiseAndSeparableConfigsCarryOnlyKeras3Arguments) {
  const auto model = separable_model();
  for (const char* file : {"separable.h5", "separable.keras"}) {
    std::set<std::string> seen;
    for (const json& entry : saved_layer_entries(*model, file)) {
      const std::string cls = entry["class_name"];
      if (!kKeras3Arguments.count(cls)) continue;
      seen.insert(cls);
      for (const auto& [k, v] : entry["config"].items())
        EXPECT_TRUE(kKeras3Arguments.at(cls).count(k) || kLayerKwargs.count(k)) << file << ": " << cls << " " << k;
      // "Unrecognized keyword arguments passed to DepthwiseConv2D: {'groups': 1}"
      EXPECT_FALSE(entry["config"].contains("groups")) << file << ": " << cls;
    }
    EXPECT_EQ(seen, (std::set<std::string>{"DepthwiseConv2D", "SeparableConv2D"})) << file;
  }
}

TEST(KerasReaderContract, Keras2LayoutInitializersCarryOnlyTfKeras2Keys) {
  // tf.keras 2.x's GlorotUniform(**config) rejects input_axes; unset, the .h5 leaves it out.
  std::vector<json> inits;
  for (const json& entry : saved_layer_entries(*separable_model(), "separable.h5"))
    collect_initializers(entry["config"], inits);
  std::set<std::string> classes;
  for (const json& init : inits) {
    const std::string cls = init["class_name"];
    classes.insert(cls);
    ASSERT_TRUE(kTfKerasInitializerKeys.count(cls)) << cls;
    for (const auto& [k, v] : init["config"].items())
      EXPECT_TRUE(kTfKerasInitializerKeys.at(cls).count(k)) << cls << " " << k;
  }
  EXPECT_EQ(classes, (std::set<std::string>{"Zeros", "GlorotUniform", "HeNormal", "LecunUniform"}));
}

TEST(KerasReaderContract, Keras3LayoutInitializersCarryOnlyKeras315Keys) {
  std::vector<json> inits;
  for (const json& entry : saved_layer_entries(*separable_model(), "separable.keras"))
    collect_initializers(entry["config"], inits);
  EXPECT_FALSE(inits.empty());
  for (const json& init : inits) {
    const std::string cls = init["class_name"];
    EXPECT_EQ(init["module"], "keras.initializers") << cls;
    for (const auto& [k, v] : init["config"].items())
      EXPECT_TRUE(keras315_initializer_keys(cls).count(k)) << cls << " " << k;
  }
}

TEST(KerasReaderContract, GivenFanAxesAreWrittenAndReadBack) {
  // Set axes change the fans, so they are kept (Keras 3.15 reads them in both layouts).
  reset_layer_names();
  KerasTensor in = Input({6}, {.name = "v"});
  const GlorotUniform init(3, std::vector<int64_t>{0}, std::vector<int64_t>{-1});
  auto model = std::make_shared<ModelImpl>(in, Dense(5, {.kernel_initializer = init})(in), "axes");
  for (const char* file : {"axes.h5", "axes.keras"}) {
    std::vector<json> inits;
    for (const json& entry : saved_layer_entries(*model, file)) collect_initializers(entry["config"], inits);
    bool found = false;
    for (const json& i : inits)
      if (i["class_name"] == "GlorotUniform") {
        found = true;
        EXPECT_EQ(i["config"], json::parse(R"({"seed": 3, "input_axes": [0], "output_axes": [-1]})")) << file;
      }
    EXPECT_TRUE(found) << file;
    const auto back = load_model((testing::temp_dir() / file).string());
    EXPECT_EQ(back->get_layer("dense")->get_config()["kernel_initializer"]["config"]["input_axes"], json::array({0}))
        << file;
  }
}

}  // namespace
}  // namespace minidl
