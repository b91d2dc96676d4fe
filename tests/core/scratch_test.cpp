#include "core/scratch.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace minidl {
namespace {

TEST(ScratchLease, SameDepthReusesTheObjectWithItsCapacity) {
  std::vector<int>* first = nullptr;
  {
    ScratchLease<std::vector<int>> a;
    a->assign(1000, 7);
    first = &*a;
  }
  ScratchLease<std::vector<int>> b;
  EXPECT_EQ(&*b, first);
  EXPECT_TRUE(b->empty());            // cleared when the first lease ended
  EXPECT_GE(b->capacity(), 1000u);    // but its memory is kept
}

TEST(ScratchLease, NestedLeasesNeverShareAnObject) {
  ScratchLease<std::vector<int>> outer;
  outer->push_back(1);
  {
    ScratchLease<std::vector<int>> inner;
    EXPECT_NE(&*inner, &*outer);
    inner->push_back(2);
    EXPECT_EQ(outer->size(), 1u);
  }
  EXPECT_EQ(outer->at(0), 1);  // the inner lease's end did not clear the outer object
}

TEST(ScratchLease, ThreadsHaveTheirOwnObjects) {
  ScratchLease<std::vector<int>> here;
  const std::vector<int>* there = nullptr;
  std::thread t([&] {
    ScratchLease<std::vector<int>> mine;
    there = &*mine;
  });
  t.join();
  EXPECT_NE(there, &*here);
}

}  // namespace
}  // namespace minidl
