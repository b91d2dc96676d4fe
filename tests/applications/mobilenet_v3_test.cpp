// tests/applications/mobilenet_v3_test.cpp — MobileNetV3Small and MobileNetV3Large built in C++:
// the config Keras 3.15 writes for the same call (../shared/keras-apps/MobileNetV3Small.h5, layer by
// layer), Keras's output once its weights are loaded, Keras's parameter counts, small-input
// predictions that survive a save and reload, and Keras's errors for bad arguments.
#include "applications/mobilenet_v3.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "built_model_checks.h"
#include "core/errors.h"
#include "io/hdf5.h"
#include "io/zip.h"
#include "layers/base/layer.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;
using namespace testing;
using applications::MobileNetV3Large;
using applications::MobileNetV3Small;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

fs::path apps_dir() { return shared_dir() / "keras-apps"; }

nlohmann::json keras_config(const std::string& file) {
  const std::string path = (apps_dir() / file).string();
  if (file.ends_with(".keras")) {
    const Bytes text = read_zip(path).at("config.json");
    return nlohmann::json::parse(std::string(text.begin(), text.end()));
  }
  return nlohmann::json::parse(h5::H5File::open_read(path).root().read_string_attr("model_config"));
}

// A layer entry without the differences that come from minidl's .keras writer and layer configs rather
// than from the architecture (reported to their owners; each is a Keras default or an equivalent
// spelling): dtype's shared_object_id, InputLayer's "optional": false, initializers' null
// input_axes/output_axes, BatchNormalization's synchronized/renorm defaults and its axis -1 written
// resolved (3), the call keywords mask=None and training=False, and operation constants written as
// float32 (1/6 as 0.1666666716337204).
nlohmann::json architecture_view(nlohmann::json entry) {
  nlohmann::json& config = entry["config"];
  if (config.contains("dtype") && config["dtype"].is_object()) config["dtype"].erase("shared_object_id");
  if (entry["class_name"] == "InputLayer" && config.value("optional", true) == false) config.erase("optional");
  for (auto& [key, value] : config.items()) {
    if (key.ends_with("_initializer") && value.is_object() && value.contains("config")) {
      for (const char* axes : {"input_axes", "output_axes"})
        if (value["config"].contains(axes) && value["config"][axes].is_null()) value["config"].erase(axes);
    }
  }
  if (entry["class_name"] == "BatchNormalization") {
    for (const char* key : {"synchronized", "renorm", "renorm_clipping", "renorm_momentum"}) config.erase(key);
    if (config["axis"] == -1) config["axis"] = 3;
  }
  for (auto& node : entry["inbound_nodes"]) {
    auto& kwargs = node["kwargs"];
    if (kwargs.contains("mask") && kwargs["mask"].is_null()) kwargs.erase("mask");
    if (kwargs.contains("training") && kwargs["training"] == false) kwargs.erase("training");
    for (auto& arg : node["args"])
      if (arg.is_number_float()) arg = static_cast<double>(static_cast<float>(arg.get<double>()));
  }
  return entry;
}

std::vector<nlohmann::json> architecture_view(const std::vector<nlohmann::json>& layers) {
  std::vector<nlohmann::json> out;
  for (const auto& entry : layers) out.push_back(architecture_view(entry));
  return out;
}

// The call that wrote the shared file: MobileNetV3Small(weights=None, classes=10, input_shape=(64, 64, 3)),
// the first model of a fresh session (so the default names start at "input_layer", "re_lu", "add").
Model keras_apps_model() {
  reset_layer_names();
  return MobileNetV3Small({.input_shape = Shape{64, 64, 3}, .classes = 10});
}

TEST(MobileNetV3Small, ConfigIsKerasConfigLayerByLayer) {
  MINIDL_REQUIRE_SHARED();
  if (!fs::exists(apps_dir() / "MobileNetV3Small.h5")) GTEST_SKIP() << "needs ../shared/keras-apps/MobileNetV3Small.h5";
  const Model model = keras_apps_model();
  const std::string path = (temp_dir() / "built.keras").string();
  model->save(path);
  const Bytes text = read_zip(path).at("config.json");
  const nlohmann::json ours = nlohmann::json::parse(std::string(text.begin(), text.end()));
  EXPECT_EQ(ours.at("config").at("name"), "MobileNetV3Small");
  // The legacy .h5's model_config and the .keras config.json hold the same layer entries.
  const auto layers = architecture_view(config_layers(ours));
  expect_same_layers(layers, architecture_view(config_layers(keras_config("MobileNetV3Small.h5"))));
  expect_same_layers(layers, architecture_view(config_layers(keras_config("MobileNetV3Small.keras"))));
}

