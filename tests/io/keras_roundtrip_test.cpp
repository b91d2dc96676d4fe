// Round trips: a minidl model saved in every layout and loaded back is bitwise the same
// (config and weights), and the files have the layout tf.keras 2.4 / Keras 3 write
// (attribute types, layer_names, weight_names, dataset paths).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/merge/merge.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/pooling2d.h"
#include "layers/regularization/dropout.h"
#include "layers/reshaping/reshaping.h"
#include "support/keras_files.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;

// Weights with nothing left at their initial values (moving statistics included).
void randomize(const Layer& model) {
  for (const auto& v : model.weights()) {
    Variable w = v;
    w.assign(Tensor::uniform(w.shape(), 0.1f, 1.0f));
  }
}

std::shared_ptr<ModelImpl> functional_model() {
  reset_layer_names();
  KerasTensor in = Input({8, 8, 3}, {.name = "image"});
  KerasTensor a = Conv2D(4, 3, {.padding = "same", .activation = "relu"})(in);
  KerasTensor b = Conv2D(4, 1, {.use_bias = false})(in);
  KerasTensor s = Add()({a, b});
  KerasTensor n = BatchNormalization()(s);
  KerasTensor p = MaxPooling2D(2)(n);
  KerasTensor f = Flatten()(p);
  KerasTensor d = Dropout(0.5)(f);
  KerasTensor out = Dense(3, {.activation = "softmax"})(d);
  auto m = std::make_shared<ModelImpl>(in, out, "functional_net");
  randomize(*m);
  return m;
}

std::shared_ptr<ModelImpl> sequential_model() {
  auto s = testing::conv_bn_sequential(6, 2);
  randomize(*s);
  return s;
}

void expect_same(const ModelImpl& a, const ModelImpl& b, const Shape& in_shape) {
  EXPECT_EQ(a.get_config(), b.get_config());
  EXPECT_EQ(a.class_name(), b.class_name());
  EXPECT_TRUE(testing::SameWeights(a, b));
  Shape s = in_shape;
  s.insert(s.begin(), 2);
  const Tensor x = Tensor::uniform(s);
  EXPECT_EQ(const_cast<ModelImpl&>(a).predict(x).to_vector(), const_cast<ModelImpl&>(b).predict(x).to_vector());
}

TEST(KerasRoundTrip, FunctionalModelThroughLegacyH5IsIdentical) {
  auto m = functional_model();
  m->compile("sgd", "categorical_crossentropy", {"accuracy"});
  const std::string path = (testing::temp_dir() / "f.h5").string();
  m->save(path);
  auto back = load_model(path);
  expect_same(*m, *back, {8, 8, 3});
  ASSERT_TRUE(back->compiled());
  EXPECT_EQ(back->training_config(), m->training_config());
}

TEST(KerasRoundTrip, SequentialModelThroughLegacyH5IsIdentical) {
  auto m = sequential_model();
  const std::string path = (testing::temp_dir() / "s.h5").string();
  save_model(*m, path);
  auto back = load_model(path);
  expect_same(*m, *back, {6, 6, 2});
  EXPECT_FALSE(back->compiled());
}

TEST(KerasRoundTrip, KerasArchiveIsIdentical) {
  for (auto m : {functional_model(), sequential_model()}) {
    m->compile("adam", "mse");
    const std::string path = (testing::temp_dir() / (m->name() + ".keras")).string();
    m->save(path);
    auto back = load_model(path);
    expect_same(*m, *back, m->inputs()[0].shape() == Shape{kNone, 8, 8, 3} ? Shape{8, 8, 3} : Shape{6, 6, 2});
    EXPECT_TRUE(back->compiled());
  }
}

TEST(KerasRoundTrip, LegacyAndKeras3WeightFilesRestoreEveryWeight) {
  auto m = functional_model();
  for (bool keras3 : {false, true}) {
    const std::string path = (testing::temp_dir() / (keras3 ? "w.weights.h5" : "w.h5")).string();
    save_weights(*m, path, keras3);
    auto other = functional_model();  // same architecture, other random weights
    ASSERT_FALSE(testing::SameWeights(*m, *other));
    load_weights(*other, path);
    EXPECT_TRUE(testing::SameWeights(*m, *other)) << (keras3 ? "keras3" : "legacy");
  }
}

