// tests/io/keras_training_config_test.cpp — the training_config attribute of model.save: what
// tf.keras 2.4 writes (saving_utils.model_metadata: Model._get_compile_args(user_metrics=False)
// without the optimizer, then optimizer_config = {class_name, config: optimizer.get_config()}),
// checked on minidl's files and against a file tf.keras 2.4 wrote; and the loss and metrics of
// the compile_config Keras 3 writes into `.keras` (compile()'s arguments as given).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/hdf5.h"
#include "io/keras_internal.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "layers/base/input_layer.h"
#include "layers/core/dense.h"
#include "support/files.h"
#include "support/keras_files.h"

namespace minidl {
namespace {

using nlohmann::json;

std::shared_ptr<ModelImpl> small_model() {
  reset_layer_names();
  KerasTensor in = Input({3});
  return std::make_shared<ModelImpl>(in, Dense(2, {.activation = "softmax"})(in));
}

// The training_config text of the file model.save writes.
std::string saved_training_config(const ModelImpl& m) {
  const std::string path = (testing::temp_dir() / "tc.h5").string();
  m.save(path);
  return h5::H5File::open_read(path).root().read_string_attr("training_config");
}

// The model load_model reads back from the file `name` (its extension picks the
// format) that model.save writes.
std::shared_ptr<ModelImpl> saved_and_loaded(const ModelImpl& m, const std::string& name) {
  const std::string path = (testing::temp_dir() / name).string();
  m.save(path);
  return load_model(path);
}

TEST(KerasTrainingConfig, NoMetricsIsNullAsKerasWritesIt) {
  auto m = small_model();
  m->compile("sgd", "mse");
  const json tc = json::parse(saved_training_config(*m));
  ASSERT_TRUE(tc.contains("metrics"));
  EXPECT_TRUE(tc["metrics"].is_null());
}

TEST(KerasTrainingConfig, KeysAreKerasKeysInKerasOrder) {
  auto m = small_model();
  m->compile("sgd", "mse");
  const auto tc = nlohmann::ordered_json::parse(saved_training_config(*m));
  std::vector<std::string> keys;
  for (const auto& [k, v] : tc.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"loss", "metrics", "weighted_metrics", "loss_weights", "optimizer_config"}));
  EXPECT_TRUE(tc["weighted_metrics"].is_null());
  EXPECT_TRUE(tc["loss_weights"].is_null());
}

TEST(KerasTrainingConfig, MetricsKeepTheCompiledIdentifiers) {
  auto m = small_model();
  m->compile("sgd", "categorical_crossentropy", {"accuracy", "mae"});
  EXPECT_EQ(json::parse(saved_training_config(*m))["metrics"], json::parse(R"(["accuracy", "mae"])"));
}

TEST(KerasTrainingConfig, OptimizerConfigIsTfKeras24AdamGetConfig) {
  auto m = small_model();
  m->compile(std::make_shared<Adam>(0.01, AdamOptions{.beta_1 = 0.8, .amsgrad = true}), "mse");
  const auto oc = nlohmann::ordered_json::parse(saved_training_config(*m))["optimizer_config"];
  EXPECT_EQ(oc["class_name"], "Adam");
  std::vector<std::string> keys;
  for (const auto& [k, v] : oc["config"].items()) keys.push_back(k);
  // optimizer_v2 Adam.get_config, in its order; no is_legacy_optimizer (tf.keras >= 2.11 only,
  // and Keras 3 rejects it).
  EXPECT_EQ(keys, (std::vector<std::string>{"name", "learning_rate", "decay", "beta_1", "beta_2", "epsilon", "amsgrad"}));
  EXPECT_EQ(oc["config"]["name"], "Adam");
  // Hyperparameters are float32 variables in Keras: their values are float32 numbers.
  EXPECT_EQ(oc["config"]["learning_rate"].get<double>(), static_cast<double>(0.01f));
  EXPECT_EQ(oc["config"]["beta_1"].get<double>(), static_cast<double>(0.8f));
  EXPECT_EQ(oc["config"]["amsgrad"], true);
}

TEST(KerasTrainingConfig, LossNameStaysAString) {
  auto m = small_model();
  m->compile("sgd", CategoricalCrossentropy());  // Keras defaults: the same as the name
  EXPECT_EQ(json::parse(saved_training_config(*m))["loss"], "categorical_crossentropy");
}

