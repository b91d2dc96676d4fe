// tests/alloc/predict_subbatch_allocations_test.cpp — predict cutting a batch into sub-batches
// that run on several threads (train/predict_subbatch.h) allocates nothing in the steady state:
// each thread's scratch and each fused step's per-thread workspaces are made once, and the
// tensor cache and small-object pool, shared by the threads, hold enough for the sub-batches
// that run at the same time once they have served them all at their largest.
//
// How much the threads hold at once depends on how their runs interleave: the most is every
// value of two sub-batches at the end of their runs. The warm-up makes that happen: the
// network ends in an identity layer that, while warming up, waits there until both threads'
// sub-batches have arrived, and then runs on until ten rounds in a row allocate nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "core/memory.h"
#include "core/random.h"
#include "core/threads.h"
#include "layers/activations/activation_layers.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/core/dense.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/pooling/global_pooling2d.h"
#include "support/counting_new.h"
#include "train/model.h"
#include "train/predict_subbatch.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// The identity, which while `hold` is on waits (at most a second) until two calls are inside it.
class RendezvousImpl : public Layer {
 public:
  RendezvousImpl() : Layer(LayerOptions{}, "rendezvous") {}
  std::string class_name() const override { return "TestRendezvous"; }
  std::atomic<bool> hold{false};

 protected:
  VariableList call(const std::vector<Variable>& in, const CallArgs&) override {
    if (hold) {
      std::unique_lock lk(mu_);
      const uint64_t round = arrived_++ / 2;
      cv_.notify_all();
      cv_.wait_for(lk, std::chrono::seconds(1), [&] { return arrived_ / 2 > round; });
    }
    return {in[0]};
  }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& s) override { return {single_shape(s)}; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t arrived_ = 0;
};

// Two depthwise-separable blocks on 32x32 images: a network of small layers, so predict cuts a batch of 32.
Model separable_blocks(RendezvousImpl& rendezvous) {
  set_random_seed(21);
  KerasTensor in = Input({32, 32, 3});
  KerasTensor h = Conv2D(12, 3, {.strides = 2, .padding = "same", .use_bias = false})(in);
  h = BatchNormalization()(h);
  h = ReLU({.max_value = 6.0})(h);
  for (int64_t filters : {24, 32}) {
    h = DepthwiseConv2D(3, {.padding = "same", .use_bias = false})(h);
    h = BatchNormalization()(h);
    h = ReLU({.max_value = 6.0})(h);
    h = Conv2D(filters, 1, {.use_bias = false})(h);
    h = BatchNormalization()(h);
    h = ReLU({.max_value = 6.0})(h);
  }
  h = GlobalAveragePooling2D()(h);
  return Model(in, rendezvous(Dense(10, {.activation = "softmax"})(h)));
}

}  // namespace

TEST(PredictSubBatchAllocations, CutBatchAllocatesNothingOnOneAndTwoThreads) {
  const int saved = num_threads();
  auto rendezvous = std::make_shared<RendezvousImpl>();
  Model model = separable_blocks(*rendezvous);
  const Tensor x = Tensor::uniform({32, 32, 32, 3});
  ASSERT_GT(detail::predict_sub_batches(*model, 32), 1);  // the premise: the batch is cut
  for (int threads : {2, 1}) {
    set_num_threads(threads);
    const auto round = [&] {
      model->predict(x, 32);
      model->predict_on_batch(x);
    };
    rendezvous->hold = threads > 1;
    for (int i = 0; i < 3; ++i) round();
    rendezvous->hold = false;
    // Then until ten rounds in a row take nothing from the system: how the two threads' runs
    // overlap varies with the machine's load, and an overlap not seen before can hold one block
    // more at once, once; the caches keep it from then on.
    for (int quiet = 0, i = 0; quiet < 10 && i < 200; ++i) {
      const MemoryStats s0 = memory_stats();
      round();
      const MemoryStats s1 = memory_stats();
      const bool none = s1.system_allocations == s0.system_allocations && s1.pool_allocations == s0.pool_allocations;
      quiet = none ? quiet + 1 : 0;
    }
    const MemoryStats before = memory_stats();
    const int64_t count = count_allocations([&] {
      for (int i = 0; i < 5; ++i) round();
    });
    const MemoryStats after = memory_stats();
    std::printf("sub-batched predict, %d thread(s): %lld operator new calls in 5 rounds\n", threads,
                static_cast<long long>(count));
    EXPECT_EQ(count, 0) << threads << " thread(s)";
    EXPECT_EQ(after.system_allocations, before.system_allocations) << threads << " thread(s)";
    EXPECT_EQ(after.pool_allocations, before.pool_allocations) << threads << " thread(s)";
  }
  set_num_threads(saved);
}
