// tests/train/predict_subbatch_test.cpp — predict's sub-batches (train/predict_subbatch.h): which
// networks are cut, the outputs equal to each image predicted alone, the same bits on 1 and 2
// threads, and one model predicted from two threads at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "core/random.h"
#include "core/threads.h"
#include "layers/activations/activation_layers.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/core/dense.h"
#include "layers/base/inference_plan.h"
#include "layers/merge/merge.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/parts/regularizers.h"
#include "layers/pooling/global_pooling2d.h"
#include "support/models.h"
#include "train/model.h"
#include "train/predict_subbatch.h"

namespace minidl {
namespace {

// Restores the thread count a test changes.
struct ThreadCountGuard {
  int saved = num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

// Gives every BatchNormalization of the model statistics far from the
// identity, so that their folding matters.
void vary_batch_norms(ModelImpl& model) {
  int which = 0;
  for (const LayerPtr& l : model.layers()) {
    auto* bn = dynamic_cast<BatchNormalizationImpl*>(l.get());
    if (!bn) continue;
    std::vector<Tensor> w = bn->get_weights();  // gamma, beta, moving_mean, moving_variance
    for (size_t i = 0; i < w.size(); ++i) {
      float* v = w[i].data();
      for (int64_t c = 0; c < w[i].numel(); ++c) {
        const float t = static_cast<float>((c * 7 + which * 3 + static_cast<int64_t>(i)) % 11) / 10.f;  // 0 .. 1
        v[c] = i == 0 ? 0.6f + t : i == 1 ? t - 0.5f : i == 2 ? 0.4f * t - 0.2f : 0.3f + 1.5f * t;
      }
    }
    bn->set_weights(w);
    ++which;
  }
}

// A MobileNet-like network of small layers on 32x32 images (each layer's
// output 64 KiB per image): conv -> BatchNormalization -> ReLU6, depthwise ->
// BatchNormalization -> ReLU, pointwise -> BatchNormalization -> ReLU6, global
// pooling and a softmax Dense. The BatchNormalizations get statistics far from
// the identity. `activity` puts an L2 activity regularizer on the last convolution.
Model small_layers_model(bool activity = false) {
  set_random_seed(11);
  KerasTensor in = Input({32, 32, 3});
  KerasTensor h = Conv2D(16, 3, {.padding = "same", .use_bias = false})(in);
  h = BatchNormalization()(h);
  h = ReLU({.max_value = 6.0})(h);
  h = DepthwiseConv2D(3, {.padding = "same", .use_bias = false})(h);
  h = BatchNormalization()(h);
  h = ReLU()(h);
  Conv2DOptions pointwise{.use_bias = false};
  if (activity) pointwise.activity_regularizer = L2(1e-3);
  h = Conv2D(16, 1, pointwise)(h);
  h = BatchNormalization()(h);
  h = ReLU({.max_value = 6.0})(h);
  h = GlobalAveragePooling2D()(h);
  Model model(in, Dense(7, {.activation = "softmax"})(h));
  vary_batch_norms(*model);
  return model;
}
// A ResNet-like network on 32x32 images: conv -> BatchNormalization -> ReLU,
// a residual block of two 3x3 convolutions of 16 channels joined by Add, a
// strided block with a 1x1 shortcut, global pooling and a softmax Dense: on
// average about 0.4M multiply-adds per layer and image, as ResNet-8.
Model resnet_like_model() {
  set_random_seed(12);
  KerasTensor in = Input({32, 32, 3});
  KerasTensor h = Conv2D(16, 3, {.padding = "same"})(in);
  h = ActivationLayer("relu")(BatchNormalization()(h));
  KerasTensor r = Conv2D(16, 3, {.padding = "same"})(h);
  r = ActivationLayer("relu")(BatchNormalization()(r));
  r = BatchNormalization()(Conv2D(16, 3, {.padding = "same"})(r));
  h = ActivationLayer("relu")(Add()({h, r}));
  r = Conv2D(32, 3, {.strides = 2, .padding = "same"})(h);
  r = ActivationLayer("relu")(BatchNormalization()(r));
  r = BatchNormalization()(Conv2D(32, 3, {.padding = "same"})(r));
  h = ActivationLayer("relu")(Add()({Conv2D(32, 1, {.strides = 2})(h), r}));
  h = GlobalAveragePooling2D()(h);
  Model model(in, Dense(10, {.activation = "softmax"})(h));
  vary_batch_norms(*model);
  return model;
}

// max |a - b| / max |b|: the error relative to the output's scale.
double scaled_error(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < b.numel(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  return diff / std::max(scale, 1e-30);
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.numel(), b.data());
}

// Each image of x predicted alone (one image per call: never cut).
Tensor one_by_one(ModelImpl& model, const Tensor& x) {
  Tensor out;
  for (int64_t i = 0; i < x.dim(0); ++i) {
    const Tensor o = model.predict_on_batch(x.slice_rows(i, i + 1));
    if (!out.defined()) {
      Shape s = o.shape();
      s[0] = x.dim(0);
      out = Tensor(s);
    }
    out.slice_rows(i, i + 1).copy_from(o);
  }
  return out;
}

TEST(PredictSubBatches, SmallLayerNetworksAreCutAndLargeOnesAreNot) {
  Model small = small_layers_model();
  // 64 KiB per image for the largest layer's input and output: 8 images per MiB, a power of two of sub-batches.
  EXPECT_EQ(detail::predict_sub_batches(*small, 32), 4);
  EXPECT_EQ(detail::predict_sub_batches(*small, 16), 2);
  EXPECT_EQ(detail::predict_sub_batches(*small, 20), 4);  // 5 images each (4 rows of 20 / 4)
  EXPECT_EQ(detail::predict_sub_batches(*small, 7), 1);   // under two sub-batches of 4
  EXPECT_EQ(detail::predict_sub_batches(*small, 1), 1);
  // The Keras mnist_cnn: a few large layers (1.5M multiply-adds per image on average).
  Sequential mnist = testing::mnist_cnn();
  EXPECT_EQ(detail::predict_sub_batches(*mnist, 32), 1);
}

// The model's output with every layer run on its own and the tape recorded
// (no folding, no sub-batches, Dense's GEMM at every batch size).
Tensor layer_by_layer(ModelImpl& model, const Tensor& x) {
  set_inference_folding(false);
  const Tensor y = model.operator()(Variable(x)).value();
  set_inference_folding(true);
  return y;
}

TEST(PredictSubBatches, ResNetLikeNetworkIsCutAndEqualsLayerByLayer) {
  ThreadCountGuard guard;
  Model model = resnet_like_model();
  // Its largest layer input and output: 128 KiB per image, 8 images per MiB.
  EXPECT_EQ(detail::predict_sub_batches(*model, 32), 4);
  const Tensor x = Tensor::uniform({32, 32, 32, 3}, -1.f, 1.f);
  const Tensor want = layer_by_layer(*model, x);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    EXPECT_LE(scaled_error(model->predict(x, 32), want), 1e-5) << threads << " thread(s)";
  }
}

// At batch 1 the Dense layers take the matrix-vector product (no tape).
TEST(PredictSubBatches, MnistCnnAtBatchOneEqualsLayerByLayer) {
  ThreadCountGuard guard;
  set_random_seed(13);
  Sequential model = testing::mnist_cnn();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (int64_t batch : {1, 2}) {
      const Tensor x = Tensor::uniform({batch, 28, 28, 1}, 0.f, 1.f);
      EXPECT_LE(scaled_error(model->predict_on_batch(x), layer_by_layer(*model, x)), 1e-5)
          << "batch " << batch << ", " << threads << " thread(s)";
    }
  }
}

TEST(PredictSubBatches, OutputsEqualEachImagePredictedAlone) {
  ThreadCountGuard guard;
  Model model = small_layers_model();
  const Tensor x = Tensor::uniform({20, 32, 32, 3}, 0.f, 1.f);
  ASSERT_GT(detail::predict_sub_batches(*model, 20), 1);  // the premise: this batch is cut
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    const Tensor alone = one_by_one(*model, x);
    EXPECT_LE(scaled_error(model->predict(x, 20), alone), 1e-5) << threads << " thread(s)";
    EXPECT_LE(scaled_error(model->predict_on_batch(x), alone), 1e-5) << threads << " thread(s)";
    // Batches of 8 (the last one 4 images) through the same path.
    EXPECT_LE(scaled_error(model->predict(x, 8), alone), 1e-5) << threads << " thread(s)";
  }
}

