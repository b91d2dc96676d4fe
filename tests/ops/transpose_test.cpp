#include <gtest/gtest.h>

#include <vector>

#include "core/errors.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "ops/transpose.h"
#include "support/indices.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// out[i0..] = x[j..] with j[perm[k]] = i[k]; exact copy, so compared bit for bit.
std::vector<float> naive_permute(const Tensor& x, const std::vector<int>& perm) {
  Shape out(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) out[k] = x.shape()[perm[k]];
  std::vector<float> v(numel(out));
  for (int64_t i = 0; i < numel(out); ++i) {
    const auto oi = unravel(i, out);
    std::vector<int64_t> xi(perm.size());
    for (size_t k = 0; k < perm.size(); ++k) xi[perm[k]] = oi[k];
    v[i] = x[ravel(xi, x.shape())];
  }
  return v;
}

}  // namespace

TEST(Permute, MatchesNaiveOnManyShapesAndPermutations) {
  const std::vector<std::pair<Shape, std::vector<int>>> cases = {
      {{5}, {0}},
      {{3, 4}, {1, 0}},
      {{3, 4}, {0, 1}},
      {{2, 3, 4}, {0, 2, 1}},
      {{2, 3, 4}, {2, 0, 1}},
      {{2, 3, 4}, {1, 2, 0}},
      {{2, 3, 4}, {1, 0, 2}},
      {{2, 3, 4, 5}, {0, 2, 3, 1}},
      {{2, 3, 4, 5}, {0, 3, 1, 2}},
      {{2, 3, 4, 5}, {3, 1, 0, 2}},
      {{2, 1, 4, 1}, {3, 2, 1, 0}},
      {{70, 45}, {1, 0}},  // short source rows with a ragged 8-block
      {{45, 70}, {1, 0}},  // wide source rows: 8x8 tiles with ragged edges
      {{3, 2, 2, 3, 2}, {4, 0, 3, 1, 2}},
  };
  for (const auto& [shape, perm] : cases) {
    const Tensor x = Tensor::arange(shape);
    const Tensor y = ops::permute(x, perm);
    for (size_t k = 0; k < perm.size(); ++k) ASSERT_EQ(y.shape()[k], shape[perm[k]]);
    EXPECT_EQ(y.to_vector(), naive_permute(x, perm)) << shape_str(shape);
  }
}

TEST(Permute, LargeBatchedTransposeIsCorrectWhenThreaded) {
  const int saved = num_threads();
  set_num_threads(2);
  const Tensor x = Tensor::arange({64, 67, 130});  // enough images for two memory-bound chunks
  const Tensor y = ops::permute(x, {0, 2, 1});
  set_num_threads(saved);
  EXPECT_EQ(y.to_vector(), naive_permute(x, {0, 2, 1}));
}

TEST(Permute, InverseRestoresTheInput) {
  const Tensor x = Tensor::uniform({2, 3, 4, 5});
  const std::vector<int> perm = {2, 0, 3, 1};
  const Tensor back = ops::permute(ops::permute(x, perm), ops::inverse_permutation(perm));
  EXPECT_EQ(back.shape(), x.shape());
  EXPECT_EQ(back.to_vector(), x.to_vector());
}

TEST(Permute, NhwcNchwRoundTrip) {
  const Tensor x = Tensor::arange({2, 3, 4, 5});  // NCHW
  const Tensor nhwc = ops::nchw_to_nhwc(x);
  EXPECT_EQ(nhwc.shape(), (Shape{2, 4, 5, 3}));
  EXPECT_EQ(nhwc.at({1, 2, 3, 1}), x.at({1, 1, 2, 3}));
  EXPECT_EQ(ops::nhwc_to_nchw(nhwc).to_vector(), x.to_vector());
}

TEST(Permute, RejectsWrongLengthRepeatsAndOutOfRange) {
  const Tensor x = Tensor::zeros({2, 3, 4});
  EXPECT_THROW(ops::permute(x, {0, 1}), ValueError);
  EXPECT_THROW(ops::permute(x, {0, 1, 1}), ValueError);
  EXPECT_THROW(ops::permute(x, {0, 1, 3}), ValueError);
  EXPECT_THROW(ops::permute(x, {0, -1, 1}), ValueError);
}

TEST(Transpose, SwapsLastTwoAxes) {
  const Tensor x = Tensor::arange({2, 3, 4});
  const Tensor y = ops::transpose(x);
  EXPECT_EQ(y.shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(y.to_vector(), naive_permute(x, {0, 2, 1}));
}

TEST(Transpose, RejectsRankBelowTwo) { EXPECT_THROW(ops::transpose(Tensor::zeros({3})), ValueError); }

TEST(InversePermutation, InvertsAndValidates) {
  EXPECT_EQ(ops::inverse_permutation({2, 0, 1}), (std::vector<int>{1, 2, 0}));
  EXPECT_THROW(ops::inverse_permutation({0, 0}), ValueError);
}
