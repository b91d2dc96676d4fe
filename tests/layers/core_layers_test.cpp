// The core layers inside functional graphs (layers/base/functional.h): a graph run
// must equal the layers applied by hand, masks must flow through the layers
// that support them, and a graph's config must rebuild the same network. And the
// config keys the core, activation, merge, pooling and normalization layers read.
#include <nlohmann/json.hpp>

#include <cmath>

#include "autograd/functions.h"
#include "layers/activations/activation_layers.h"
#include "layers/base/functional.h"
#include "layers/base/input_layer.h"
#include "layers/base/registry.h"
#include "layers/core/dense.h"
#include "layers/core/masking.h"
#include "layers/merge/merge.h"
#include "layers/regularization/dropout.h"
#include "layers/reshaping/reshaping.h"
#include "support/assertions.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using testing::random_tensor;

TEST(CoreLayersGraph, SequentialChainEqualsLayersAppliedByHand) {
  auto d1 = Dense(12, {.activation = "relu"});
  auto drop = Dropout(0.5);
  auto reshape = Reshape({3, 4});
  auto permute = Permute({2, 1});
  auto flat = Flatten();
  auto leaky = LeakyReLU();
  auto d2 = Dense(5);
  auto soft = Softmax();
  KerasTensor in = Input({6});
  KerasTensor out = soft(d2(leaky(flat(permute(reshape(drop(d1(in))))))));
  EXPECT_EQ(out.shape(), (Shape{kNone, 5}));
  auto net = std::make_shared<FunctionalImpl>(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{out});

  const Tensor x = random_tensor({4, 6}, 1);
  const Tensor got = net->run({Variable(x)}, {})[0].value();  // inference: Dropout is the identity
  const Tensor want = soft(d2(leaky(flat(permute(reshape(d1(x)))))));
  EXPECT_TRUE(testing::AllClose(got, want));
  double row = 0;
  for (int64_t j = 0; j < 5; ++j) row += got.at({0, j});
  EXPECT_NEAR(row, 1.0, 1e-5);
}

TEST(CoreLayersGraph, TrainingRunDropsAndBackpropagatesToEveryWeight) {
  auto d1 = Dense(8);
  auto d2 = Dense(3);
  KerasTensor in = Input({5});
  KerasTensor out = d2(Dropout(0.5)(d1(in)));
  auto net = std::make_shared<FunctionalImpl>(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{out});
  const Variable x(random_tensor({6, 5}, 2));
  CallArgs train;
  train.training = true;
  const Tensor a = net->run({x}, train)[0].value();
  const Tensor b = net->run({x}, {})[0].value();
  EXPECT_GT(max_abs_diff(a, b), 0.f);  // dropout changed something while training
  autograd::sum(net->run({x}, train)[0]).backward();
  for (const Variable& w : net->trainable_weights()) EXPECT_TRUE(w.grad().defined()) << w.name();
}

TEST(CoreLayersGraph, TwoBranchesMergeWithAddAndConcatenate) {
  auto da = Dense(4, {.name = "a"});
  auto db = Dense(4, {.name = "b"});
  auto add = Add();
  auto cat = Concatenate();
  KerasTensor in = Input({3});
  KerasTensor ya = da(in), yb = db(in);
  KerasTensor s = add({ya, yb});
  KerasTensor out = cat({s, ya});
  EXPECT_EQ(out.shape(), (Shape{kNone, 8}));
  auto net = std::make_shared<FunctionalImpl>(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{out});

  const Tensor x = random_tensor({2, 3}, 3);
  const Tensor got = net->run({Variable(x)}, {})[0].value();
  const Tensor ta = da(x), tb = db(x);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t j = 0; j < 4; ++j) {
      EXPECT_NEAR(got.at({n, j}), double(ta.at({n, j})) + tb.at({n, j}), 1e-5);
      // ta is computed without a tape (Dense's matrix-vector product), the graph's with one.
      EXPECT_NEAR(got.at({n, 4 + j}), ta.at({n, j}), 1e-5);
    }
}

