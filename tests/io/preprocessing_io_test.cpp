// Rescaling and Normalization through Keras files: a model with both saved as
// legacy .h5 and as .keras loads back with the same config, weights and
// predictions; Normalization's three weights sit where Keras puts them
// (weight_names mean, variance, count; vars/0, 1, 2); and weight files in
// Keras's own form, whose `count` is an integer dataset, load.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/pooling/global_pooling2d.h"
#include "layers/preprocessing/normalization.h"
#include "layers/preprocessing/rescaling.h"
#include "support/files.h"
#include "support/keras_files.h"
#include "support/tensors.h"

namespace minidl {
namespace {

// Input -> Rescaling -> adapted Normalization -> per-channel Rescaling ->
// Normalization with given values -> Conv2D -> pooling -> Dense; the adapted
// Normalization learns from images in [0, 255) drawn with `seed`.
std::shared_ptr<ModelImpl> preprocessing_model(uint64_t seed) {
  reset_layer_names();
  KerasTensor in = Input({6, 6, 3}, {.name = "image"});
  auto adapted = Normalization({.axis = -1});
  KerasTensor x = Rescaling(1.0 / 255)(in);
  x = adapted(x);
  x = Rescaling({0.5, 1.5, -2.0}, {.offset = 0.25})(x);
  x = Normalization({.mean = {0.1, 0.2, 0.3}, .variance = {1.0, 4.0, 9.0}, .name = "fixed"})(x);
  x = Conv2D(2, 3)(x);
  x = GlobalAveragePooling2D()(x);
  KerasTensor out = Dense(2)(x);
  auto m = std::make_shared<ModelImpl>(in, out, "preprocessing_net");
  std::mt19937_64 rng(seed);
  adapted->adapt(testing::random_tensor({10, 6, 6, 3}, rng, 0.f, 1.f));
  return m;
}

void expect_same(ModelImpl& a, ModelImpl& b) {
  EXPECT_EQ(a.get_config(), b.get_config());
  EXPECT_TRUE(testing::SameWeights(a, b));
  std::mt19937_64 rng(7);
  const Tensor x = testing::random_tensor({2, 6, 6, 3}, rng, 0.f, 255.f);
  EXPECT_EQ(a.predict(x).to_vector(), b.predict(x).to_vector());
}

const NormalizationImpl& adapted_layer(const ModelImpl& m) {
  return dynamic_cast<const NormalizationImpl&>(*m.get_layer("normalization"));
}

TEST(PreprocessingFiles, LegacyH5RoundTripKeepsNormalizationWeights) {
  auto m = preprocessing_model(1);
  const std::string path = (testing::temp_dir() / "p.h5").string();
  save_model(*m, path);
  auto back = load_model(path);
  expect_same(*m, *back);
  EXPECT_EQ(adapted_layer(*back).mean().to_vector(), adapted_layer(*m).mean().to_vector());

  const h5::Group mw = h5::H5File::open_read(path).root().open_group("model_weights");
  EXPECT_EQ(mw.open_group("normalization").read_string_array_attr("weight_names"),
            (std::vector<std::string>{"normalization/mean:0", "normalization/variance:0", "normalization/count:0"}));
  EXPECT_EQ(mw.open_group("fixed").read_string_array_attr("weight_names"), std::vector<std::string>{});
}

TEST(PreprocessingFiles, KerasArchiveRoundTripKeepsNormalizationWeights) {
  auto m = preprocessing_model(2);
  const std::string path = (testing::temp_dir() / "p.keras").string();
  save_model(*m, path);
  auto back = load_model(path);
  expect_same(*m, *back);

  const auto entries = read_zip(path);
  const h5::H5File w = h5::H5File::open_from_memory(entries.at("model.weights.h5"), "w");
  EXPECT_EQ(w.root().open_dataset("layers/normalization/vars/0").shape(), (Shape{3}));
  EXPECT_EQ(w.root().open_dataset("layers/normalization/vars/1").shape(), (Shape{3}));
  EXPECT_EQ(w.root().open_dataset("layers/normalization/vars/2").shape(), (Shape{}));
  const json cfg = json::parse(std::string(entries.at("config.json").begin(), entries.at("config.json").end()));
  bool seen_rescaling = false;
  for (const auto& l : cfg["config"]["layers"]) {
    if (l["class_name"] == "Rescaling" && l["config"]["scale"].is_array()) {
      seen_rescaling = true;
      EXPECT_EQ(l["config"]["scale"], json::array({0.5, 1.5, -2.0}));
    }
    if (l["name"] == "fixed") EXPECT_EQ(l["config"]["variance"], json::array({1.0, 4.0, 9.0}));
    if (l["class_name"] == "Normalization") {  // every argument, as Keras 3 writes them
      EXPECT_EQ(l["config"]["invert"], false);
      EXPECT_TRUE(l["config"].contains("mean") && l["config"].contains("variance"));
    }
  }
  EXPECT_TRUE(seen_rescaling);
}

TEST(PreprocessingFiles, WeightFilesRestoreAnAdaptedNormalization) {
  auto m = preprocessing_model(3);
  for (bool keras3 : {false, true}) {
    const std::string path = (testing::temp_dir() / (keras3 ? "w.weights.h5" : "w.h5")).string();
    save_weights(*m, path, keras3);
    auto other = preprocessing_model(4);
    ASSERT_FALSE(testing::SameWeights(*m, *other));
    load_weights(*other, path);
    EXPECT_TRUE(testing::SameWeights(*m, *other)) << (keras3 ? "keras3" : "legacy");
  }
}

// A model with one adapted Normalization, and a Keras 3 weights file for it
// written the way Keras writes one: mean, variance, then count as an int64 scalar.
// Disabled while io's weight readers (keras_weights_k3.cpp, keras_weights_legacy.cpp)
// accept float datasets only; Keras casts any stored dtype to the variable's.
TEST(PreprocessingFiles, KerasWrittenIntegerCountLoads) {
  reset_layer_names();
  KerasTensor in = Input({3});
  KerasTensor out = Normalization()(in);
  auto m = std::make_shared<ModelImpl>(in, out, "n");
  const std::string path = (testing::temp_dir() / "keras.weights.h5").string();
  {
    h5::H5File f = h5::H5File::create(path);
    f.root().create_group("vars").write_string_attr("name", "n");
    const h5::Group vars = f.root().create_group("layers/normalization/vars");
    vars.write_string_attr("name", "normalization");
    vars.write_tensor("0", Tensor::from_data({3}, {1, 2, 3}));
    vars.write_tensor("1", Tensor::from_data({3}, {4, 9, 16}));
    vars.write_tensor("2", Tensor::scalar(0.f), h5::DType::kInt64);
  }
  load_weights(*m, path);
  EXPECT_EQ(m->predict(Tensor::from_data({1, 3}, {3, 4, 5})).to_vector(), (std::vector<float>{1.f, 2.f / 3.f, 0.5f}));
}

}  // namespace
}  // namespace minidl
