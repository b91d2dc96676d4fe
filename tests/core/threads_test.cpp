#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"

using namespace minidl;

TEST(Threads, ParallelForCoversRangeExactlyOnce) {
  set_num_threads(2);
  std::vector<std::atomic<int>> hits(1001);
  parallel_for(1001, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) hits[i]++;
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(Threads, ParallelForRethrows) {
  set_num_threads(2);
  EXPECT_THROW(parallel_for(100, [](int64_t b, int64_t) {
                 if (b > 0) throw ValueError("boom");
               }),
               ValueError);
  // The pool is still usable afterwards.
  std::atomic<int64_t> total{0};
  parallel_for(100, [&](int64_t b, int64_t e) { total += e - b; });
  EXPECT_EQ(total.load(), 100);
}

TEST(Threads, RejectsZeroThreads) { EXPECT_THROW(set_num_threads(0), ValueError); }