TEST(MobileNetV3Small, PredictsKerasOutputWithKerasWeights) {
  MINIDL_REQUIRE_SHARED();
  if (!fs::exists(apps_dir() / "MobileNetV3Small.io.h5")) GTEST_SKIP() << "needs ../shared/keras-apps/MobileNetV3Small";
  const Model model = keras_apps_model();
  EXPECT_EQ(total_params(*model), 1540218);  // the README's count
  model->load_weights((apps_dir() / "MobileNetV3Small.h5").string());
  auto io = h5::H5File::open_read((apps_dir() / "MobileNetV3Small.io.h5").string()).root();
  const Tensor x = io.open_dataset("x").read_tensor(), y = io.open_dataset("y").read_tensor();
  const Tensor got = model->predict(x, 2);
  ASSERT_EQ(got.shape(), y.shape());
  double err = 0, peak = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    err = std::max(err, std::fabs(double(got[i]) - double(y[i])));
    peak = std::max(peak, std::fabs(double(y[i])));
  }
  EXPECT_LE(err, 1e-4 + 1e-3 * peak);
  std::cout << "[applications] MobileNetV3Small built in C++, Keras 3.15 weights: max abs error " << err
            << " (max |y| " << peak << ")\n";
}

// Keras's documented sizes (keras.io/api/applications): the default call, 1000 classes.
TEST(MobileNetV3Small, DefaultHasKerasParameterCount) {
  const Model model = MobileNetV3Small();
  EXPECT_EQ(model->name(), "MobileNetV3Small");
  EXPECT_EQ(total_params(*model), 2554968);
}

TEST(MobileNetV3Large, DefaultHasKerasParameterCount) {
  const Model model = MobileNetV3Large();
  EXPECT_EQ(model->name(), "MobileNetV3Large");
  EXPECT_EQ(total_params(*model), 5507432);
}

TEST(MobileNetV3Small, SmallInputPredictsAndSurvivesSaveAndLoad) {
  const Model model = MobileNetV3Small({.input_shape = Shape{32, 32, 3}, .classes = 5});
  const Tensor x = images({2, 32, 32, 3}, 1);
  const Tensor y = model->predict(x, 2);
  ASSERT_EQ(y.shape(), Shape({2, 5}));
  for (int64_t r = 0; r < 2; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < 5; ++c) sum += y.at({r, c});
    EXPECT_NEAR(sum, 1.0, 1e-5);  // softmax rows
  }
  expect_save_load_predicts_same(model, x, "mobilenet_v3_small");
}

TEST(MobileNetV3Large, MinimalisticWithoutTopPoolsAndSurvivesSaveAndLoad) {
  const Model model = MobileNetV3Large({.include_top = false, .input_shape = Shape{32, 40, 3}, .pooling = "avg"},
                                       {.alpha = 0.75, .minimalistic = true});
  const Tensor x = images({2, 32, 40, 3}, 2);
  const Tensor y = model->predict(x, 2);
  // Last convolution: _depth(_depth(160 * 0.75) * 6) = 720 channels, averaged.
  EXPECT_EQ(y.shape(), Shape({2, 720}));
  expect_save_load_predicts_same(model, x, "mobilenet_v3_large_minimalistic");
}

TEST(MobileNetV3Small, WithoutTopAndPoolingKeepsTheFeatureMap) {
  const Model model = MobileNetV3Small({.include_top = false}, {.include_preprocessing = false});
  EXPECT_EQ(model->input_shape(), Shape({kNone, kNone, kNone, 3}));  // Keras's default (None, None, 3)
  EXPECT_EQ(model->predict(images({1, 64, 64, 3}, 3, -1.f, 1.f), 1).shape(), Shape({1, 2, 2, 576}));
}

TEST(MobileNetV3Small, BadArgumentsRaiseKerasErrors) {
  EXPECT_THAT(
      [] {
        MobileNetV3Small({.input_shape = Shape{16, 64, 3}});
      },
      ThrowsMessage<ValueError>(HasSubstr("Input size must be at least 32x32; Received `input_shape=(16, 64, 3)`")));
  EXPECT_THAT([] { MobileNetV3Large({.weights = "imagenet"}); },
              ThrowsMessage<ValueError>(HasSubstr("Received: weights=imagenet")));
}

TEST(MobileNetV3Small, NoClassifierActivationGivesLogits) {
  const Model model = MobileNetV3Small({.input_shape = Shape{32, 32, 3}, .classes = 4, .classifier_activation = ""});
  EXPECT_EQ(model->get_layer("predictions")->get_config().at("activation"), "linear");
}

TEST(MobileNetV3, RegisteredByKerasNames) {
  EXPECT_EQ(applications::build("MobileNetV3Small", {.include_top = false, .input_shape = Shape{32, 32, 3}})->name(),
            "MobileNetV3Small");
  EXPECT_EQ(applications::build("MobileNetV3Large", {.include_top = false, .input_shape = Shape{32, 32, 3}})->name(),
            "MobileNetV3Large");
}

}  // namespace
}  // namespace minidl
