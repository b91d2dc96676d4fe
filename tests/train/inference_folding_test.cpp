// tests/train/inference_folding_test.cpp — BatchNormalization folded into the convolution before
// it and the ReLU family applied in the convolution's output pass, at inference
// (layers/base/inference_plan.h, layers/conv/conv_inference.cpp): the same outputs as the
// layers run one by one, which chains fold and which must not, and the folded weights
// following every change of the weights they come from.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "autograd/variable.h"
#include "layers/activations/activation_layers.h"
#include "layers/base/dtype_policy.h"
#include "layers/base/inference_plan.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/core/dense.h"
#include "layers/merge/merge.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/global_pooling2d.h"
#include "train/model.h"
#include "train/optimizers.h"

namespace minidl {
namespace {

Tensor random_tensor(const Shape& s, std::mt19937& rng, float lo, float hi) {
  Tensor t(s);
  std::uniform_real_distribution<float> d(lo, hi);
  for (float& v : t.span()) v = d(rng);
  return t;
}

// Non-trivial statistics and affine parameters for every BatchNormalization of the model.
void randomize_batch_norms(ModelImpl& model, std::mt19937& rng) {
  for (const LayerPtr& l : model.layers()) {
    auto* bn = dynamic_cast<BatchNormalizationImpl*>(l.get());
    if (!bn) continue;
    std::vector<Tensor> w = bn->get_weights();  // gamma?, beta?, moving_mean, moving_variance
    const size_t n = w.size();
    for (size_t i = 0; i + 2 < n; ++i) w[i] = random_tensor(w[i].shape(), rng, bn->scale() && i == 0 ? 0.5f : -0.5f, 1.5f);
    w[n - 2] = random_tensor(w[n - 2].shape(), rng, -0.3f, 0.3f);
    w[n - 1] = random_tensor(w[n - 1].shape(), rng, 0.2f, 2.f);
    bn->set_weights(w);
  }
}

// Every weight of the model given new random values (kernels, biases, BN parameters).
void randomize_all(ModelImpl& model, std::mt19937& rng) {
  std::vector<Tensor> w = model.get_weights();
  for (Tensor& t : w) t = random_tensor(t.shape(), rng, -0.5f, 0.5f);
  model.set_weights(w);
  randomize_batch_norms(model, rng);
}

// max |a - b| / max |b|: the error relative to the output's scale.
double relative_error(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < b.numel(); ++i) {
    worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  return worst / std::max(scale, 1e-30);
}

// The model's predictions with every layer run on its own (folding off).
Tensor predict_unfolded(ModelImpl& model, const Tensor& x) {
  set_inference_folding(false);
  Tensor y = model.predict(x, 4);
  set_inference_folding(true);
  return y;
}

// Predicts with and without folding and checks they agree within 1e-5 of the output's scale.
void expect_folded_equals_unfolded(ModelImpl& model, const Tensor& x, const char* when) {
  const Tensor want = predict_unfolded(model, x);
  const Tensor got = model.predict(x, 4);
  EXPECT_LE(relative_error(got, want), 1e-5) << when;
}

// MobileNet's blocks: a strided conv, depthwise 3x3 and pointwise 1x1, each
// with BatchNormalization and ReLU6 in its three spellings, MobileNetV2's linear
// bottleneck with a residual Add, a depthwise conv with bias and depth_multiplier 2.
Model mobilenet_like() {
  KerasTensor in = Input({15, 15, 3});
  KerasTensor h = Conv2D(8, 3, {.strides = 2, .padding = "same", .use_bias = false})(in);
  h = BatchNormalization()(h);
  h = ReLU({.max_value = 6.0})(h);  // fold 1
  h = DepthwiseConv2D(3, {.padding = "same", .use_bias = false})(h);
  h = BatchNormalization({.epsilon = 1e-3})(h);
  h = ActivationLayer("relu6")(h);  // fold 2
  KerasTensor e = Conv2D(8, 1, {.use_bias = false})(h);
  e = BatchNormalization()(e);  // fold 3: linear bottleneck
  h = Add()({h, e});
  h = DepthwiseConv2D(3, {.strides = 2, .padding = "same", .depth_multiplier = 2})(h);
  h = BatchNormalization()(h);
  h = ReLU()(h);  // fold 4
  h = Conv2D(12, 1, {.activation = "relu6"})(h);  // fold 5: the conv's own relu6
  h = GlobalAveragePooling2D()(h);
  return Model(in, Dense(5, {.activation = "softmax"})(h));
}

// ResNet's blocks: conv-BN-relu, two 3x3 convs with a skip, a conv whose output
// is also read by a second layer and a conv-BN that is a model output (neither folds).
Model resnet_like() {
  KerasTensor in = Input({10, 10, 4});
  KerasTensor h = Conv2D(8, 3, {.padding = "same"})(in);
  h = BatchNormalization()(h);
  h = ActivationLayer("relu")(h);  // fold 1
  KerasTensor r = Conv2D(8, 3, {.padding = "same"})(h);
  r = BatchNormalization()(r);
  r = ReLU()(r);  // fold 2
  r = Conv2D(8, 3, {.padding = "same", .use_bias = false})(r);
  r = BatchNormalization({.center = false})(r);  // fold 3
  h = ReLU()(Add()({h, r}));
  KerasTensor shared = Conv2D(8, 1)(h);  // read by the BN and by the Add: no fold
  KerasTensor s = BatchNormalization()(shared);
  h = Add()({s, shared});
  KerasTensor out2 = BatchNormalization({.scale = false})(Conv2D(6, 3, {.strides = 2})(h));  // fold 4 (ends at an output)
  KerasTensor out1 = Dense(3)(GlobalAveragePooling2D()(h));
  return Model({in}, {out1, out2});
}

TEST(InferenceFolding, MobileNetLikeModelEqualsLayerByLayer) {
  std::mt19937 rng(11);
  Model model = mobilenet_like();
  randomize_batch_norms(*model, rng);
  const Tensor x = random_tensor({6, 15, 15, 3}, rng, -1.f, 1.f);
  expect_folded_equals_unfolded(*model, x, "fresh");
  EXPECT_EQ(model->fused_inference_steps(), 5u);
}

TEST(InferenceFolding, ResNetLikeModelEqualsLayerByLayer) {
  std::mt19937 rng(12);
  Model model = resnet_like();
  randomize_all(*model, rng);
  const Tensor x = random_tensor({5, 10, 10, 4}, rng, -1.f, 1.f);
  set_inference_folding(false);
  const std::vector<Tensor> want = model->predict(std::vector<Tensor>{x}, 4);
  set_inference_folding(true);
  const std::vector<Tensor> got = model->predict(std::vector<Tensor>{x}, 4);
  ASSERT_EQ(got.size(), 2u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_LE(relative_error(got[i], want[i]), 1e-5) << "output " << i;
  // conv-BN-act twice, conv-BN, and the conv-BN ending at a model output; not the shared conv.
  EXPECT_EQ(model->fused_inference_steps(), 4u);
}

TEST(InferenceFolding, FoldedWeightsFollowSetWeightsTrainingAndDirectWrites) {
  std::mt19937 rng(13);
  Model model = mobilenet_like();
  randomize_batch_norms(*model, rng);
  const Tensor x = random_tensor({4, 15, 15, 3}, rng, -1.f, 1.f);
  const Tensor first = model->predict(x, 4);
  expect_folded_equals_unfolded(*model, x, "fresh");

  randomize_all(*model, rng);  // set_weights on every layer
  const Tensor second = model->predict(x, 4);
  EXPECT_GT(relative_error(second, first), 1e-3) << "the new weights changed nothing: a stale fold";
  expect_folded_equals_unfolded(*model, x, "after set_weights");

  // A training step: the optimizer writes the kernels, BN its moving statistics.
  model->compile(std::make_shared<SGD>(0.1), "sparse_categorical_crossentropy");
  Tensor y({4});
  for (int64_t i = 0; i < 4; ++i) y[i] = static_cast<float>(i % 5);
  model->train_on_batch(x, y);
  expect_folded_equals_unfolded(*model, x, "after train_on_batch");

  // One BN moving variance written through mutable_value().
  for (const LayerPtr& l : model->layers())
    if (auto* bn = dynamic_cast<BatchNormalizationImpl*>(l.get())) {
      std::vector<Variable> w = bn->weights();
      w.back().mutable_value()[0] *= 4.f;
      break;
    }
  expect_folded_equals_unfolded(*model, x, "after a write through mutable_value");
}

TEST(InferenceFolding, ChannelsFirstConvWithBatchNormOnAxis1) {
  std::mt19937 rng(14);
  KerasTensor in = Input({3, 9, 9});
  KerasTensor h = Conv2D(6, 3, {.padding = "same", .data_format = "channels_first"})(in);
  h = BatchNormalization({.axis = 1})(h);
  h = ReLU({.max_value = 6.0})(h);
  Model model(in, h);
  randomize_all(*model, rng);
  const Tensor x = random_tensor({2, 3, 9, 9}, rng, -1.f, 1.f);
  expect_folded_equals_unfolded(*model, x, "channels_first");
  EXPECT_EQ(model->fused_inference_steps(), 1u);
}

TEST(InferenceFolding, NotUsedWhileRecordingOrTraining) {
  std::mt19937 rng(15);
  Model model = mobilenet_like();
  randomize_batch_norms(*model, rng);
  const Tensor x = random_tensor({2, 15, 15, 3}, rng, -1.f, 1.f);
  // With the tape on, the kernels' gradients must reach the kernels themselves.
  auto out = (*model)(std::vector<Variable>{Variable(x)}, CallArgs{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].requires_grad());
  EXPECT_EQ(model->fused_inference_steps(), 0u) << "a plan was made by a recording call";
}

// Under mixed_bfloat16 every layer rounds its inputs and outputs to bfloat16;
// a folded step would skip that, so such chains run layer by layer.
TEST(InferenceFolding, NotUsedUnderMixedBfloat16) {
  struct PolicyReset {
    ~PolicyReset() { set_global_policy("float32"); }
  } reset;
  set_global_policy("mixed_bfloat16");
  std::mt19937 rng(17);
  Model model = mobilenet_like();
  set_global_policy("float32");
  randomize_batch_norms(*model, rng);
  const Tensor x = random_tensor({2, 15, 15, 3}, rng, -1.f, 1.f);
  const Tensor want = predict_unfolded(*model, x);
  const Tensor got = model->predict(x, 4);
  EXPECT_EQ(model->fused_inference_steps(), 0u);
  for (int64_t i = 0; i < got.numel(); ++i) ASSERT_EQ(got[i], want[i]) << "at " << i;
}

}  // namespace
}  // namespace minidl
