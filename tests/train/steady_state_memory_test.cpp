// A training step in steady state takes all of its tensor storage (activations,
// gradients, temporaries, conv workspaces) from core/memory.h's cache: after the
// warm-up steps, further steps make no new system allocation for tensors.
#include <gtest/gtest.h>

#include "core/memory.h"
#include "core/random.h"
#include "core/threads.h"
#include "support/models.h"
#include "train/model.h"
#include "train/optimizers.h"

using namespace minidl;
using minidl::testing::CnnSizes;
using minidl::testing::mnist_cnn;

namespace {

// The mnist_cnn of the main job, scaled down so the test stays fast, with its
// weights drawn from `seed` and compiled as the main job compiles it.
Sequential small_cnn(uint64_t seed) {
  set_random_seed(seed);
  Sequential model = mnist_cnn(CnnSizes{.side = 12, .conv1 = 8, .conv2 = 16, .dense = 32});
  model->compile(std::make_shared<Adam>(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  return model;
}

// n random images for small_cnn and their sparse labels (i % 10).
std::pair<Tensor, Tensor> small_images(int64_t n) {
  const Tensor x = Tensor::uniform({n, 12, 12, 1});
  Tensor y({n});
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(i % 10);
  return {x, y};
}

}  // namespace

TEST(SteadyState, TrainingStepsMakeNoNewTensorAllocations) {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Sequential model = small_cnn(7);
    const auto [x, y] = small_images(32);
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
  Sequential model = small_cnn(8);
  const auto [x, y] = small_images(96);
  model->fit(x, y, {.batch_size = 32, .epochs = 1, .verbose = 0});  // warm-up epoch
  const MemoryStats before = memory_stats();
  model->fit(x, y, {.batch_size = 32, .epochs = 2, .verbose = 0});
  EXPECT_EQ(memory_stats().system_allocations, before.system_allocations);
}
