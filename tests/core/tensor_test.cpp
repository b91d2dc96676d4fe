#include <gtest/gtest.h>

#include "core/errors.h"
#include "core/random.h"
#include "core/tensor.h"

using namespace minidl;

TEST(Tensor, CopiesShareStorageAndCloneDoesNot) {
  Tensor a = Tensor::zeros({2, 3});
  Tensor b = a;
  b[4] = 7.f;
  EXPECT_EQ(a[4], 7.f);
  Tensor c = a.clone();
  c[4] = 1.f;
  EXPECT_EQ(a[4], 7.f);
  EXPECT_FALSE(c.shares_storage(a));
}

TEST(Tensor, ReshapeIsAViewAndInfersOneDimension) {
  Tensor a = Tensor::arange({2, 3});
  Tensor r = a.reshape({3, -1});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  r.at({2, 1}) = 42.f;
  EXPECT_EQ(a.at({1, 2}), 42.f);
  EXPECT_THROW(a.reshape({4, 2}), ValueError);
}

TEST(Tensor, AtChecksBoundsAndRank) {
  Tensor a = Tensor::arange({2, 3});
  EXPECT_EQ(a.at({1, 0}), 3.f);
  EXPECT_THROW(a.at({2, 0}), ValueError);
  EXPECT_THROW(a.at({0}), ValueError);
}

TEST(Tensor, SliceRowsViewsTheRightRows) {
  Tensor a = Tensor::arange({4, 2});
  Tensor s = a.slice_rows(1, 3);
  EXPECT_EQ(s.shape(), (Shape{2, 2}));
  EXPECT_EQ(s[0], 2.f);
  EXPECT_EQ(s[3], 5.f);
  EXPECT_THROW(a.slice_rows(3, 5), ValueError);
}

TEST(Tensor, FromDataChecksCount) {
  EXPECT_THROW(Tensor::from_data({2, 2}, {1.f, 2.f, 3.f}), ValueError);
  Tensor t = Tensor::from_data({3}, {1.f, 2.f, 3.f});
  EXPECT_EQ(t.to_vector(), (std::vector<float>{1, 2, 3}));
}

TEST(Tensor, SeededRandomIsReproducible) {
  set_random_seed(123);
  Tensor a = Tensor::normal({100});
  set_random_seed(123);
  Tensor b = Tensor::normal({100});
  EXPECT_EQ(max_abs_diff(a, b), 0.f);
  Tensor u = Tensor::uniform({1000}, -2.f, 3.f);
  for (float v : u.span()) {
    EXPECT_GE(v, -2.f);
    EXPECT_LT(v, 3.f);
  }
}

TEST(Tensor, PrintsShapeAndValues) {
  Tensor a = Tensor::arange({2, 2});
  EXPECT_EQ(a.to_string(), "Tensor(shape=(2, 2), [[0, 1], [2, 3]])");
  EXPECT_EQ(fmt::format("{}", Tensor::scalar(1.5f)), "Tensor(shape=(), 1.5)");
}

TEST(Shape, PrintsLikeKeras) {
  EXPECT_EQ(shape_str({kNone, 28, 28, 1}), "(None, 28, 28, 1)");
  EXPECT_EQ(shape_str({3}), "(3,)");
  EXPECT_EQ(shape_str({}), "()");
}

TEST(Shape, BroadcastsLikeNumpy) {
  EXPECT_EQ(broadcast_shapes({4, 1, 3}, {2, 1}), (Shape{4, 2, 3}));
  EXPECT_EQ(broadcast_shapes({}, {2}), (Shape{2}));
  EXPECT_THROW(broadcast_shapes({3}, {4}), ValueError);
}

TEST(Shape, NumelRejectsUnknownDims) {
  EXPECT_EQ(numel({2, 3, 4}), 24);
  EXPECT_EQ(numel({}), 1);
  EXPECT_THROW(numel({kNone, 3}), ValueError);
}

TEST(Errors, DeriveFromStdExceptions) {
  EXPECT_THROW(throw ValueError("x"), std::invalid_argument);
  EXPECT_THROW(throw AttributeError("x"), std::logic_error);
  EXPECT_THROW(throw RuntimeError("x"), std::runtime_error);
  EXPECT_THROW(throw IOError("x"), std::runtime_error);
  try {
    MINIDL_CHECK(1 == 2, ValueError, "got {} expected {}", 1, 2);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "got 1 expected 2");
  }
}
