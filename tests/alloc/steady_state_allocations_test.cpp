// Heap allocations of steady-state training steps, counted by counting_new.cpp's
// replacement operator new, linked into this executable only. Tensor storage
// and the tape's small objects come from core/memory.h's cache and pool, whose
// own misses the tests check too.
//
// The main job's step (mnist_cnn, batch 128, Adam) makes no allocation, with
// train_on_batch or inside fit: tape entries and backward closures are pooled,
// Shape keeps its dimensions inline, the engine and the graph run use no maps,
// layers return VariableList (a pooled vector), and train_on_batch returns logs
// the model reuses.
// MINIDL_ALLOC_TRACE=1 (or =N for N stacks) prints the call stacks of any
// allocation counted.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <string>

#include "core/memory.h"
#include "core/random.h"
#include "core/threads.h"
#include "layers/activations/activation_layers.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/core/dense.h"
#include "layers/merge/merge.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/parts/regularizers.h"
#include "layers/pooling/global_pooling2d.h"
#include "support/counting_new.h"
#include "support/models.h"
#include "train/model.h"
#include "train/optimizers.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// n images and one-hot labels (random: the counts do not depend on the values).
std::pair<Tensor, Tensor> batch(int64_t n, Shape image = {28, 28, 1}, int64_t classes = 10) {
  Shape xs{n};
  for (int64_t d : image) xs.push_back(d);
  Tensor x = Tensor::uniform(xs);
  Tensor y = Tensor::zeros({n, classes});
  for (int64_t i = 0; i < n; ++i) y[i * classes + (i * 7) % classes] = 1.f;
  return {x, y};
}

// Operator new calls in `steps` train_on_batch steps after three warm-up steps
// (which create the optimizer's slots and fill the caches). Also checks that
// the tensor cache and the small-object pool did not grow in those steps.
int64_t steady_state_allocations(ModelImpl& model, const Tensor& x, const Tensor& y, int steps,
                                 const std::string& what) {
  for (int step = 0; step < 3; ++step) model.train_on_batch(x, y);
  const MemoryStats before = memory_stats();
  const int64_t n = count_allocations([&] {
    for (int step = 0; step < steps; ++step) model.train_on_batch(x, y);
  });
  const MemoryStats after = memory_stats();
  std::printf("%s: %lld operator new calls in %d steady-state steps\n", what.c_str(), static_cast<long long>(n),
              steps);
  // The pools behind the count did not grow either (their misses are allocations too).
  EXPECT_EQ(after.system_allocations, before.system_allocations) << what;
  EXPECT_EQ(after.pool_allocations, before.pool_allocations) << what;
  return n;
}

// Operator new calls in `calls` rounds of inference on batch x (predict,
// predict_on_batch, the model called on a Tensor, and on a Variable under
// NoGradGuard) after two warm-up rounds, with the same pool checks as training.
// (The call on a std::vector of Variables returns a std::vector: that one allocates.)
int64_t steady_state_predict_allocations(ModelImpl& model, const Tensor& x, int calls, const std::string& what) {
  const int64_t n = x.dim(0);
  const Variable xv(x);
  const auto round = [&] {
    model.predict(x, n);
    model.predict_on_batch(x);
    model(x);
    NoGradGuard no_grad;
    model(xv, CallArgs{});
  };
  for (int i = 0; i < 2; ++i) round();
  const MemoryStats before = memory_stats();
  const int64_t count = count_allocations([&] {
    for (int i = 0; i < calls; ++i) round();
  });
  const MemoryStats after = memory_stats();
  std::printf("%s: %lld operator new calls in %d steady-state inference rounds\n", what.c_str(),
              static_cast<long long>(count), calls);
  EXPECT_EQ(after.system_allocations, before.system_allocations) << what;
  EXPECT_EQ(after.pool_allocations, before.pool_allocations) << what;
  return count;
}

}  // namespace

// The main job's step, on 2 threads (its default) and on 1.
TEST(SteadyStateAllocations, MainJobTrainOnBatchAllocatesNothing) {
  for (int threads : {2, 1}) {
    set_num_threads(threads);
    set_random_seed(3);
    Sequential model = mnist_cnn();
    model->compile(std::make_shared<Adam>(1e-3), "categorical_crossentropy", {"accuracy"});
    const auto [x, y] = batch(128);
    EXPECT_EQ(steady_state_allocations(*model, x, y, 5, "mnist_cnn, Adam, " + std::to_string(threads) + " thread(s)"),
              0);
  }
  set_num_threads(2);
}

// Every optimizer's update, on a smaller batch of the same model.
TEST(SteadyStateAllocations, EveryOptimizerStepAllocatesNothing) {
  set_num_threads(2);
  const std::vector<std::pair<std::string, std::function<OptimizerPtr()>>> optimizers = {
      {"SGD", [] { return std::make_shared<SGD>(0.01); }},
      {"SGD nesterov", [] { return std::make_shared<SGD>(0.01, SGDOptions{.momentum = 0.9, .nesterov = true}); }},
      {"RMSprop centered",
       [] { return std::make_shared<RMSprop>(1e-3, RMSpropOptions{.momentum = 0.5, .centered = true}); }},
      {"Adagrad", [] { return std::make_shared<Adagrad>(1e-2); }},
      {"Adadelta", [] { return std::make_shared<Adadelta>(1.0); }},
      {"Adam amsgrad decay", [] { return std::make_shared<Adam>(1e-3, AdamOptions{.amsgrad = true, .decay = 1e-3}); }},
      {"Adamax", [] { return std::make_shared<Adamax>(2e-3); }},
      {"Nadam", [] { return std::make_shared<Nadam>(2e-3); }},
  };
  const auto [x, y] = batch(16);
  for (const auto& [name, make] : optimizers) {
    set_random_seed(5);
    Sequential model = mnist_cnn();
    model->compile(make(), "categorical_crossentropy", {"accuracy"});
    EXPECT_EQ(steady_state_allocations(*model, x, y, 3, "mnist_cnn, " + name), 0) << name;
  }
}