TEST(KerasRoundTrip, ModelMethodsReachTheRegisteredSaver) {
  auto m = sequential_model();
  const std::string path = (testing::temp_dir() / "via_model.weights.h5").string();
  m->save_weights(path);  // Keras 3 layout, chosen by the extension
  EXPECT_TRUE(h5::H5File::open_read(path).root().is_group("layers/conv2d/vars"));
  auto other = sequential_model();
  randomize(*other);
  other->load_weights(path);
  EXPECT_TRUE(testing::SameWeights(*m, *other));
}

TEST(KerasRoundTrip, LegacyFileHasTfKeras24Layout) {
  auto m = functional_model();
  m->compile("sgd", "mse");
  const std::string path = (testing::temp_dir() / "layout.h5").string();
  m->save(path);
  const h5::H5File f = h5::H5File::open_read(path);
  const h5::Group root = f.root();
  EXPECT_EQ(root.read_string_attr("keras_version"), "2.4.0");
  EXPECT_EQ(root.read_string_attr("backend"), "tensorflow");
  EXPECT_NE(root.attr("keras_version").type_name().find("variable"), std::string::npos);
  EXPECT_NE(root.attr("model_config").type_name().find("fixed"), std::string::npos);
  EXPECT_TRUE(root.has_attr("training_config"));
  const json cfg = json::parse(root.read_string_attr("model_config"));
  EXPECT_EQ(cfg["class_name"], "Functional");
  const h5::Group mw = root.open_group("model_weights");
  EXPECT_NE(mw.attr("layer_names").type_name().find("fixed"), std::string::npos);
  EXPECT_EQ(mw.read_string_attr("backend"), "tensorflow");
  const auto names = mw.read_string_array_attr("layer_names");
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names[0], "image");  // a functional model lists its InputLayer, as Keras does
  EXPECT_EQ(mw.open_group("flatten").attr("weight_names").type_name(), "float64");
  EXPECT_EQ(mw.open_group("flatten").attr("weight_names").shape(), (Shape{0}));
  EXPECT_EQ(mw.open_group("conv2d").read_string_array_attr("weight_names"),
            (std::vector<std::string>{"conv2d/kernel:0", "conv2d/bias:0"}));
  EXPECT_EQ(mw.open_dataset("conv2d/conv2d/kernel:0").shape(), (Shape{3, 3, 3, 4}));
  EXPECT_EQ(mw.open_group("batch_normalization").read_string_array_attr("weight_names"),
            (std::vector<std::string>{"batch_normalization/gamma:0", "batch_normalization/beta:0",
                                      "batch_normalization/moving_mean:0", "batch_normalization/moving_variance:0"}));
}

TEST(KerasRoundTrip, SequentialLayerNamesExcludeTheInputLayer) {
  auto m = sequential_model();
  const std::string path = (testing::temp_dir() / "seq_weights.h5").string();
  save_weights(*m, path);
  const auto names = h5::H5File::open_read(path).root().read_string_array_attr("layer_names");
  EXPECT_EQ(names, (std::vector<std::string>{"conv2d", "batch_normalization", "flatten", "dense"}));
}

TEST(KerasRoundTrip, KerasArchiveHasKeras3Entries) {
  auto m = functional_model();
  const std::string path = (testing::temp_dir() / "layout.keras").string();
  m->save(path);
  const auto entries = read_zip(path);
  ASSERT_TRUE(entries.count("metadata.json") && entries.count("config.json") && entries.count("model.weights.h5"));
  const json cfg = json::parse(std::string(entries.at("config.json").begin(), entries.at("config.json").end()));
  // As Keras 3.15 writes it (../shared/keras-apps/*.keras): keras.Functional is not exported.
  EXPECT_EQ(cfg["module"], "keras.src.models.functional");
  EXPECT_EQ(cfg["registered_name"], "Functional");
  EXPECT_EQ(cfg["class_name"], "Functional");
  const json& layers = cfg["config"]["layers"];
  EXPECT_EQ(layers[0]["class_name"], "InputLayer");
  EXPECT_TRUE(layers[0]["config"].contains("batch_shape"));
  const json& add = layers[3];
  EXPECT_EQ(add["class_name"], "Add");
  ASSERT_EQ(add["inbound_nodes"].size(), 1u);
  EXPECT_EQ(add["inbound_nodes"][0]["args"][0].size(), 2u);  // one list of two tensors
  EXPECT_EQ(add["inbound_nodes"][0]["args"][0][0]["class_name"], "__keras_tensor__");
  const json meta = json::parse(std::string(entries.at("metadata.json").begin(), entries.at("metadata.json").end()));
  EXPECT_EQ(meta["keras_version"].get<std::string>().substr(0, 2), "3.");
  const h5::H5File w = h5::H5File::open_from_memory(entries.at("model.weights.h5"), "w");
  EXPECT_EQ(w.root().open_dataset("layers/conv2d/vars/0").shape(), (Shape{3, 3, 3, 4}));
  EXPECT_EQ(w.root().open_group("layers/conv2d_1/vars").read_string_attr("name"), "conv2d_1");
}

