// A corpus of broken and hostile Keras files, generated here with io/hdf5.h: each one is a
// single IOError or ValueError naming the file, the place inside it and what was expected,
// with nothing printed (HDF5 stays quiet), no huge allocation and no half-loaded model.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "layers/base/input_layer.h"
#include "layers/core/dense.h"
#include "support/assertions.h"
#include "support/files.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;
using testing::ThrowsQuietly;

using WeightsWriter = std::function<void(const h5::Group&)>;

std::string dense_config(const std::string& units = "2", const std::string& input = "[null, 3]",
                         const std::string& cls = "Dense") {
  return R"({"class_name": "Sequential", "config": {"name": "s", "layers": [)"
         R"({"class_name": "InputLayer", "config": {"batch_input_shape": )" +
         input + R"(, "name": "in"}}, {"class_name": ")" + cls + R"(", "config": {"name": "dense", "units": )" + units +
         "}}]}}";
}

// model_weights holding layer "dense" alone, with these weight_names; `datasets`
// writes into the layer's group.
WeightsWriter dense_layer(const std::vector<std::string>& weight_names, const WeightsWriter& datasets) {
  return [=](const h5::Group& mw) {
    mw.write_string_array_attr("layer_names", {"dense"});
    const h5::Group g = mw.create_group("dense");
    g.write_string_array_attr("weight_names", weight_names);
    datasets(g);
  };
}

const std::vector<std::string> kDenseWeightNames = {"dense/kernel:0", "dense/bias:0"};

// The weights dense_config() needs: a (3, 2) kernel of ones and a zero bias.
WeightsWriter good_weights() {
  return dense_layer(kDenseWeightNames, [](const h5::Group& g) {
    g.write_tensor("dense/kernel:0", Tensor::ones({3, 2}));
    g.write_tensor("dense/bias:0", Tensor::zeros({2}));
  });
}

std::string write_model(const std::string& name, const std::optional<std::string>& config,
                        const std::optional<WeightsWriter>& weights = good_weights()) {
  const std::string path = (testing::temp_dir() / name).string();
  h5::H5File f = h5::H5File::create(path);
  f.root().write_string_attr("keras_version", "2.4.0");
  f.root().write_string_attr("backend", "tensorflow");
  if (config) f.root().write_fixed_string_attr("model_config", *config);
  if (weights) (*weights)(f.root().create_group("model_weights"));
  f.close();
  return path;
}

// A Sequential model of these layers on an Input of this shape.
std::shared_ptr<SequentialImpl> sequential_on(const Shape& input, const std::vector<LayerPtr>& layers) {
  auto s = std::make_shared<SequentialImpl>();
  s->add(Input(input));
  for (const LayerPtr& layer : layers) s->add(layer);
  return s;
}

std::function<void()> loading(const std::string& path) {
  return [path] { load_model(path); };
}

TEST(KerasBadFiles, WellFormedCorpusBaseLoads) {
  auto m = load_model(write_model("good.h5", dense_config()));
  EXPECT_EQ(m->get_layer("dense")->get_weights()[0].to_vector(), Tensor::ones({3, 2}).to_vector());
}

TEST(KerasBadFiles, TextFileIsAnIOError) {
  const fs::path p = testing::temp_dir() / "text.h5";
  testing::write_file(p, "this is not HDF5\n");
  EXPECT_TRUE(ThrowsQuietly<IOError>(loading(p.string()), {p.string()}));
}

TEST(KerasBadFiles, EmptyFileIsAnIOError) {
  const fs::path p = testing::temp_dir() / "empty.h5";
  testing::write_file(p, "");
  EXPECT_TRUE(ThrowsQuietly<IOError>(loading(p.string()), {p.string(), "empty"}));
}

TEST(KerasBadFiles, MissingFileIsAnIOError) {
  const std::string p = (testing::temp_dir() / "nowhere.h5").string();
  EXPECT_TRUE(ThrowsQuietly<IOError>(loading(p), {p}));
}

TEST(KerasBadFiles, TruncatedFileIsAnIOError) {
  reset_layer_names();
  auto s = sequential_on({100}, {Dense(64)});
  const fs::path p = testing::temp_dir() / "truncated.h5";
  s->save(p.string());
  const std::string bytes = testing::read_file(p);
  testing::write_file(p, bytes.substr(0, bytes.size() / 2));
  EXPECT_TRUE(ThrowsQuietly<IOError>(loading(p.string()), {p.string()}));
}

TEST(KerasBadFiles, MissingModelWeightsGroupIsAnIOError) {
  const std::string p = write_model("no_weights.h5", dense_config(), std::nullopt);
  EXPECT_TRUE(ThrowsQuietly<IOError>(loading(p), {p, "/model_weights"}));
}

TEST(KerasBadFiles, ModelConfigThatIsNotJsonIsAValueError) {
  const std::string p = write_model("bad_json.h5", std::string("{\"class_name\": \"Sequential\", \"config\": [}"));
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(p), {p, "model_config", "invalid JSON"}));
}

