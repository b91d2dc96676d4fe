// Tests of core/memory.h: the cache of tensor storage blocks.
#include "core/memory.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "core/errors.h"
#include "core/tensor.h"

using namespace minidl;

namespace {

// Each test restores the default limit, so the cache state is predictable.
class MemoryCache : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = cache_limit();
    set_cache_limit(int64_t{64} << 20);  // also empties the cache
  }
  void TearDown() override { set_cache_limit(saved_); }
  int64_t saved_ = 0;
};

}  // namespace

TEST_F(MemoryCache, FreedBlockIsReusedWithoutSystemAllocation) {
  float* first = nullptr;
  {
    auto p = aligned_floats(100000);
    first = p.get();
  }
  const MemoryStats before = memory_stats();
  auto q = aligned_floats(100000);
  const MemoryStats after = memory_stats();
  EXPECT_EQ(q.get(), first);
  EXPECT_EQ(after.system_allocations, before.system_allocations);
  EXPECT_GE(after.cache_hits, before.cache_hits + 2);  // the block and its control block
}

TEST_F(MemoryCache, NearbySizesShareASizeClass) {
  float* first = nullptr;
  {
    auto p = aligned_floats(100000);
    first = p.get();
  }
  auto q = aligned_floats(99000);  // a partial last batch, 1% smaller
  EXPECT_EQ(q.get(), first);
}

TEST_F(MemoryCache, BlocksAreAlignedTo64Bytes) {
  for (int64_t n : {0, 1, 3, 17, 1000, 123457}) {
    auto p = aligned_floats(n);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p.get()) % 64, 0u) << n;
  }
}

TEST_F(MemoryCache, LiveBytesFollowAllocations) {
  const int64_t live0 = memory_stats().live_bytes;
  {
    Tensor t({1024, 256});  // 1 MiB
    EXPECT_GE(memory_stats().live_bytes, live0 + (int64_t{1} << 20));
    EXPECT_GE(memory_stats().peak_live_bytes, live0 + (int64_t{1} << 20));
  }
  EXPECT_EQ(memory_stats().live_bytes, live0);
}

TEST_F(MemoryCache, ZeroLimitReturnsBlocksToTheSystem) {
  set_cache_limit(0);
  { auto p = aligned_floats(50000); }
  EXPECT_EQ(memory_stats().cached_bytes, 0);
  const int64_t misses = memory_stats().system_allocations;
  auto q = aligned_floats(50000);
  EXPECT_GT(memory_stats().system_allocations, misses);
}

TEST_F(MemoryCache, CacheNeverExceedsItsLimit) {
  set_cache_limit(int64_t{1} << 20);
  {
    auto a = aligned_floats(200000), b = aligned_floats(200000);  // 800 KB each
  }
  EXPECT_LE(memory_stats().cached_bytes, int64_t{1} << 20);
  EXPECT_GT(memory_stats().cached_bytes, 0);
}

TEST_F(MemoryCache, EmptyCacheReleasesEverything) {
  { auto p = aligned_floats(300000); }
  EXPECT_GT(memory_stats().cached_bytes, 0);
  empty_cache();
  EXPECT_EQ(memory_stats().cached_bytes, 0);
}

TEST_F(MemoryCache, RejectsNegativeArguments) {
  EXPECT_THROW(set_cache_limit(-1), ValueError);
  EXPECT_THROW(aligned_floats(-5), ValueError);
}
