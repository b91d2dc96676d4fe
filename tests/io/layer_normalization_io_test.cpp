// Round trips of LayerNormalization and LayerScale through save_model / load_model, legacy .h5
// and .keras: the configs come back the same, every weight bitwise, the predictions equal;
// the files name the layers and weights as Keras does.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "layers/base/input_layer.h"
#include "layers/normalization/layer_normalization.h"
#include "layers/normalization/layer_scale.h"
#include "support/assertions.h"
#include "support/files.h"
#include "support/keras_files.h"

namespace minidl {
namespace {

// A ConvNeXt-style tail and the other LayerNormalization settings, with random weights.
std::shared_ptr<ModelImpl> norm_model() {
  reset_layer_names();
  KerasTensor in = Input({3, 4, 6}, {.name = "x"});
  KerasTensor a = LayerNormalization({.epsilon = 1e-6, .name = "block_layernorm"})(in);
  KerasTensor b = LayerScale(1e-6, 6, {.name = "block_layer_scale"})(a);
  KerasTensor c = LayerNormalization({.axis = {1, 3}, .center = false})(b);
  KerasTensor out = LayerNormalization({.axis = {-2, -1}, .rms_scaling = true})(c);
  auto m = std::make_shared<ModelImpl>(in, out, "norms");
  for (const auto& v : m->weights()) {
    Variable w = v;
    w.assign(Tensor::uniform(w.shape(), 0.5f, 1.5f));
  }
  return m;
}

void expect_same(ModelImpl& a, ModelImpl& b) {
  EXPECT_EQ(a.get_config(), b.get_config());
  EXPECT_TRUE(testing::SameWeights(a, b));
  set_random_seed(4);
  const Tensor x = Tensor::normal({2, 3, 4, 6}, 2.f, 3.f);
  EXPECT_TRUE(testing::AllClose(a.predict(x), b.predict(x), 1e-6, 1e-6));
}

TEST(LayerNormalizationIo, LegacyH5RoundTripKeepsConfigAndWeights) {
  auto m = norm_model();
  const std::string path = (testing::temp_dir() / "norms.h5").string();
  save_model(*m, path);
  auto back = load_model(path);
  expect_same(*m, *back);
  // Weights are listed per layer in Keras order: gamma, then beta.
  const h5::Group mw = h5::H5File::open_read(path).root().open_group("model_weights");
  EXPECT_EQ(mw.open_group("block_layernorm").read_string_array_attr("weight_names"),
            (std::vector<std::string>{"block_layernorm/gamma:0", "block_layernorm/beta:0"}));
  EXPECT_EQ(mw.open_group("block_layer_scale").read_string_array_attr("weight_names"),
            (std::vector<std::string>{"block_layer_scale/gamma:0"}));
}

TEST(LayerNormalizationIo, KerasArchiveRoundTripKeepsConfigAndWeights) {
  auto m = norm_model();
  const std::string path = (testing::temp_dir() / "norms.keras").string();
  save_model(*m, path);
  auto back = load_model(path);
  expect_same(*m, *back);
  const Bytes bytes = ZipReader(path).read("config.json", 1 << 20);
  const json cfg = json::parse(bytes.begin(), bytes.end());
  int norms = 0, scales = 0, rms = 0;
  for (const auto& l : cfg["config"]["layers"]) {
    if (l["class_name"] == "LayerNormalization") {
      ++norms;
      EXPECT_TRUE(l["config"]["axis"].is_array());  // built: the sorted list
      rms += l["config"].value("rms_scaling", false) ? 1 : 0;
    }
    if (l["class_name"] == "LayerScale") {
      ++scales;
      EXPECT_EQ(l["config"]["projection_dim"], 6);
      EXPECT_DOUBLE_EQ(l["config"]["init_values"].get<double>(), 1e-6);
      // Where Keras 3.15 registers ConvNeXt's layer, or it cannot deserialize it.
      EXPECT_EQ(l["module"], "keras.src.applications.convnext");
      EXPECT_EQ(l["registered_name"], "LayerScale");
    }
  }
  EXPECT_EQ(norms, 3);
  EXPECT_EQ(rms, 1);
  EXPECT_EQ(scales, 1);
}

TEST(LayerNormalizationIo, WeightFilesRestoreIntoAFreshModel) {
  auto m = norm_model();
  for (bool keras3 : {false, true}) {
    const std::string path = (testing::temp_dir() / (keras3 ? "n.weights.h5" : "n.h5")).string();
    save_weights(*m, path, keras3);
    auto other = norm_model();  // same architecture, other random weights
    ASSERT_FALSE(testing::SameWeights(*m, *other));
    load_weights(*other, path);
    EXPECT_TRUE(testing::SameWeights(*m, *other)) << (keras3 ? "keras3" : "legacy");
  }
}

}  // namespace
}  // namespace minidl
