// tests/ops/map_test.cpp — ops/map.h's element-wise map and ops/parallel_grain.h's rule.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "ops/map.h"
#include "ops/parallel_grain.h"
#include "ops/reduce.h"

using namespace minidl;

namespace {

// Values that differ from element to element, so a misplaced chunk shows.
// (Arithmetic is compared to 4 ulps: the vectorised loop may fuse a
// multiply-add that the scalar check does not.)
Tensor ramp(int64_t n, float step) {
  Tensor t({n});
  for (int64_t i = 0; i < n; ++i) t[i] = std::sin(step * static_cast<float>(i));
  return t;
}

// Restores the thread count a test changes.
class ThreadCountGuard {
 public:
  ThreadCountGuard() : saved_(num_threads()) {}
  ~ThreadCountGuard() { set_num_threads(saved_); }

 private:
  int saved_;
};

}  // namespace

TEST(ParallelGrain, OneRuleGivesTheTwoElementGrains) {
  EXPECT_EQ(ops::grain(ops::Cost::kMemory), ops::kChunkWork);
  EXPECT_EQ(ops::grain(ops::Cost::kCompute), ops::kChunkWork / 16);
  EXPECT_EQ(ops::kElementwiseGrain, ops::grain(ops::Cost::kMemory));
  EXPECT_EQ(ops::kComputeGrain, ops::grain(ops::Cost::kCompute));
}

TEST(ParallelGrain, ItemsOfSeveralElementsNeedFewerPerChunkButAtLeastOne) {
  EXPECT_EQ(ops::grain(ops::Cost::kMemory, 1024), ops::kChunkWork / 1024);
  EXPECT_EQ(ops::grain(ops::Cost::kCompute, 64), ops::kChunkWork / (16 * 64));
  EXPECT_EQ(ops::grain(ops::Cost::kMemory, ops::kChunkWork * 4), 1);
  EXPECT_EQ(ops::grain(ops::Cost::kMemory, 0), ops::kChunkWork);  // an empty item counts as one element
}

TEST(MapElements, OneInputMatchesASerialLoopOnEverySize) {
  // Sizes below, at and above the split points of both costs.
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{7}, 2 * ops::kComputeGrain + 3, 2 * ops::kElementwiseGrain + 5}) {
    const Tensor x = ramp(n, 0.01f);
    const Tensor cheap = ops::map_elements(x, [](float v) { return 2.f * v + 1.f; });
    const Tensor dear = ops::map_elements(x, [](float v) { return std::tanh(v); }, ops::Cost::kCompute);
    ASSERT_EQ(cheap.shape(), x.shape());
    ASSERT_EQ(dear.shape(), x.shape());
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_FLOAT_EQ(cheap[i], 2.f * x[i] + 1.f) << "n=" << n << " i=" << i;
      ASSERT_FLOAT_EQ(dear[i], std::tanh(x[i])) << "n=" << n << " i=" << i;
    }
  }
}

TEST(MapElements, TwoAndThreeInputsTakeTheFirstInputsShape) {
  const int64_t n = 2 * ops::kElementwiseGrain + 1;
  const Tensor a = ramp(n, 0.01f).reshape({n, 1});
  const Tensor b = ramp(n, 0.02f);
  const Tensor c = ramp(n, 0.03f);
  const Tensor ab = ops::map_elements(a, b, [](float x, float y) { return x - y; });
  const Tensor abc = ops::map_elements(a, b, c, [](float x, float y, float z) { return x * y + z; });
  EXPECT_EQ(ab.shape(), (Shape{n, 1}));
  EXPECT_EQ(abc.shape(), (Shape{n, 1}));
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(ab[i], a[i] - b[i]);
    ASSERT_FLOAT_EQ(abc[i], a[i] * b[i] + c[i]);
  }
}

TEST(MapElements, RejectsUndefinedAndMismatchedInputs) {
  const Tensor a = Tensor::ones({2, 3});
  const Tensor b = Tensor::ones({5});
  auto id = [](float v) { return v; };
  auto first = [](float x, float) { return x; };
  auto first3 = [](float x, float, float) { return x; };
  EXPECT_THROW(ops::map_elements(Tensor(), id), ValueError);
  EXPECT_THROW(ops::map_elements(a, b, first), ValueError);
  EXPECT_THROW(ops::map_elements(a, Tensor(), first), ValueError);
  EXPECT_THROW(ops::map_elements(a, a, b, first3), ValueError);
  // Equal numels with different shapes are accepted: the map is element-wise.
  EXPECT_EQ(ops::map_elements(a, Tensor::ones({6}), first).shape(), (Shape{2, 3}));
}

TEST(MapInto, OutputMayBeAnInput) {
  const int64_t n = 2 * ops::kElementwiseGrain + 9;
  Tensor y = ramp(n, 0.01f);
  const Tensor before = y.clone();
  const Tensor x = ramp(n, 0.02f);
  ops::map_into(n, ops::Cost::kMemory, [](float yi, float xi) { return yi + 0.5f * xi; }, y.data(), y.data(),
                x.data());
  for (int64_t i = 0; i < n; ++i) ASSERT_FLOAT_EQ(y[i], before[i] + 0.5f * x[i]);
}

TEST(MapElements, ResultDoesNotDependOnTheThreadCount) {
  const ThreadCountGuard guard;
  const Tensor x = ramp(3 * ops::kElementwiseGrain + 11, 0.001f);
  auto f = [](float v) { return std::exp(v) * v; };
  set_num_threads(1);
  const Tensor one = ops::map_elements(x, f, ops::Cost::kCompute);
  set_num_threads(3);
  const Tensor three = ops::map_elements(x, f, ops::Cost::kCompute);
  ASSERT_EQ(one.numel(), three.numel());
  for (int64_t i = 0; i < one.numel(); ++i) ASSERT_EQ(one[i], three[i]) << i;
}

// Reductions take their axes as a span: a braced list, a std::vector, a
// std::array or part of one name the same axes.
TEST(ReduceAxes, BracedListVectorArrayAndSubspanAgree) {
  Tensor x({2, 3, 4});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(i % 7) - 3.f;
  const Tensor braced = ops::sum(x, {0, 2}, true);
  const std::vector<int> vec{0, 2};
  const std::array<int, 3> arr{0, 2, 1};
  const Tensor from_vector = ops::sum(x, vec, true);
  const Tensor from_prefix = ops::sum(x, std::span<const int>(arr.data(), 2), true);
  ASSERT_EQ(braced.shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(from_vector.to_vector(), braced.to_vector());
  EXPECT_EQ(from_prefix.to_vector(), braced.to_vector());
  EXPECT_EQ(ops::reduced_shape(x.shape(), vec, false), (Shape{3}));
  EXPECT_EQ(ops::reduced_shape(x.shape(), {}, false), (Shape{}));
}