TEST(KerasBadFiles, ModelConfigOfTheWrongJsonTypeIsAValueError) {
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(write_model("array.h5", std::string("[1, 2, 3]"))), {"model_config"}));
  const std::string p = write_model("layers_string.h5", std::string(R"({"class_name": "Sequential", "config": {"layers": "x"}})"));
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(p), {p, "layers"}));
  const std::string q = write_model("not_model.h5", std::string(R"({"class_name": "Dense", "config": {"units": 2}})"));
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(q), {q, "Sequential or Functional"}));
}

TEST(KerasBadFiles, WrongValueTypeInALayerConfigIsAValueError) {
  const std::string p = write_model("units_string.h5", dense_config("\"ten\""));
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(p), {p, "units"}));
}

TEST(KerasBadFiles, UnknownLayerClassNamesTheClassTheLayerAndTheFile) {
  const std::string p = write_model("unknown.h5", dense_config("2", "[null, 3]", "FancyDense"));
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(p), {p, "'FancyDense'", "'dense'", "register"}));
}

TEST(KerasBadFiles, AbsurdInputShapeIsRefused) {
  const std::string p = write_model("huge_input.h5", dense_config("2", "[null, 1000000000000]"));
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(p), {p, "batch_input_shape"}));
}

TEST(KerasBadFiles, AbsurdWeightCountIsRefusedBeforeAllocating) {
  const std::string p = write_model("huge_units.h5", dense_config("1000000000000"));
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(p), {p, "weights", "dense"}));
  // Each factor is modest; the product is not.
  const std::string conv = R"({"class_name": "Sequential", "config": {"layers": [)"
                           R"({"class_name": "InputLayer", "config": {"batch_input_shape": [null, 64, 64, 50000]}},)"
                           R"({"class_name": "Conv2D", "config": {"name": "big", "filters": 50000, "kernel_size": 9}}]}})";
  const std::string q = write_model("huge_conv.h5", conv);
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(q), {q, "'big'"}));
}

TEST(KerasBadFiles, LayerCountMismatchIsAValueError) {
  const std::string two = R"({"class_name": "Sequential", "config": {"layers": [)"
                          R"({"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3]}},)"
                          R"({"class_name": "Dense", "config": {"name": "dense", "units": 2}},)"
                          R"({"class_name": "Dense", "config": {"name": "dense_1", "units": 2}}]}})";
  const std::string p = write_model("two_layers.h5", two);
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(p), {p, "/model_weights", "layer count mismatch", "2 layer(s)", "1"}));
}

TEST(KerasBadFiles, WrongDatasetShapeNamesTheDatasetAndBothShapes) {
  const std::string p =
      write_model("bad_shape.h5", dense_config(), dense_layer(kDenseWeightNames, [](const h5::Group& g) {
                    g.write_tensor("dense/kernel:0", Tensor::ones({3, 3}));
                    g.write_tensor("dense/bias:0", Tensor::zeros({2}));
                  }));
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(p), {p, "/model_weights/dense/dense/kernel:0", "(3, 2)", "(3, 3)"}));
}

// Keras assigns any stored number type to a variable, so an integer kernel loads converted;
// a string where a weight belongs is a ValueError naming the file, the dataset and the type.
TEST(KerasBadFiles, NonNumericDatasetIsAValueError) {
  const std::string p =
      write_model("int_kernel.h5", dense_config(), dense_layer(kDenseWeightNames, [](const h5::Group& g) {
                    g.write_tensor("dense/kernel:0", Tensor::ones({3, 2}), h5::DType::kInt32);
                    g.write_tensor("dense/bias:0", Tensor::zeros({2}));
                  }));
  EXPECT_EQ(load_model(p)->layers().back()->get_weights()[0].to_vector(), std::vector<float>(6, 1.0f));
  const std::string q =
      write_model("string_bias.h5", dense_config(), dense_layer(kDenseWeightNames, [](const h5::Group& g) {
                    g.write_tensor("dense/kernel:0", Tensor::ones({3, 2}));
                    g.write_string_dataset("dense/bias:0", "zero");
                  }));
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(q), {q, "dense/bias:0", "string"}));
}

TEST(KerasBadFiles, WeightCountMismatchIsAValueError) {
  const std::string p =
      write_model("one_weight.h5", dense_config(), dense_layer({"dense/kernel:0"}, [](const h5::Group& g) {
                    g.write_tensor("dense/kernel:0", Tensor::ones({3, 2}));
                  }));
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(p), {p, "/model_weights/dense", "2 weight(s)", "lists 1"}));
}

