// tests/train/fine_tune_test.cpp — transfer learning as Keras users do it: a loaded CNN cut at its global
// pooling, frozen (trainable = false), a new Dense head fitted for 2 epochs on make_image_set's pictures. The
// base's weights stay bitwise unchanged (BatchNormalization's moving statistics too, and a frozen
// BatchNormalization normalizes with them even in training mode, as Keras 3's does), the head trains, the
// loss goes down, and the .h5 and .keras files of the result reload to the same predictions. A small base
// built here always runs; ../shared/keras-apps/MobileNetV2.h5 (written by Keras 3.15) runs when present.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "core/random.h"
#include "io/keras_model.h"
#include "layers/activations/activation_layers.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/core/dense.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/global_pooling2d.h"
#include "support/files.h"
#include "train/image_set.h"
#include "train/model.h"
#include "train/optimizers.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;
using namespace testing;

using Values = std::vector<std::vector<float>>;

Values values_of(const std::vector<Variable>& vars) {
  Values out;
  for (const auto& v : vars) out.push_back(v.value().to_vector());
  return out;
}

// The pictures scaled to [-1, 1], as keras.applications.mobilenet_v2.preprocess_input does.
ImageSet images(const Shape& batch_input_shape, int64_t samples, uint64_t seed) {
  ImageSet set =
      make_image_set({.samples = samples, .height = batch_input_shape[1], .width = batch_input_shape[2], .seed = seed});
  for (float& v : set.x.span()) v = v * 2.0f - 1.0f;
  return set;
}

// A small keras.applications-like base, named as MobileNetV2 names its layers: stem convolution,
// BatchNormalization, ReLU6, a depthwise block, global pooling, a 10-class classifier. Its moving statistics
// come from a short fit, so they differ from any batch's statistics.
std::shared_ptr<ModelImpl> small_base() {
  set_random_seed(15);
  KerasTensor in = Input({16, 16, 3}, {.name = "input_layer"});
  KerasTensor x = Conv2D(8, 3, {.strides = 2, .padding = "same", .use_bias = false, .name = "Conv1"})(in);
  x = BatchNormalization({.name = "bn_Conv1"})(x);
  x = ReLU({.max_value = 6.0, .name = "Conv1_relu"})(x);
  x = DepthwiseConv2D(3, {.padding = "same", .use_bias = false, .name = "expanded_conv_depthwise"})(x);
  x = BatchNormalization({.name = "expanded_conv_depthwise_BN"})(x);
  x = ReLU({.max_value = 6.0, .name = "expanded_conv_depthwise_relu"})(x);
  x = GlobalAveragePooling2D({.name = "global_average_pooling2d"})(x);
  KerasTensor out = Dense(10, {.activation = "softmax", .name = "predictions"})(x);
  auto base = std::make_shared<ModelImpl>(in, out, "small_base");
  base->compile("adam", "sparse_categorical_crossentropy");
  Tensor x_fit = Tensor::normal({32, 16, 16, 3}, 0.5f, 2.0f);
  Tensor y_fit = Tensor::zeros({32});
  base->fit(x_fit, y_fit, {.batch_size = 16, .epochs = 1, .verbose = 0});
  return base;
}

// How the new model reaches the base: by the base's own layers and tensors (Model(base.input,
// head(base.get_layer(pool).output))), or through a frozen feature model called as a layer on a new Input.
enum class Wiring { kSharedLayers, kNestedModel };

struct Tuned {
  std::shared_ptr<ModelImpl> model;
  std::shared_ptr<ModelImpl> frozen;  // what was frozen: the base, or the feature model
  LayerPtr head;
};

Tuned new_head(const std::shared_ptr<ModelImpl>& base, const std::string& pool, Wiring wiring) {
  Dense head(static_cast<int64_t>(kImageSetClasses.size()), {.activation = "softmax", .name = "new_head"});
  const KerasTensor features = base->get_layer(pool)->output();
  if (wiring == Wiring::kSharedLayers) {
    base->set_trainable(false);
    auto model = std::make_shared<ModelImpl>(base->inputs()[0], head(features), "tuned");
    return {model, base, head};
  }
  auto feature_model = std::make_shared<ModelImpl>(base->inputs()[0], features, "features");
  feature_model->set_trainable(false);
  Shape shape = base->inputs()[0].shape();
  shape.erase(shape.begin());
  KerasTensor in = Input(shape, {.name = "image"});
  auto model = std::make_shared<ModelImpl>(in, head((*feature_model)(in)), "tuned");
  return {model, feature_model, head};
}

// Every layer under `layer` (nested models' layers included) is frozen.
void expect_all_frozen(const Layer& layer) {
  for (const auto& sub : layer.sublayer_list()) {
    EXPECT_FALSE(sub->trainable()) << sub->name();
    for (const auto& v : sub->weights()) EXPECT_FALSE(v.requires_grad()) << v.name();
    expect_all_frozen(*sub);
  }
}

