// Heap allocations of a steady-state training step of the main job's model
// (examples/train_fashion_mnist.cpp's mnist_cnn, batch 128, Adam), counted by
// counting_new.cpp's replacement operator new, linked into this executable only.
// Tensor storage and the tape's small objects come from core/memory.h's cache
// and pool, whose own misses the tests check too.
//
// A step used to make ~1,390 allocations; what remains per train_on_batch
// (11, measured; the bounds below fail if it grows) is:
//   - 9 std::vector<Variable> results of Layer::call (8 layers + the model's
//     graph run): the layer API returns a std::vector by value;
//   - 2 nodes of the std::map that train_on_batch returns ("loss", "accuracy").
// MINIDL_ALLOC_TRACE=1 (or =N for N stacks) prints the call stacks counted.
#include <gtest/gtest.h>

#include <cstdio>

#include "core/memory.h"

#include "core/random.h"
#include "core/threads.h"
#include "counting_new.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/pooling2d.h"
#include "layers/reshaping.h"
#include "train/model.h"
#include "train/optimizers.h"

using namespace minidl;
using alloc_testing::count_allocations;

namespace {

// examples/train_fashion_mnist.cpp's model: the classic Keras mnist_cnn.
Sequential mnist_cnn() {
  Sequential model({
      Conv2D(32, 3, {.activation = "relu", .input_shape = Shape{28, 28, 1}}),
      Conv2D(64, 3, {.activation = "relu"}),
      MaxPooling2D(2),
      Dropout(0.25),
      Flatten(),
      Dense(128, {.activation = "relu"}),
      Dropout(0.5),
      Dense(10, {.activation = "softmax"}),
  });
  model->compile(std::make_shared<Adam>(1e-3), "categorical_crossentropy", {"accuracy"});
  return model;
}

// n images and one-hot labels (random: the counts do not depend on the values).
std::pair<Tensor, Tensor> batch(int64_t n) {
  Tensor x = Tensor::uniform({n, 28, 28, 1});
  Tensor y = Tensor::zeros({n, 10});
  for (int64_t i = 0; i < n; ++i) y[i * 10 + (i * 7) % 10] = 1.f;
  return {x, y};
}

}  // namespace

// Measured per step on 2026-11-22 (see the overview); ~1,390 before, 19
// before ops/conv2d.cpp stopped building a vector of thread ranges per call.
constexpr int64_t kTrainOnBatchAllocations = 11;
constexpr int64_t kFitStepAllocations = 9;    // no returned map
constexpr int64_t kFitEpochAllocations = 29;  // callbacks, logs and history, once per epoch

TEST(SteadyStateAllocations, TrainOnBatchAllocatesOnlyAtKnownSites) {
  set_num_threads(2);
  set_random_seed(3);
  Sequential model = mnist_cnn();
  const auto [x, y] = batch(128);
  for (int step = 0; step < 3; ++step) model->train_on_batch(x, y);  // warm-up
  const MemoryStats before = memory_stats();
  const int64_t n = count_allocations([&] {
    for (int step = 0; step < 5; ++step) model->train_on_batch(x, y);
  });
  const MemoryStats after = memory_stats();
  std::printf("train_on_batch: %lld operator new calls in 5 steady-state steps\n", static_cast<long long>(n));
  EXPECT_LE(n, 5 * kTrainOnBatchAllocations);
  // The pools behind the count did not grow either (their misses are allocations too).
  EXPECT_EQ(after.system_allocations, before.system_allocations);
  EXPECT_EQ(after.pool_allocations, before.pool_allocations);
}

TEST(SteadyStateAllocations, FitAllocatesPerStepOnlyAtKnownSites) {
  set_num_threads(2);
  set_random_seed(4);
  Sequential model = mnist_cnn();
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
  EXPECT_LE(per_step, kFitStepAllocations);
  EXPECT_LE(per_epoch, kFitEpochAllocations);
}