TEST(PredictSubBatches, SameBitsOnOneAndTwoThreads) {
  ThreadCountGuard guard;
  Model model = small_layers_model();
  const Tensor x = Tensor::uniform({32, 32, 32, 3}, 0.f, 1.f);
  ASSERT_GT(detail::predict_sub_batches(*model, 32), 1);
  set_num_threads(1);
  const Tensor one = model->predict(x, 32);
  set_num_threads(2);
  const Tensor two = model->predict(x, 32);
  const Tensor again = model->predict(x, 32);
  EXPECT_TRUE(same_bits(one, two));
  EXPECT_TRUE(same_bits(two, again));
}

// Two user threads predicting with one model at once (each fused step gives
// each concurrent call its own workspace) get what one thread gets alone.
TEST(PredictSubBatches, OneModelFromTwoThreadsAtOnce) {
  ThreadCountGuard guard;
  set_num_threads(2);
  Model model = small_layers_model();
  const Tensor a = Tensor::uniform({16, 32, 32, 3}, 0.f, 1.f);
  const Tensor b = Tensor::uniform({16, 32, 32, 3}, 0.f, 1.f);
  const Tensor want_a = model->predict(a, 16), want_b = model->predict(b, 16);
  std::vector<Tensor> got_a(20), got_b(20);
  std::thread other([&] {
    for (Tensor& t : got_b) t = model->predict(b, 16);
  });
  for (Tensor& t : got_a) t = model->predict(a, 16);
  other.join();
  for (size_t i = 0; i < got_a.size(); ++i) {
    EXPECT_TRUE(same_bits(got_a[i], want_a)) << i;
    EXPECT_TRUE(same_bits(got_b[i], want_b)) << i;
  }
}

// A layer recording activity losses during its call keeps the model on one
// thread; the outputs are those of the model without the regularizer (whose
// pointwise convolution folds its BatchNormalization: float rounding apart).
TEST(PredictSubBatches, ActivityRegularizedModelGivesTheSameOutputs) {
  ThreadCountGuard guard;
  set_num_threads(2);
  Model plain = small_layers_model(false);
  Model regularized = small_layers_model(true);
  regularized->set_weights(plain->get_weights());
  const Tensor x = Tensor::uniform({16, 32, 32, 3}, 0.f, 1.f);
  ASSERT_EQ(detail::predict_sub_batches(*regularized, 16), detail::predict_sub_batches(*plain, 16));
  EXPECT_LE(scaled_error(regularized->predict(x, 16), plain->predict(x, 16)), 1e-5);
  EXPECT_FALSE(regularized->losses().empty());  // the call recorded its activity loss
}

}  // namespace
}  // namespace minidl