// A functional model with a residual Add, BatchNormalization (whose moving
// statistics are updates run after the step), a weight regularizer (a loss
// recomputed every step), 1x1 and 'same' convolutions, global pooling and a
// sparse loss.
TEST(SteadyStateAllocations, FunctionalResidualModelStepAllocatesNothing) {
  set_num_threads(2);
  set_random_seed(6);
  KerasTensor in = Input({12, 12, 3});
  KerasTensor h = Conv2D(16, 3, {.padding = "same", .kernel_regularizer = L2(1e-4)})(in);
  h = BatchNormalization()(h);
  h = ReLU()(h);
  KerasTensor skip = Conv2D(16, 1)(in);
  h = Add()({h, skip});
  h = GlobalAveragePooling2D()(h);
  Model model(in, Dense(5, {.activation = "softmax"})(h));
  model->compile(std::make_shared<SGD>(0.01, SGDOptions{.momentum = 0.9}), "sparse_categorical_crossentropy",
                 {"sparse_categorical_accuracy"});
  const Tensor x = Tensor::uniform({16, 12, 12, 3});
  Tensor y({16});
  for (int64_t i = 0; i < 16; ++i) y[i] = static_cast<float>(i % 5);
  EXPECT_EQ(steady_state_allocations(*model, x, y, 3, "residual functional model"), 0);
}

// fit: nothing per step; a fixed amount per epoch (callbacks, the epoch's
// logs, History's lists).
TEST(SteadyStateAllocations, FitAllocatesNothingPerStep) {
  set_num_threads(2);
  set_random_seed(4);
  Sequential model = mnist_cnn();
  model->compile(std::make_shared<Adam>(1e-3), "categorical_crossentropy", {"accuracy"});
  const auto [x4, y4] = batch(4 * 32);
  const auto [x8, y8] = batch(8 * 32);
  const FitOptions one_epoch{.batch_size = 32, .epochs = 1, .verbose = 0};
  model->fit(x4, y4, one_epoch);  // warm-up
  model->fit(x8, y8, one_epoch);
  const int64_t epoch4 = count_allocations([&] { model->fit(x4, y4, one_epoch); });
  const int64_t epoch8 = count_allocations([&] { model->fit(x8, y8, one_epoch); });
  // The difference is four steps; what is left of epoch4 is per-epoch bookkeeping.
  const int64_t per_step = (epoch8 - epoch4) / 4, per_epoch = epoch4 - 4 * per_step;
  std::printf("fit: %lld operator new calls for a 4-step epoch, %lld for an 8-step epoch (%lld per step, %lld per "
              "epoch)\n",
              static_cast<long long>(epoch4), static_cast<long long>(epoch8), static_cast<long long>(per_step),
              static_cast<long long>(per_epoch));
  EXPECT_EQ(epoch8, epoch4) << "allocations per step";
  EXPECT_LE(per_epoch, 29) << "per-epoch bookkeeping grew (it was 29 when this test was written)";
}

// Inference of the main job's model, one image and a batch of 32.
TEST(SteadyStateAllocations, MainJobPredictAllocatesNothing) {
  set_num_threads(2);
  set_random_seed(7);
  Sequential model = mnist_cnn();
  for (int64_t n : {1, 32}) {
    const Tensor x = batch(n).first;
    EXPECT_EQ(steady_state_predict_allocations(*model, x, 3, "mnist_cnn predict, batch " + std::to_string(n)), 0);
  }
}

// A MobileNet-like functional model whose conv -> BatchNormalization -> ReLU6
// chains run folded (layers/base/inference_plan.h), with global pooling and Dense.
TEST(SteadyStateAllocations, MobileNetLikePredictAllocatesNothing) {
  set_num_threads(2);
  set_random_seed(8);
  KerasTensor in = Input({16, 16, 3});
  KerasTensor h = Conv2D(8, 3, {.strides = 2, .padding = "same", .use_bias = false})(in);
  h = BatchNormalization()(h);
  h = ReLU({.max_value = 6.0})(h);
  h = DepthwiseConv2D(3, {.padding = "same", .use_bias = false})(h);
  h = BatchNormalization()(h);
  h = ReLU({.max_value = 6.0})(h);
  h = Conv2D(16, 1, {.use_bias = false})(h);
  h = BatchNormalization()(h);
  h = ReLU({.max_value = 6.0})(h);
  h = GlobalAveragePooling2D()(h);
  Model model(in, Dense(5, {.activation = "softmax"})(h));
  for (int64_t n : {1, 32}) {
    const Tensor x = Tensor::uniform({n, 16, 16, 3});
    EXPECT_EQ(steady_state_predict_allocations(*model, x, 3, "MobileNet-like predict, batch " + std::to_string(n)), 0);
  }
  EXPECT_EQ(model->fused_inference_steps(), 3u);
}