TEST(CoreLayersGraph, MaskFlowsThroughMaskingLayersToTheOutput) {
  auto masking = Masking();
  KerasTensor in = Input({4, 3});
  KerasTensor h = ActivationLayer("tanh")(Dropout(0.2)(Dense(2)(masking(in))));
  KerasTensor out = Add()({h, ReLU()(h)});
  auto net = std::make_shared<FunctionalImpl>(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{out});

  Tensor x = random_tensor({2, 4, 3}, 4);
  for (int64_t f = 0; f < 3; ++f) x.at({1, 2, f}) = 0.f;
  std::vector<Tensor> masks;
  net->run({Variable(x)}, {}, &masks);
  ASSERT_EQ(masks.size(), 1u);
  ASSERT_TRUE(masks[0].defined());
  EXPECT_EQ(masks[0].to_vector(), (std::vector<float>{1, 1, 1, 1, 1, 1, 0, 1}));
}

TEST(CoreLayersGraph, SymbolicMasksHaveTimestepShapes) {
  KerasTensor in = Input({4, 3});
  KerasTensor m = Masking()(in);
  auto cat = Concatenate({.axis = 1});
  cat({m, Input({2, 3})});
  ASSERT_TRUE(cat->output_mask().has_value());
  EXPECT_EQ(cat->output_mask()->shape(), (Shape{kNone, 6}));
  auto add = Add();
  add({m, m});
  ASSERT_TRUE(add->output_mask().has_value());
  EXPECT_EQ(add->output_mask()->shape(), (Shape{kNone, 4}));
}

TEST(CoreLayersGraph, ConfigRebuildsAnEquivalentNetwork) {
  KerasTensor in = Input({2, 3});
  KerasTensor h = Permute({2, 1})(in);
  KerasTensor a = Dense(4, {.activation = "sigmoid"})(Flatten()(h));
  KerasTensor b = Dense(4)(Reshape({6})(in));
  KerasTensor out = Softmax()(Subtract()({Maximum()({a, b}), Minimum()({a, b})}));
  auto net = std::make_shared<FunctionalImpl>(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{out});

  auto [ins, outs] = FunctionalImpl::graph_from_config(net->get_config());
  auto copy = std::make_shared<FunctionalImpl>(ins, outs);
  EXPECT_EQ(copy->get_config()["layers"], net->get_config()["layers"]);
  copy->set_weights(net->get_weights());
  const Variable x(random_tensor({3, 2, 3}, 5));
  EXPECT_TRUE(testing::AllClose(copy->run({x}, {})[0].value(), net->run({x}, {})[0].value()));
}

// --- config keys ------------------------------------------------------------------------
// Each class reads the keys every Keras era writes for it (Keras 1 as io/keras_config.cpp
// renames them, Keras 2.x, tf.keras 2.x, Keras 3.15), and no other: Keras 3 rejects a keyword
// argument its constructor does not take, so an unknown key is a ValueError naming the class,
// the layer and the key.

struct KeyCase {
  const char* class_name;
  json own;          // the keys tf.keras 2.x writes
  json keras3_own;   // the keys Keras 3.15 writes (null: the same)
};

const std::vector<KeyCase>& key_cases() {
  static const std::vector<KeyCase> cases = {
      {"Dense",
       json::parse(R"({"units": 3, "activation": "relu", "use_bias": true,
         "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
         "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null,
         "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null,
         "bias_constraint": null})"),
       json::parse(R"({"units": 3, "activation": "relu", "use_bias": true,
         "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
           "config": {"seed": null, "input_axes": null, "output_axes": null}, "registered_name": null},
         "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
           "registered_name": null}, "kernel_regularizer": null, "bias_regularizer": null,
         "kernel_constraint": null, "bias_constraint": null, "quantization_config": null})")},
      {"Activation", {{"activation", "relu"}}, nullptr},
      {"ReLU", {{"max_value", 6.0}, {"negative_slope", 0.0}, {"threshold", 0.0}}, nullptr},
      {"LeakyReLU", {{"alpha", 0.3}}, {{"negative_slope", 0.3}}},
      {"Softmax", {{"axis", -1}}, nullptr},
      {"ELU", {{"alpha", 1.0}}, nullptr},
      {"ThresholdedReLU", {{"theta", 1.0}}, nullptr},
      {"Dropout", {{"rate", 0.5}, {"noise_shape", nullptr}, {"seed", nullptr}}, nullptr},
      {"Flatten", {{"data_format", "channels_last"}}, nullptr},
      {"Reshape", {{"target_shape", {4}}}, nullptr},
      {"Permute", {{"dims", {2, 1}}}, nullptr},
      {"Masking", {{"mask_value", 0.0}}, nullptr},
      {"Concatenate", {{"axis", -1}}, nullptr},
      {"Add", json::object(), nullptr},
      {"Subtract", json::object(), nullptr},
      {"Multiply", json::object(), nullptr},
      {"Average", json::object(), nullptr},
      {"Maximum", json::object(), nullptr},
      {"Minimum", json::object(), nullptr},
      {"MaxPooling2D",
       {{"pool_size", {2, 2}}, {"padding", "valid"}, {"strides", {2, 2}}, {"data_format", "channels_last"}},
       nullptr},
      {"GlobalAveragePooling2D", {{"data_format", "channels_last"}, {"keepdims", false}}, nullptr},
      {"BatchNormalization",
       json::parse(R"({"axis": [3], "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true,
         "beta_initializer": {"class_name": "Zeros", "config": {}},
         "gamma_initializer": {"class_name": "Ones", "config": {}},
         "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
         "moving_variance_initializer": {"class_name": "Ones", "config": {}}, "beta_regularizer": null,
         "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null})"),
       nullptr},
  };
  return cases;
}