TEST(KerasTrainingConfig, LossObjectWithNonDefaultArgumentsIsSerialized) {
  auto m = small_model();
  m->compile("sgd", CategoricalCrossentropy(/*from_logits=*/true));
  const json loss = json::parse(saved_training_config(*m))["loss"];
  EXPECT_EQ(loss["class_name"], "CategoricalCrossentropy");
  EXPECT_EQ(loss["config"]["from_logits"], true);
  EXPECT_EQ(loss["config"]["name"], "categorical_crossentropy");
  // Keras 3 rejects tf.keras 2's "auto"; both accept this equivalent.
  EXPECT_EQ(loss["config"]["reduction"], "sum_over_batch_size");
}

TEST(KerasTrainingConfig, FromLogitsSurvivesSaveAndLoad) {
  auto m = small_model();
  m->compile("sgd", SparseCategoricalCrossentropy(/*from_logits=*/true));
  auto back = saved_and_loaded(*m, "logits.h5");
  ASSERT_TRUE(back->compiled());
  EXPECT_EQ(back->loss()->class_name(), "SparseCategoricalCrossentropy");
  EXPECT_EQ(back->loss()->get_config()["from_logits"], true);
}

TEST(KerasTrainingConfig, FromLogitsSurvivesAKerasArchive) {
  auto m = small_model();
  m->compile("sgd", CategoricalCrossentropy(/*from_logits=*/true));
  auto back = saved_and_loaded(*m, "logits.keras");
  ASSERT_TRUE(back->compiled());
  EXPECT_EQ(back->loss()->get_config()["from_logits"], true);
}

TEST(KerasTrainingConfig, MatchesTheOneTfKeras24WroteForTheSameCompile) {
  MINIDL_REQUIRE_SHARED();
  const auto src = testing::shared_dir() / "conformance" / "conv_000" / "model.h5";
  const json keras = json::parse(h5::H5File::open_read(src.string()).root().read_string_attr("training_config"));
  auto model = load_model(src.string());
  ASSERT_TRUE(model->compiled());
  const json ours = json::parse(saved_training_config(*model));
  ASSERT_EQ(ours.size(), keras.size()) << ours.dump() << "\nvs\n" << keras.dump();
  for (const auto& [k, v] : keras.items()) {
    ASSERT_TRUE(ours.contains(k)) << k;
    if (k != "optimizer_config") {  // the loss too: compile()'s "mse" stays "mse"
      EXPECT_EQ(ours[k], v) << k;
    }
  }
  EXPECT_EQ(ours["optimizer_config"]["class_name"], keras["optimizer_config"]["class_name"]);
  const json& kc = keras["optimizer_config"]["config"];
  const json& oc = ours["optimizer_config"]["config"];
  ASSERT_EQ(oc.size(), kc.size()) << oc.dump() << "\nvs\n" << kc.dump();
  for (const auto& [k, v] : kc.items()) {
    ASSERT_TRUE(oc.contains(k)) << k;
    if (v.is_number_float()) {
      // Keras wrote the Python float it was given; minidl writes the float32 hyperparameter.
      EXPECT_EQ(static_cast<float>(oc[k].get<double>()), static_cast<float>(v.get<double>())) << k;
    } else {
      EXPECT_EQ(oc[k], v) << k;
    }
  }
}

// config.json of the `.keras` model.save writes.
json saved_keras3_config(const ModelImpl& m) {
  const std::string path = (testing::temp_dir() / "cc.keras").string();
  m.save(path);
  const auto entries = read_zip(path);
  const Bytes& b = entries.at("config.json");
  return json::parse(std::string(b.begin(), b.end()));
}

TEST(KerasCompileConfig, CompiledLossNameIsKeptAsGiven) {
  auto m = small_model();
  m->compile("sgd", "mse");
  EXPECT_EQ(json::parse(saved_training_config(*m))["loss"], "mse");
  EXPECT_EQ(saved_keras3_config(*m)["compile_config"]["loss"], "mse");
  for (const char* file : {"mse.h5", "mse.keras"}) {
    auto back = saved_and_loaded(*m, file);
    ASSERT_TRUE(back->compiled()) << file;
    EXPECT_EQ(back->training_config()["loss"], "mse") << file;  // and saved again as "mse"
    EXPECT_EQ(back->loss()->name(), "mean_squared_error") << file;
  }
}

TEST(KerasCompileConfig, LossObjectIsAKeras3Object) {
  auto m = small_model();
  m->compile("sgd", CategoricalCrossentropy(/*from_logits=*/true));
  const json loss = saved_keras3_config(*m)["compile_config"]["loss"];
  EXPECT_EQ(loss["module"], "keras.losses");
  EXPECT_EQ(loss["class_name"], "CategoricalCrossentropy");
  EXPECT_TRUE(loss["registered_name"].is_null());
  EXPECT_EQ(loss["config"]["from_logits"], true);
}

