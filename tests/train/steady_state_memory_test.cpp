// A training step in steady state takes all of its tensor storage (activations,
// gradients, temporaries, conv workspaces) from core/memory.h's cache: after the
// warm-up steps, further steps make no new system allocation for tensors.
#include <gtest/gtest.h>

#include "core/memory.h"
#include "core/random.h"
#include "core/threads.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/regularization/dropout.h"
#include "layers/pooling/pooling2d.h"
#include "layers/reshaping/reshaping.h"
#include "train/model.h"
#include "train/optimizers.h"

using namespace minidl;

namespace {

// The mnist_cnn of the main job, scaled down so the test stays fast.
Sequential small_cnn() {
  return Sequential({
      Conv2D(8, 3, {.activation = "relu", .input_shape = Shape{12, 12, 1}}),
      Conv2D(16, 3, {.activation = "relu"}),
      MaxPooling2D(2),
      Dropout(0.25),
      Flatten(),
      Dense(32, {.activation = "relu"}),
      Dropout(0.5),
      Dense(10, {.activation = "softmax"}),
  });
}

}  // namespace

TEST(SteadyState, TrainingStepsMakeNoNewTensorAllocations) {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    set_random_seed(7);
    Sequential model = small_cnn();
    model->compile(std::make_shared<Adam>(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
    const Tensor x = Tensor::uniform({32, 12, 12, 1});
    Tensor y({32});
    for (int64_t i = 0; i < 32; ++i) y[i] = static_cast<float>(i % 10);
    for (int step = 0; step < 3; ++step) model->train_on_batch(x, y);  // warm-up: buffers and optimizer slots
    const MemoryStats before = memory_stats();
    for (int step = 0; step < 5; ++step) model->train_on_batch(x, y);
    const MemoryStats after = memory_stats();
    EXPECT_EQ(after.system_allocations, before.system_allocations) << threads << " thread(s)";
    EXPECT_GT(after.cache_hits, before.cache_hits + 5 * 20) << "the steps did allocate tensors, from the cache";
    EXPECT_EQ(after.live_bytes, before.live_bytes) << "tensors kept alive across steps (a leak)";
  }
  set_num_threads(2);
}

TEST(SteadyState, FitEpochsMakeNoNewTensorAllocations) {
  set_num_threads(2);
  set_random_seed(8);
  Sequential model = small_cnn();
  model->compile(std::make_shared<Adam>(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  const Tensor x = Tensor::uniform({96, 12, 12, 1});
  Tensor y({96});
  for (int64_t i = 0; i < 96; ++i) y[i] = static_cast<float>(i % 10);
  model->fit(x, y, {.batch_size = 32, .epochs = 1, .verbose = 0});  // warm-up epoch
  const MemoryStats before = memory_stats();
  model->fit(x, y, {.batch_size = 32, .epochs = 2, .verbose = 0});
  EXPECT_EQ(memory_stats().system_allocations, before.system_allocations);
}