TEST(KerasBadFiles, MissingDatasetOrGroupIsAnIOErrorNamingIt) {
  const std::string p =
      write_model("missing_ds.h5", dense_config(), dense_layer(kDenseWeightNames, [](const h5::Group& g) {
                    g.write_tensor("dense/kernel:0", Tensor::ones({3, 2}));
                  }));
  EXPECT_TRUE(ThrowsQuietly<IOError>(loading(p), {p, "dense/bias:0"}));
  const std::string q =
      write_model("missing_group.h5", dense_config(),
                  WeightsWriter([](const h5::Group& mw) { mw.write_string_array_attr("layer_names", {"dense"}); }));
  EXPECT_TRUE(ThrowsQuietly<IOError>(loading(q), {q, "/model_weights/dense"}));
  const std::string r = write_model("no_layer_names.h5", dense_config(), WeightsWriter([](const h5::Group& mw) {
                                      mw.create_group("dense");
                                    }));
  EXPECT_TRUE(ThrowsQuietly<IOError>(loading(r), {r, "layer_names"}));
}

TEST(KerasBadFiles, NumericModelConfigAttributeIsAnIOError) {
  const std::string p = (testing::temp_dir() / "numeric_config.h5").string();
  {
    h5::H5File f = h5::H5File::create(p);
    f.root().write_double_attr("model_config", 3.0);
    f.close();
  }
  EXPECT_TRUE(ThrowsQuietly<IOError>(loading(p), {p, "model_config"}));
}

TEST(KerasBadFiles, FunctionalReferenceToUnknownLayerIsAValueError) {
  const std::string cfg = R"({"class_name": "Functional", "config": {"name": "f", "layers": [)"
                          R"({"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [null, 3], "name": "in"}, "inbound_nodes": []},)"
                          R"({"class_name": "Dense", "name": "dense", "config": {"name": "dense", "units": 2}, "inbound_nodes": [[["ghost", 0, 0, {}]]]}],)"
                          R"("input_layers": [["in", 0, 0]], "output_layers": [["dense", 0, 0]]}})";
  const std::string p = write_model("ghost.h5", cfg);
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(p), {p, "ghost"}));
}

TEST(KerasBadFiles, WeightsOnlyFileGivenToLoadModelSaysWhatToDo) {
  reset_layer_names();
  auto s = sequential_on({3}, {Dense(2)});
  const std::string p = (testing::temp_dir() / "only_weights.h5").string();
  save_weights(*s, p);
  EXPECT_TRUE(ThrowsQuietly<ValueError>(loading(p), {p, "load_model_from_parts"}));
}

TEST(KerasBadFiles, BrokenKerasArchivesAreIOErrors) {
  const fs::path dir = testing::temp_dir();
  const std::string no_config = (dir / "no_config.keras").string();
  write_zip(no_config, {{"metadata.json", Bytes{'{', '}'}, std::nullopt}});
  EXPECT_TRUE(ThrowsQuietly<IOError>(loading(no_config), {no_config, "config.json"}));
  const fs::path corrupt = dir / "corrupt.keras";
  testing::write_file(corrupt, std::string("PK\x03\x04", 4) + std::string(100, '\x7f'));
  EXPECT_TRUE(ThrowsQuietly<IOError>(loading(corrupt.string()), {corrupt.string()}));
}

TEST(KerasBadFiles, FailedWeightLoadLeavesTheModelUntouched) {
  reset_layer_names();
  auto s = sequential_on({3}, {Dense(2, {.name = "first"}), Dense(2, {.name = "second"})});
  const std::string p = (testing::temp_dir() / "half_good.h5").string();
  {
    h5::H5File f = h5::H5File::create(p);
    f.root().write_string_array_attr("layer_names", {"first", "second"});
    for (const std::string n : {"first", "second"}) {
      const h5::Group g = f.root().create_group(n);
      g.write_string_array_attr("weight_names", {n + "/kernel:0", n + "/bias:0"});
      g.write_tensor(n + "/kernel:0", n == "first" ? Tensor::ones({3, 2}) : Tensor::ones({5, 2}));
      g.write_tensor(n + "/bias:0", Tensor::ones({2}));
    }
    f.close();
  }
  const auto before = s->get_weights();
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { s->load_weights(p); }, {p, "second/kernel:0", "(5, 2)"}));
  const auto after = s->get_weights();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(before[i].to_vector(), after[i].to_vector());
}

TEST(KerasBadFiles, Keras3WeightsWithMissingOrExtraVariablesAreValueErrors) {
  reset_layer_names();
  auto s = sequential_on({3}, {Dense(2)});
  const std::string p = (testing::temp_dir() / "k3_missing.weights.h5").string();
  {
    h5::H5File f = h5::H5File::create(p);
    f.root().create_group("vars");
    f.root().create_group("layers/dense/vars").write_tensor("0", Tensor::ones({3, 2}));
    f.close();
  }
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { load_weights(*s, p); }, {p, "/layers/dense/vars", "2 weight(s)", "1"}));
  const std::string q = (testing::temp_dir() / "k3_nogroup.weights.h5").string();
  {
    h5::H5File f = h5::H5File::create(q);
    f.root().create_group("layers/other/vars");
    f.close();
  }
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { load_weights(*s, q); }, {q, "layers/dense/vars", "missing"}));
}

}  // namespace
}  // namespace minidl