// Input(3) -> Dense(3, softmax) with the identity kernel, compiled with metric objects.
std::shared_ptr<ModelImpl> top_k_model() {
  reset_layer_names();
  KerasTensor in = Input({3});
  auto m = std::make_shared<ModelImpl>(in, Dense(3, {.activation = "softmax"})(in));
  Tensor eye({3, 3}), zero({3});
  for (int64_t i = 0; i < 3; ++i) eye[i * 4] = 1.f;
  m->set_weights({eye, zero});
  m->compile("sgd", "sparse_categorical_crossentropy",
             {"accuracy", SparseTopKCategoricalAccuracy(2, "top2"), SparseTopKCategoricalAccuracy(1)});
  return m;
}

// Sparse labels ranked first, second, second and third by top_k_model: top-2 accuracy is
// 3/4, where the default k (5, more than the three classes) would count every sample.
std::pair<Tensor, Tensor> ranked_batch() {
  Tensor x({4, 3}), y({4});
  const float xs[] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0};
  const float ys[] = {0, 2, 1, 2};
  for (int64_t i = 0; i < 12; ++i) x[i] = xs[i];
  for (int64_t i = 0; i < 4; ++i) y[i] = ys[i];
  return {x, y};
}

TEST(KerasCompileConfig, MetricObjectsKeepTheirArgumentsInTrainingConfig) {
  auto m = top_k_model();
  const json metrics = json::parse(saved_training_config(*m))["metrics"];
  ASSERT_EQ(metrics.size(), 3u);
  EXPECT_EQ(metrics[0], "accuracy");
  EXPECT_EQ(metrics[1], json::parse(R"({"class_name": "SparseTopKCategoricalAccuracy",
                                         "config": {"name": "top2", "dtype": "float32", "k": 2}})"));
  EXPECT_EQ(metrics[2]["config"]["k"], 1);
  EXPECT_EQ(metrics[2]["config"]["name"], "sparse_top_k_categorical_accuracy");
}

TEST(KerasCompileConfig, TopKCategoricalAccuracyComesBackWithItsK) {
  auto m = small_model();
  m->compile("sgd", "categorical_crossentropy", {TopKCategoricalAccuracy(1, "top1")});
  auto back = saved_and_loaded(*m, "top1.h5");
  ASSERT_EQ(back->metrics().size(), 1u);
  EXPECT_EQ(back->metrics()[0]->class_name(), "TopKCategoricalAccuracy");
  EXPECT_EQ(back->metrics()[0]->get_config(), json::parse(R"({"name": "top1", "dtype": "float32", "k": 1})"));
}

TEST(KerasCompileConfig, MetricObjectsAreKeras3Objects) {
  auto m = top_k_model();
  const json metrics = saved_keras3_config(*m)["compile_config"]["metrics"];
  ASSERT_EQ(metrics.size(), 3u);
  EXPECT_EQ(metrics[0], "accuracy");
  EXPECT_EQ(metrics[1], json::parse(R"({"module": "keras.metrics", "class_name": "SparseTopKCategoricalAccuracy",
                                         "config": {"name": "top2", "dtype": "float32", "k": 2},
                                         "registered_name": null})"));
}

TEST(KerasCompileConfig, ReloadedMetricsComputeWithTheirArguments) {
  auto m = top_k_model();
  const auto [x, y] = ranked_batch();
  const auto expected = m->evaluate(x, y, {.verbose = 0});
  ASSERT_EQ(expected.at("top2"), 0.75);
  for (const char* file : {"topk.h5", "topk.keras"}) {
    auto back = saved_and_loaded(*m, file);
    ASSERT_TRUE(back->compiled()) << file;
    ASSERT_EQ(back->metrics().size(), 3u) << file;
    EXPECT_EQ(back->metrics()[1]->class_name(), "SparseTopKCategoricalAccuracy") << file;
    EXPECT_EQ(back->metrics()[1]->get_config()["k"], 2) << file;
    const auto got = back->evaluate(x, y, {.verbose = 0});
    for (const char* key : {"top2", "sparse_top_k_categorical_accuracy", "accuracy"})
      EXPECT_DOUBLE_EQ(got.at(key), expected.at(key)) << file << " " << key;
    EXPECT_EQ(back->training_config()["metrics"], m->training_config()["metrics"]) << file;
  }
}

// Keras 3 writes "compile_config": {} for a model that was never compiled: not a warning.
TEST(KerasCompileConfig, EmptyCompileConfigLoadsUncompiledQuietly) {
  auto m = small_model();
  json config = saved_keras3_config(*m);
  config["compile_config"] = json::object();
  testing::LogCapture log;
  auto back = model_from_json(config.dump());
  EXPECT_EQ(log.text(), "");
  EXPECT_FALSE(back->compiled());
}

}  // namespace
}  // namespace minidl
