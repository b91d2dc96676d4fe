// Tests of core/shape.h's Shape: a vector of dimensions stored inline up to
// kInlineDims, spilling to the heap beyond.
#include "core/shape.h"

#include <gtest/gtest.h>

#include "core/errors.h"
#include "core/tensor.h"

#include <map>
#include <stdexcept>
#include <vector>

using namespace minidl;

TEST(Shape, BraceInitSizeAndIndexing) {
  const Shape s{2, 3, 4};
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], 2);
  EXPECT_EQ(s[2], 4);
  EXPECT_EQ(s.back(), 4);
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(Shape{}.empty());
}

TEST(Shape, CountConstructorFillsWithTheValue) {
  EXPECT_EQ(Shape(3), (Shape{0, 0, 0}));
  EXPECT_EQ(Shape(2, 7), (Shape{7, 7}));
}

TEST(Shape, CopiesAreIndependent) {
  Shape a{1, 2, 3};
  Shape b = a;
  b[0] = 9;
  EXPECT_EQ(a[0], 1);
  EXPECT_EQ(b[0], 9);
}

TEST(Shape, RankAboveInlineCapacitySpillsAndStaysCorrect) {
  Shape s;
  for (int64_t i = 0; i < 20; ++i) s.push_back(i);
  ASSERT_EQ(s.size(), 20u);
  EXPECT_GT(s.capacity(), Shape::kInlineDims);
  for (int64_t i = 0; i < 20; ++i) EXPECT_EQ(s[static_cast<size_t>(i)], i);
  Shape copy = s;
  Shape moved = std::move(s);
  EXPECT_EQ(copy, moved);
  EXPECT_TRUE(s.empty());  // NOLINT: a moved-from shape is empty
}

TEST(Shape, MoveOfAnInlineShapeCopiesTheDimensions) {
  Shape a{4, 5};
  Shape b = std::move(a);
  EXPECT_EQ(b, (Shape{4, 5}));
  a = Shape{1};  // NOLINT: reuse after move
  EXPECT_EQ(a, (Shape{1}));
}

TEST(Shape, InsertAndEraseWorkAsOnAVector) {
  Shape s{1, 2, 3};
  s.insert(s.begin(), kNone);
  EXPECT_EQ(s, (Shape{kNone, 1, 2, 3}));
  const Shape tail{8, 9};
  s.insert(s.end(), tail.begin(), tail.end());
  EXPECT_EQ(s, (Shape{kNone, 1, 2, 3, 8, 9}));
  s.insert(s.begin() + 1, s.begin() + 4, s.end());  // a range from the shape itself, past inline capacity
  EXPECT_EQ(s, (Shape{kNone, 8, 9, 1, 2, 3, 8, 9}));
  s.erase(s.begin() + 1, s.begin() + 3);
  EXPECT_EQ(s, (Shape{kNone, 1, 2, 3, 8, 9}));
  s.erase(s.begin());
  s.pop_back();
  EXPECT_EQ(s, (Shape{1, 2, 3, 8}));
}

TEST(Shape, ResizeAndAssign) {
  Shape s{1, 2};
  s.resize(4, 5);
  EXPECT_EQ(s, (Shape{1, 2, 5, 5}));
  s.resize(1);
  EXPECT_EQ(s, (Shape{1}));
  s.assign(3, 0);
  EXPECT_EQ(s, (Shape{0, 0, 0}));
}

TEST(Shape, ComparesLexicographicallyAndWorksAsAMapKey) {
  EXPECT_TRUE((Shape{1, 2}) < (Shape{1, 3}));
  EXPECT_TRUE((Shape{1}) < (Shape{1, 0}));
  EXPECT_NE((Shape{1, 2}), (Shape{2, 1}));
  std::map<Shape, int> m{{Shape{2, 2}, 1}, {Shape{1}, 2}};
  EXPECT_EQ(m.begin()->second, 2);
}

TEST(Shape, ConvertsToAndFromStdVector) {
  const std::vector<int64_t> v{3, 4};
  const Shape s = v;
  EXPECT_EQ(s, (Shape{3, 4}));
  const std::vector<int64_t> back = s;
  EXPECT_EQ(back, v);
  EXPECT_EQ(Shape(v.begin(), v.end()), s);
}

TEST(Shape, ShapeStrPrintsNoneAndTheRankOneComma) {
  EXPECT_EQ(shape_str(Shape{kNone, 28, 28, 1}), "(None, 28, 28, 1)");
  EXPECT_EQ(shape_str(Shape{3}), "(3,)");
  EXPECT_EQ(shape_str(Shape{}), "()");
}

TEST(Shape, AtChecksBoundsLikeAVector) {
  Shape s{5, 6};
  EXPECT_EQ(s.at(1), 6);
  s.at(0) = 7;
  EXPECT_EQ(s[0], 7);
  EXPECT_THROW(s.at(2), std::out_of_range);
}

TEST(Shape, SwapExchangesInlineAndSpilledShapes) {
  Shape small{1, 2};
  Shape big(9, 3);
  small.swap(big);
  EXPECT_EQ(small, Shape(9, 3));
  EXPECT_EQ(big, (Shape{1, 2}));
}

TEST(Shape, NumelRefusesProductsThatOverflowInt64) {
  const int64_t big = 2147483647;
  EXPECT_EQ(numel(Shape{big, big}), big * big);  // 2^62 - 2^32 + 1 still fits
  EXPECT_THROW(numel(Shape{big, big, big}), ValueError);
  EXPECT_THROW(numel(Shape{big, big, big, big}), ValueError);
  // A zero dimension: no elements, whatever the others. (Built by push_back: GCC 12 at -O3
  // -march=native turns the literal Shape{big, big, big, 0} into four copies of big.)
  Shape with_zero{big, big, big};
  with_zero.push_back(0);
  EXPECT_EQ(numel(with_zero), 0);
  std::string message;
  try {
    const Tensor t(Shape{big, big, big, big});
  } catch (const ValueError& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("(2147483647, 2147483647, 2147483647, 2147483647)"), std::string::npos) << message;
  // Fits int64 but not any address space: the allocator's size check, never a wrapped size.
  EXPECT_THROW(Tensor::empty(Shape{big, big}), ValueError);
}