void fine_tune_and_check(const std::shared_ptr<ModelImpl>& base, const std::string& pool, Wiring wiring,
                         int64_t samples, double learning_rate) {
  Tuned t = new_head(base, pool, wiring);
  ASSERT_FALSE(t.frozen->trainable());
  expect_all_frozen(*t.frozen);
  EXPECT_TRUE(t.frozen->trainable_weights().empty());
  EXPECT_EQ(t.frozen->non_trainable_weights().size(), t.frozen->weights().size());
  ASSERT_EQ(t.model->trainable_weights().size(), 2u) << "only the head's kernel and bias";

  const ImageSet train = images(base->inputs()[0].shape(), samples, 1);
  const Values base_before = values_of(t.frozen->weights());
  const Values head_before = values_of(t.head->weights());

  // A frozen BatchNormalization normalizes with its moving statistics in training mode too: the training-mode
  // forward pass equals predict, up to rounding (predict folds BatchNormalization into the convolutions before
  // it, docs/DESIGN.md "Inference folding").
  const Tensor batch = train.x.slice_rows(0, 8);
  const Tensor inference = t.model->predict(batch);
  const Tensor training_mode = (*t.model)(Variable(batch), {.training = true}).value();
  EXPECT_LE(max_abs_diff(training_mode, inference), 1e-5) << "frozen base in training mode";

  t.model->compile(std::make_shared<Adam>(learning_rate), "sparse_categorical_crossentropy", {"accuracy"});
  const double loss_before = t.model->evaluate(train.x, train.y, {.verbose = 0}).at("loss");
  History h = t.model->fit(train.x, train.y, {.batch_size = 16, .epochs = 2, .verbose = 0});
  const double loss_after = t.model->evaluate(train.x, train.y, {.verbose = 0}).at("loss");
  std::cout << "[fine-tune] " << base->name() << ": loss " << loss_before << " -> " << loss_after << ", epochs "
            << h.history["loss"][0] << ", " << h.history["loss"][1] << "\n";

  EXPECT_EQ(values_of(t.frozen->weights()), base_before) << "the frozen base's weights, moving statistics included";
  EXPECT_NE(values_of(t.head->weights()), head_before) << "the head trained";
  EXPECT_LT(loss_after, loss_before);
  ASSERT_EQ(h.history["loss"].size(), 2u);
  EXPECT_LT(h.history["loss"][1], h.history["loss"][0]);

  // Both files reload to the same weights, the same frozen state and the same predictions.
  const Tensor test_x = images(base->inputs()[0].shape(), 8, 2).x;
  const Tensor expected = t.model->predict(test_x);
  const fs::path dir = temp_dir();
  for (const char* ext : {".h5", ".keras"}) {
    const std::string path = (dir / (std::string("tuned") + ext)).string();
    t.model->save(path);
    auto reloaded = load_model(path);
    EXPECT_EQ(values_of(reloaded->weights()), values_of(t.model->weights())) << ext;
    EXPECT_EQ(reloaded->trainable_weights().size(), 2u) << ext;
    EXPECT_LE(max_abs_diff(reloaded->predict(test_x), expected), 1e-6) << ext;
  }
}

TEST(FineTune, SmallBaseFrozenByItsLayersNewHeadTwoEpochs) {
  fine_tune_and_check(small_base(), "global_average_pooling2d", Wiring::kSharedLayers, 64, 0.01);
}

TEST(FineTune, SmallBaseFrozenAsNestedModelNewHeadTwoEpochs) {
  fine_tune_and_check(small_base(), "global_average_pooling2d", Wiring::kNestedModel, 64, 0.01);
}

TEST(FineTune, KerasAppsMobileNetV2FrozenNewHeadTwoEpochs) {
  const fs::path file = shared_dir() / "keras-apps" / "MobileNetV2.h5";
  if (!fs::exists(file)) GTEST_SKIP() << "needs ../shared/keras-apps/MobileNetV2.h5; not present";
  // 1280 features of order 1 into a 4-class softmax: a smaller step than the small base's.
  fine_tune_and_check(load_model(file.string()), "global_average_pooling2d", Wiring::kNestedModel, 64, 0.001);
}

// Keras 3's Layer.trainable setter reaches every layer below, nested models included, and back.
TEST(FineTune, TrainableReachesNestedModelsBothWays) {
  auto base = small_base();
  KerasTensor in = Input({16, 16, 3});
  auto outer = std::make_shared<ModelImpl>(in, Dense(2, {.name = "head"})((*base)(in)), "outer");
  outer->set_trainable(false);
  expect_all_frozen(*outer);
  EXPECT_TRUE(outer->trainable_weights().empty());
  outer->set_trainable(true);
  EXPECT_TRUE(base->get_layer("bn_Conv1")->trainable());
  // gamma, beta of two BatchNormalizations, Conv1's and the depthwise kernel, the two Dense layers' pairs.
  EXPECT_EQ(outer->trainable_weights().size(), 10u);
  for (const auto& v : base->get_layer("bn_Conv1")->weights())
    EXPECT_EQ(v.requires_grad(), v.name().find("moving") == std::string::npos) << v.name();
}

// Keras 3's Functional(trainable=False), as a config's "trainable": false: the model is frozen, and each
// layer inside keeps the flag of its own config (here a BatchNormalization unfrozen inside the frozen model,
// which Keras 3 then runs in training mode under fit).
TEST(FineTune, ConfigTrainableFalseFreezesTheModelAndKeepsItsLayersFlags) {
  auto base = small_base();
  base->set_trainable(false);
  base->get_layer("bn_Conv1")->set_trainable(true);
  json config = base->get_config();
  config["trainable"] = false;
  auto rebuilt = ModelImpl::from_config(config);
  EXPECT_FALSE(rebuilt->trainable());
  EXPECT_TRUE(rebuilt->trainable_weights().empty());
  EXPECT_TRUE(rebuilt->get_layer("bn_Conv1")->trainable());
  for (const auto& v : rebuilt->get_layer("bn_Conv1")->weights())
    EXPECT_EQ(v.requires_grad(), v.name().find("moving") == std::string::npos) << v.name();
  EXPECT_FALSE(rebuilt->get_layer("Conv1")->trainable());
  EXPECT_FALSE(rebuilt->get_layer("predictions")->trainable());

  config["trainable"] = true;
  EXPECT_TRUE(ModelImpl::from_config(config)->trainable());
  config.erase("trainable");  // tf.keras 2 writes no model flag
  EXPECT_TRUE(ModelImpl::from_config(config)->trainable());
}

}  // namespace
}  // namespace minidl
