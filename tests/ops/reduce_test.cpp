#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "ops/reduce.h"
#include "support/assertions.h"
#include "support/indices.h"
#include "support/tensors.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

enum class Kind { kSum, kMean, kMax, kMin };

// Reduces with keepdims=true semantics; the caller reshapes.
Tensor naive_reduce(Kind kind, const Tensor& x, const std::vector<bool>& reduced) {
  Shape kept = x.shape();
  for (size_t i = 0; i < kept.size(); ++i)
    if (reduced[i]) kept[i] = 1;
  const double init = kind == Kind::kMax ? -INFINITY : kind == Kind::kMin ? INFINITY : 0.0;
  std::vector<double> acc(numel(kept), init);
  std::vector<int64_t> count(numel(kept), 0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto idx = unravel(i, x.shape());
    for (size_t a = 0; a < idx.size(); ++a)
      if (reduced[a]) idx[a] = 0;
    const int64_t o = ravel(idx, kept);
    const double v = x[i];
    if (kind == Kind::kMax)
      acc[o] = std::max(acc[o], v);
    else if (kind == Kind::kMin)
      acc[o] = std::min(acc[o], v);
    else
      acc[o] += v;
    ++count[o];
  }
  if (kind == Kind::kMean)
    for (size_t o = 0; o < acc.size(); ++o) acc[o] /= static_cast<double>(count[o]);
  return to_tensor(kept, acc);
}

Tensor run(Kind kind, const Tensor& x, const std::vector<int>& axes, bool keepdims) {
  switch (kind) {
    case Kind::kSum: return ops::sum(x, axes, keepdims);
    case Kind::kMean: return ops::mean(x, axes, keepdims);
    case Kind::kMax: return ops::max(x, axes, keepdims);
    case Kind::kMin: return ops::min(x, axes, keepdims);
  }
  return {};
}

struct AxesCase {
  Shape shape;
  std::vector<int> axes;
};

}  // namespace

TEST(Reduce, EveryKindMatchesNaiveOverAxisSets) {
  const std::vector<AxesCase> cases = {
      {{6}, {}},           {{6}, {0}},           {{3, 4}, {0}},          {{3, 4}, {1}},
      {{3, 4}, {-1}},      {{3, 4}, {0, 1}},     {{2, 3, 4}, {1}},       {{2, 3, 4}, {0, 2}},
      {{2, 3, 4}, {2, 0}}, {{2, 1, 4}, {1}},     {{2, 3, 4, 5}, {1, 2}}, {{2, 3, 4, 5}, {0, 3}},
      {{2, 3, 4, 5}, {-3, -1}}, {{5, 1, 3}, {0, 2}}, {{4, 3, 2, 2}, {}},
  };
  for (const auto& c : cases) {
    const Tensor x = Tensor::uniform(c.shape, -2, 2);
    std::vector<bool> reduced(c.shape.size(), c.axes.empty());
    for (int a : c.axes) reduced[a < 0 ? a + static_cast<int>(c.shape.size()) : a] = true;
    for (Kind kind : {Kind::kSum, Kind::kMean, Kind::kMax, Kind::kMin}) {
      const Tensor ref = naive_reduce(kind, x, reduced);
      const Tensor kept = run(kind, x, c.axes, true);
      EXPECT_TRUE(AllClose(kept, ref)) << "kind " << int(kind) << " shape " << shape_str(c.shape);
      const Tensor dropped = run(kind, x, c.axes, false);
      EXPECT_EQ(dropped.shape(), ops::reduced_shape(c.shape, c.axes, false));
      EXPECT_EQ(dropped.to_vector(), kept.to_vector());
    }
  }
}

TEST(Reduce, LargeSumIsAccurateAndThreadSafe) {
  const int saved = num_threads();
  set_num_threads(2);
  const Tensor x = Tensor::uniform({2048, 300}, 0.f, 1.f);  // enough rows for two memory-bound chunks
  EXPECT_TRUE(AllClose(ops::sum(x, {1}, true), naive_reduce(Kind::kSum, x, {false, true})));
  EXPECT_TRUE(AllClose(ops::sum(x, {0}, true), naive_reduce(Kind::kSum, x, {true, false})));
  EXPECT_TRUE(AllClose(ops::mean(x), naive_reduce(Kind::kMean, x, {true, true}).reshape({})));
  set_num_threads(saved);
}