TEST(KerasRoundTrip, NestedModelReferencesFollowKerasNodeNumbering) {
  reset_layer_names();
  auto inner = std::make_shared<SequentialImpl>(std::vector<LayerPtr>{}, "inner");
  inner->add(Input({4}));
  inner->add(Dense(3));
  KerasTensor in = Input({4}, {.name = "x"});
  KerasTensor h = (*inner)(in);
  KerasTensor out = Dense(2, {.name = "head"})(h);
  auto m = std::make_shared<ModelImpl>(in, out, "outer");
  randomize(*m);
  const std::string path = (testing::temp_dir() / "nested.h5").string();
  m->save(path);
  const json cfg = json::parse(h5::H5File::open_read(path).root().read_string_attr("model_config"));
  // Keras counts a nested model's own node: the first call of `inner` is node 1.
  for (const auto& e : cfg["config"]["layers"])
    if (e["name"] == "head") {
      EXPECT_EQ(e["inbound_nodes"][0][0][1], 1);
    }
  auto back = load_model(path);
  expect_same(*m, *back, {4});
  const std::string kpath = (testing::temp_dir() / "nested.keras").string();
  m->save(kpath);
  expect_same(*m, *load_model(kpath), {4});
}

TEST(KerasRoundTrip, KerasFilesSurviveMinidlSaveAndLoad) {
  MINIDL_REQUIRE_SHARED();
  for (const std::string name :
       {"k1.2.2-tf_conv2d-arange_model.h5", "k2.1.3-tf_cnn-bn_model.h5", "k2.3.1-tf_conv2d-channels-first_functional_model.h5",
        "tfk2.12.0_conv-conv-add_functional_model.h5", "tfk2.5.0_acas-dense_model.h5",
        "k3.10.0_mnist-cnn_legacy-model.h5", "k2.1.3-theano_conv2d-arange_model.h5"}) {
    auto m = load_model((testing::keras_h5_dir() / name).string());
    for (const std::string ext : {".h5", ".keras"}) {
      const std::string out = (testing::temp_dir() / (name + ext)).string();
      m->save(out);
      auto back = load_model(out);
      const json want = ext == ".keras" ? testing::without_layer_input_shapes(m->get_config()) : m->get_config();
      EXPECT_EQ(back->get_config(), want) << name << ext;
      EXPECT_TRUE(testing::SameWeights(*m, *back)) << name << ext;
    }
  }
}

TEST(KerasRoundTrip, LongLayerNameListIsSplitAsKerasSplitsIt) {
  reset_layer_names();
  auto s = std::make_shared<SequentialImpl>();
  s->add(Input({1}));
  // 400 names of 170 bytes: 68000 bytes, past Keras's 64512-byte attribute limit.
  for (int i = 0; i < 400; ++i) s->add(Dense(1, {.name = fmt::format("dense_{:04d}_{}", i, std::string(159, 'x'))}));
  const std::string path = (testing::temp_dir() / "many.h5").string();
  const auto saved = s->get_weights();
  save_weights(*s, path);
  const h5::Group root = h5::H5File::open_read(path).root();
  EXPECT_FALSE(root.has_attr("layer_names"));  // split into layer_names0, layer_names1
  EXPECT_TRUE(root.has_attr("layer_names0"));
  EXPECT_TRUE(root.has_attr("layer_names1"));
  randomize(*s);
  load_weights(*s, path);
  const auto loaded = s->get_weights();
  ASSERT_EQ(loaded.size(), saved.size());
  for (size_t i = 0; i < saved.size(); ++i) ASSERT_EQ(loaded[i].to_vector(), saved[i].to_vector());
}

}  // namespace
}  // namespace minidl