LayerPtr from_entry(const std::string& cls, const json& config) {
  return layer_from_config({{"class_name", cls}, {"config", config}});
}

TEST(CoreLayerConfigKeys, EveryEraOfEachClassLoads) {
  const json policy = json::parse(
      R"({"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null})");
  for (const KeyCase& k : key_cases()) {
    json tf2 = k.own;
    tf2.update({{"name", "tf2"}, {"trainable", true}, {"dtype", "float32"}, {"batch_input_shape", {nullptr, 4}}});
    json k3 = k.keras3_own.is_null() ? k.own : k.keras3_own;
    k3.update({{"name", "k3"}, {"trainable", false}, {"dtype", policy}});
    for (const json& c : {tf2, k3}) {
      LayerPtr l;
      ASSERT_NO_THROW(l = from_entry(k.class_name, c)) << k.class_name << " " << c.dump();
      EXPECT_EQ(l->class_name(), k.class_name);
      EXPECT_EQ(l->name(), c["name"]);
      EXPECT_EQ(l->trainable(), c["trainable"]) << k.class_name;
    }
  }
  // Keras 1's Dropout names its rate p; its Flatten writes no key of its own.
  EXPECT_EQ(from_entry("Dropout", {{"name", "d1"}, {"p", 0.25}})->get_config()["rate"], 0.25);
  EXPECT_NO_THROW(from_entry("Flatten", {{"name", "f1"}, {"trainable", true}}));
}

TEST(CoreLayerConfigKeys, AnUnknownKeyNamesTheClassTheLayerAndTheKey) {
  for (const KeyCase& k : key_cases()) {
    json c = k.own;
    c["name"] = "odd";
    c["bogus_key"] = 1;
    EXPECT_TRUE(testing::ThrowsWith<ValueError>(
        [&] { from_entry(k.class_name, c); },
        {std::string(k.class_name) + " 'odd': unknown config key 'bogus_key'"}))
        << k.class_name;
  }
  // Keras 3 writes lora_rank only for a LoRA-enabled Dense, which minidl does not build.
  EXPECT_TRUE(testing::ThrowsWith<ValueError>(
      [] { from_entry("Dense", {{"name", "l"}, {"units", 2}, {"lora_rank", 4}}); },
      {"Dense 'l': unknown config key 'lora_rank'"}));
}

TEST(CoreLayerConfigKeys, APartsErrorNamesTheClassAndTheLayerOnce) {
  const json bad_activation = {{"name", "a"}, {"activation", "relu7"}};
  EXPECT_TRUE(testing::ThrowsWith<ValueError>([&] { from_entry("Activation", bad_activation); },
                                              {"Activation 'a': ", "relu7"}));
  const json bad_regularizer = {{"name", "r"},
                                 {"activity_regularizer", {{"class_name", "L3"}, {"config", json::object()}}}};
  EXPECT_TRUE(
      testing::ThrowsWith<ValueError>([&] { from_entry("Flatten", bad_regularizer); }, {"Flatten 'r': ", "L3"}));
  // A message that already names the layer is not prefixed twice.
  try {
    from_entry("Permute", {{"name", "p"}, {"dims", {2, 99}}});
    ADD_FAILURE() << "Permute accepted an axis of 99";
  } catch (const ValueError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find("Permute 'p'"), 0u) << m;
    EXPECT_EQ(m.find("Permute 'p'", 1), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace minidl
