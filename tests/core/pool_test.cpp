// Tests of core/memory.h's small-object pool and PoolAllocator.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "core/memory.h"

using namespace minidl;

TEST(SmallObjectPool, FreedBlockIsHandedOutAgainForTheSameSize) {
  void* a = pool_allocate(48);
  pool_deallocate(a, 48);
  const int64_t misses = memory_stats().pool_allocations;
  void* b = pool_allocate(40);  // same 16-byte class as 48
  EXPECT_EQ(a, b);
  EXPECT_EQ(memory_stats().pool_allocations, misses);
  pool_deallocate(b, 40);
}

TEST(SmallObjectPool, BlocksAreSixteenByteAlignedAndDistinct) {
  std::vector<void*> blocks;
  for (size_t n : {1u, 15u, 16u, 17u, 100u, 1000u, 1024u}) {
    void* p = pool_allocate(n);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u) << n;
    for (void* q : blocks) EXPECT_NE(p, q);
    blocks.push_back(p);
  }
  const size_t sizes[] = {1, 15, 16, 17, 100, 1000, 1024};
  for (size_t i = 0; i < blocks.size(); ++i) pool_deallocate(blocks[i], sizes[i]);
}

TEST(SmallObjectPool, LargeRequestsBypassThePool) {
  const int64_t misses = memory_stats().pool_allocations;
  void* p = pool_allocate(kPoolMaxBytes + 1);
  ASSERT_NE(p, nullptr);
  pool_deallocate(p, kPoolMaxBytes + 1);
  EXPECT_EQ(memory_stats().pool_allocations, misses);
}

TEST(SmallObjectPool, AllocateSharedReusesTheBlockAndRunsTheDestructor) {
  struct Probe {
    int* destroyed;
    ~Probe() { ++*destroyed; }
  };
  int destroyed = 0;
  const void* first = nullptr;
  {
    auto p = std::allocate_shared<Probe>(PoolAllocator<Probe>(), Probe{&destroyed});
    destroyed = 0;  // the temporary Probe above counted once
    first = p.get();
  }
  EXPECT_EQ(destroyed, 1);
  auto q = std::allocate_shared<Probe>(PoolAllocator<Probe>(), Probe{&destroyed});
  EXPECT_EQ(static_cast<const void*>(q.get()), first);
}

TEST(SmallObjectPool, BlocksMayBeFreedOnAnotherThread) {
  std::vector<void*> blocks;
  std::thread producer([&] {
    for (int i = 0; i < 1000; ++i) blocks.push_back(pool_allocate(64));
  });
  producer.join();
  std::thread consumer([&] {
    for (void* p : blocks) pool_deallocate(p, 64);
  });
  consumer.join();
  const int64_t misses = memory_stats().pool_allocations;
  std::vector<void*> again;
  for (int i = 0; i < 1000; ++i) again.push_back(pool_allocate(64));
  EXPECT_EQ(memory_stats().pool_allocations, misses);  // all 1000 came back to the pool
  for (void* p : again) pool_deallocate(p, 64);
}

TEST(SmallObjectPool, ClassesGrowBySlabsThatLeaveSlack) {
  // 1000 bytes: the 1008-byte class, which nothing else in this binary uses.
  const int64_t before = memory_stats().pool_allocations;
  std::vector<void*> blocks;
  for (int i = 0; i < 100; ++i) blocks.push_back(pool_allocate(1000));
  const int64_t slabs = memory_stats().pool_allocations - before;
  EXPECT_GE(slabs, 1);
  EXPECT_LE(slabs, 8);  // slabs of 8, 8, 8, 12, 18, 27, 40 blocks cover 100
  for (size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(blocks[i]) % 16, 0u);
    for (size_t j = 0; j < i; ++j) {
      const auto a = reinterpret_cast<uintptr_t>(blocks[i]), b = reinterpret_cast<uintptr_t>(blocks[j]);
      EXPECT_GE(a > b ? a - b : b - a, 1000u) << i << " overlaps " << j;
    }
  }
  for (void* p : blocks) pool_deallocate(p, 1000);
  // A later peak 10% higher than the first is served from the slack.
  const int64_t settled = memory_stats().pool_allocations;
  blocks.clear();
  for (int i = 0; i < 110; ++i) blocks.push_back(pool_allocate(1000));
  EXPECT_EQ(memory_stats().pool_allocations, settled);
  for (void* p : blocks) pool_deallocate(p, 1000);
}
