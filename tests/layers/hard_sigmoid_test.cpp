// tests/layers/hard_sigmoid_test.cpp — the two functions named "hard_sigmoid": tf.keras 2's clip(0.2 x + 0.5, 0, 1)
// (minidl's C++ "hard_sigmoid") and Keras 3's relu6(x + 3) / 6 ("keras3_hard_sigmoid"), against naive double
// loops and by finite differences; configs and files resolve the name by the Keras that wrote them, and the
// writers name each as its layout does or refuse the one it cannot express.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "core/errors.h"
#include "io/hdf5.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "layers/activations/activation_layers.h"
#include "layers/base/input_layer.h"
#include "layers/core/dense.h"
#include "layers/parts/activations.h"
#include "support/assertions.h"
#include "support/files.h"
#include "train/model.h"

namespace minidl {
namespace {

using json = nlohmann::json;
using testing::AllClose;

double keras3_ref(double x) { return std::clamp(x + 3.0, 0.0, 6.0) / 6.0; }
double tf_keras2_ref(double x) { return std::clamp(0.2 * x + 0.5, 0.0, 1.0); }

// 41 points over [-5, 5], the corners -3, 3 (Keras 3) and -2.5, 2.5 (tf.keras 2) among them.
Tensor spread() {
  std::vector<float> v;
  for (int i = 0; i <= 40; ++i) v.push_back(-5.f + 0.25f * static_cast<float>(i));
  return Tensor::from_data({41}, v);
}

Tensor apply_ref(const Tensor& x, double (*ref)(double)) {
  Tensor out(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out[i] = static_cast<float>(ref(x[i]));
  return out;
}

TEST(HardSigmoid, Keras3FormIsRelu6OfXPlus3Over6) {
  const Tensor x = spread();
  EXPECT_TRUE(AllClose(activations::keras3_hard_sigmoid(Variable(x)).value(), apply_ref(x, keras3_ref), 1e-7, 1e-6));
  EXPECT_TRUE(AllClose((*get_activation("keras3_hard_sigmoid"))(Variable(x)).value(), apply_ref(x, keras3_ref), 1e-7,
                       1e-6));
}

TEST(HardSigmoid, CppNameKeepsTheTfKeras2Formula) {
  const Tensor x = spread();
  EXPECT_TRUE(AllClose((*get_activation("hard_sigmoid"))(Variable(x)).value(), apply_ref(x, tf_keras2_ref), 1e-7, 1e-6));
  EXPECT_EQ(serialize_activation(get_activation("keras3_hard_sigmoid")), json("keras3_hard_sigmoid"));
  EXPECT_EQ(serialize_activation(get_activation("hard_sigmoid")), json("hard_sigmoid"));
}

TEST(HardSigmoid, Keras3FormGradientMatchesFiniteDifferences) {
  // Points inside the ramp and on both flat parts, each at least 0.2 from the corners at -3 and 3.
  const Tensor x = Tensor::from_data({2, 4}, {-4.5f, -2.7f, -1.1f, 0.f, 0.4f, 1.9f, 2.75f, 4.2f});
  const auto r = autograd::gradcheck([](const std::vector<Variable>& v) { return activations::keras3_hard_sigmoid(v[0]); },
                                     {Variable(x, /*requires_grad=*/true)});
  EXPECT_TRUE(r.ok) << r.message;
  // The ramp's slope is 1/6, the flat parts 0.
  Variable v(x, true);
  autograd::sum(activations::keras3_hard_sigmoid(v)).backward();
  const std::vector<float> want = {0.f, 1.f / 6, 1.f / 6, 1.f / 6, 1.f / 6, 1.f / 6, 1.f / 6, 0.f};
  for (int64_t i = 0; i < 8; ++i) EXPECT_NEAR(v.grad()[i], want[static_cast<size_t>(i)], 1e-6) << i;
}

// --- configs and files --------------------------------------------------------------------------

json dtype_policy() {
  return {{"module", "keras"}, {"class_name", "DTypePolicy"}, {"config", {{"name", "float32"}}}, {"registered_name", nullptr}};
}

// Input (41,) -> Activation(act) named "act": in Keras 3's config.json form, or tf.keras 2's.
json activation_model(bool keras3, const json& act) {
  json input = {{"class_name", "InputLayer"},
                {"config", {{"name", "x"}, {"dtype", "float32"}, {"sparse", false}, {"ragged", false}}},
                {"name", "x"},
                {"inbound_nodes", json::array()}};
  json layer = {{"class_name", "Activation"},
                {"config", {{"name", "act"}, {"trainable", true}, {"activation", act}}},
                {"name", "act"}};
  json cfg = {{"name", "m"}, {"layers", json::array()}};
  if (keras3) {
    input["config"]["batch_shape"] = {nullptr, 41};
    input["config"]["optional"] = false;
    input.update({{"module", "keras.layers"}, {"registered_name", nullptr}});
    layer["config"]["dtype"] = dtype_policy();
    layer.update({{"module", "keras.layers"}, {"registered_name", nullptr}});
    layer["inbound_nodes"] = {{{"args",
                                {{{"class_name", "__keras_tensor__"},
                                  {"config", {{"shape", {nullptr, 41}}, {"dtype", "float32"}, {"keras_history", {"x", 0, 0}}}}}}},
                               {"kwargs", json::object()}}};
    cfg.update({{"trainable", true}, {"input_layers", {"x", 0, 0}}, {"output_layers", {"act", 0, 0}}});
    cfg["layers"] = {input, layer};
    return {{"module", "keras.src.models.functional"}, {"class_name", "Functional"}, {"config", cfg},
            {"registered_name", "Functional"}};
  }
  input["config"]["batch_input_shape"] = {nullptr, 41};
  layer["config"]["dtype"] = "float32";
  layer["inbound_nodes"] = {{{"x", 0, 0, json::object()}}};
  cfg.update({{"input_layers", {{"x", 0, 0}}}, {"output_layers", {{"act", 0, 0}}}});
  cfg["layers"] = {input, layer};
  return {{"class_name", "Functional"}, {"config", cfg}};
}

Tensor predict(ModelImpl& m) { return m.predict(spread().reshape({1, 41})).reshape({41}); }

TEST(HardSigmoidFiles, Keras3ConfigMeansRelu6OfXPlus3Over6) {
  auto m = model_from_json(activation_model(true, "hard_sigmoid").dump());
  EXPECT_TRUE(AllClose(predict(*m), apply_ref(spread(), keras3_ref), 1e-7, 1e-6));
  EXPECT_EQ(m->get_layer("act")->get_config()["activation"], "keras3_hard_sigmoid");
  // Keras 3's function object names it the same way.
  const json fn = {{"module", "keras.activations"}, {"class_name", "function"}, {"config", "hard_sigmoid"},
                   {"registered_name", "function"}};
  EXPECT_TRUE(AllClose(predict(*model_from_json(activation_model(true, fn).dump())), apply_ref(spread(), keras3_ref),
                       1e-7, 1e-6));
}

TEST(HardSigmoidFiles, TfKeras2ConfigMeansTheClippedSlope) {
  auto m = model_from_json(activation_model(false, "hard_sigmoid").dump());
  EXPECT_TRUE(AllClose(predict(*m), apply_ref(spread(), tf_keras2_ref), 1e-7, 1e-6));
  EXPECT_EQ(m->get_layer("act")->get_config()["activation"], "hard_sigmoid");
}

// A legacy .h5 of the tf.keras 2 form of the model, claiming `version`.
std::string legacy_file(const std::string& version) {
  const std::string path = testing::fresh_path("hard_sigmoid_" + version + ".h5");
  h5::H5File f = h5::H5File::create(path);
  const h5::Group root = f.root();
  root.write_string_attr("model_config", activation_model(false, "hard_sigmoid").dump());
  root.write_string_attr("keras_version", version);
  root.write_string_attr("backend", "tensorflow");
  const h5::Group mw = root.create_group("model_weights");
  mw.write_string_array_attr("layer_names", {"x", "act"});
  for (const char* l : {"x", "act"}) mw.create_group(l).write_empty_array_attr("weight_names");
  return path;
}

TEST(HardSigmoidFiles, LegacyH5FollowsItsKerasVersion) {
  EXPECT_TRUE(AllClose(predict(*load_model(legacy_file("3.15.1"))), apply_ref(spread(), keras3_ref), 1e-7, 1e-6));
  EXPECT_TRUE(AllClose(predict(*load_model(legacy_file("2.15.0"))), apply_ref(spread(), tf_keras2_ref), 1e-7, 1e-6));
}

json keras_config(const std::string& path) {
  const Bytes b = ZipReader(path).read("config.json", int64_t{1} << 26);
  return json::parse(std::string(b.begin(), b.end()));
}

TEST(HardSigmoidFiles, KerasArchiveWritesKeras3FormAsHardSigmoid) {
  reset_layer_names();
  KerasTensor x = Input({41}, {.name = "x"});
  KerasTensor y = Dense(41, {.activation = "keras3_hard_sigmoid", .name = "dense"})(x);
  y = ActivationLayer("keras3_hard_sigmoid", {.name = "act"})(y);
  auto m = Model(x, y, "m").ptr();
  const std::string path = testing::fresh_path("k3.keras");
  m->save(path);
  const json cfg = keras_config(path);
  for (const auto& e : cfg["config"]["layers"])
    if (e["class_name"] != "InputLayer") EXPECT_EQ(e["config"]["activation"], "hard_sigmoid") << e["name"];
  auto back = load_model(path);
  EXPECT_EQ(back->get_layer("act")->get_config()["activation"], "keras3_hard_sigmoid");
  const Tensor in = spread().reshape({1, 41});
  EXPECT_TRUE(AllClose(back->predict(in), m->predict(in), 1e-7, 1e-6));
}

TEST(HardSigmoidFiles, KerasArchiveRefusesTheTfKeras2Form) {
  reset_layer_names();
  KerasTensor x = Input({41}, {.name = "x"});
  auto m = Model(x, ActivationLayer("hard_sigmoid", {.name = "gate"})(x), "m").ptr();
  EXPECT_TRUE(testing::ThrowsWith<ValueError>([&] { m->save(testing::fresh_path("k2.keras")); },
                                              {"layer 'gate'", "hard_sigmoid", "keras3_hard_sigmoid", ".h5"}));
}

// The other way round: tf.keras 2's layout has no name for Keras 3's hard sigmoid.
TEST(HardSigmoidFiles, LegacyH5RefusesTheKeras3Form) {
  reset_layer_names();
  KerasTensor x = Input({41}, {.name = "x"});
  auto m = Model(x, ActivationLayer("keras3_hard_sigmoid", {.name = "gate"})(x), "m").ptr();
  const std::string path = testing::fresh_path("k3.h5");
  EXPECT_TRUE(testing::ThrowsWith<ValueError>([&] { m->save(path); },
                                              {"Activation 'gate'", "keras3_hard_sigmoid", ".keras"}));
  EXPECT_FALSE(std::filesystem::exists(path));  // nothing half-written is left
}

}  // namespace
}  // namespace minidl