TEST(Reduce, ReducedShapeKeepsOrDropsAxes) {
  EXPECT_EQ(ops::reduced_shape({2, 3, 4}, {1}, false), (Shape{2, 4}));
  EXPECT_EQ(ops::reduced_shape({2, 3, 4}, {1}, true), (Shape{2, 1, 4}));
  EXPECT_EQ(ops::reduced_shape({2, 3, 4}, {}, false), (Shape{}));
  EXPECT_EQ(ops::reduced_shape({2, 3, 4}, {}, true), (Shape{1, 1, 1}));
  EXPECT_EQ(ops::reduced_shape({2, 3, 4}, {-1, 0}, false), (Shape{3}));
}

TEST(Reduce, ScalarInputReducesToItself) {
  const Tensor s = Tensor::scalar(4.5f);
  EXPECT_EQ(ops::sum(s).shape(), (Shape{}));
  EXPECT_EQ(ops::sum(s).item(), 4.5f);
  EXPECT_EQ(ops::max(s).item(), 4.5f);
}

TEST(Reduce, EmptyAxisGivesIdentities) {
  const Tensor x = Tensor::zeros({3, 0});
  EXPECT_EQ(ops::sum(x, {1}).to_vector(), (std::vector<float>{0, 0, 0}));
  EXPECT_TRUE(std::isnan(ops::mean(x, {1})[0]));
  EXPECT_EQ(ops::max(x, {1})[0], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(ops::min(x, {1})[0], std::numeric_limits<float>::infinity());
}

TEST(Reduce, MaxPropagatesNaN) {
  const Tensor x = Tensor::from_data({2, 3}, {1.f, NAN, 2.f, 4.f, 5.f, 6.f});
  const Tensor m = ops::max(x, {1});
  EXPECT_TRUE(std::isnan(m[0]));
  EXPECT_EQ(m[1], 6.f);
}

TEST(Reduce, RejectsOutOfRangeAndDuplicateAxes) {
  const Tensor x = Tensor::zeros({2, 3});
  EXPECT_THROW(ops::sum(x, {2}), ValueError);
  EXPECT_THROW(ops::mean(x, {-3}), ValueError);
  EXPECT_THROW(ops::max(x, {0, 0}), ValueError);
  EXPECT_THROW(ops::min(x, {1, -1}), ValueError);
  EXPECT_THROW(ops::reduced_shape({2, 3}, {5}, true), ValueError);
}

TEST(Argmax, MatchesNaiveAlongEachAxis) {
  const Tensor x = Tensor::uniform({3, 4, 5}, -1, 1);
  for (int axis = -3; axis < 3; ++axis) {
    const int ax = axis < 0 ? axis + 3 : axis;
    const Tensor got = ops::argmax(x, axis);
    Shape out = x.shape();
    out.erase(out.begin() + ax);
    ASSERT_EQ(got.shape(), out);
    for (int64_t o = 0; o < got.numel(); ++o) {
      auto idx = unravel(o, out);
      idx.insert(idx.begin() + ax, 0);
      int64_t best = 0;
      for (int64_t k = 0; k < x.shape()[ax]; ++k) {
        auto cand = idx, cur = idx;
        cand[ax] = k;
        cur[ax] = best;
        if (x[ravel(cand, x.shape())] > x[ravel(cur, x.shape())]) best = k;
      }
      EXPECT_EQ(got[o], static_cast<float>(best)) << "axis " << axis << " at " << o;
    }
  }
}

TEST(Argmax, TiesPickTheFirstIndex) {
  const Tensor x = Tensor::from_data({2, 3}, {1.f, 3.f, 3.f, 2.f, 2.f, 2.f});
  EXPECT_EQ(ops::argmax(x, 1).to_vector(), (std::vector<float>{1, 0}));
}

TEST(Argmax, RejectsBadAxisScalarAndEmptyAxis) {
  EXPECT_THROW(ops::argmax(Tensor::zeros({2, 3}), 2), ValueError);
  EXPECT_THROW(ops::argmax(Tensor::scalar(1.f), 0), ValueError);
  EXPECT_THROW(ops::argmax(Tensor::zeros({2, 0}), 1), ValueError);
}
