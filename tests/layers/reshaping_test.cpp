// Tests for layers/reshaping: Flatten, Reshape and Permute.

#include <nlohmann/json.hpp>

#include "layers/base/input_layer.h"
#include "layers/reshaping/reshaping.h"
#include "support/assertions.h"
#include "support/indices.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

// --- Flatten -------------------------------------------------------------------

TEST(Flatten, OutputShapeMultipliesNonBatchAxes) {
  auto f = Flatten();
  EXPECT_EQ(f->compute_output_shape({{kNone, 2, 3, 4}})[0], (Shape{kNone, 24}));
  EXPECT_EQ(f->compute_output_shape({{5, 7}})[0], (Shape{5, 7}));
  EXPECT_EQ(f->compute_output_shape({{kNone, kNone, 3}})[0], (Shape{kNone, kNone}));
}

TEST(Flatten, BatchOnlyInputGainsAFeatureAxis) {
  auto f = Flatten();
  EXPECT_EQ(f->compute_output_shape({{kNone}})[0], (Shape{kNone, 1}));
  EXPECT_EQ(f(Tensor::arange({3})).shape(), (Shape{3, 1}));
}

TEST(Flatten, ChannelsLastKeepsMemoryOrderAndSharesStorage) {
  const Tensor x = Tensor::arange({2, 3, 2, 2});
  const Tensor y = Flatten()(x);
  EXPECT_EQ(y.shape(), (Shape{2, 12}));
  EXPECT_TRUE(y.shares_storage(x));
  EXPECT_EQ(y.to_vector(), x.to_vector());
}

TEST(Flatten, ChannelsFirstFlattensInChannelsLastOrder) {
  // tf.keras transposes (N, C, H, W) to (N, H, W, C) before flattening.
  const int64_t N = 2, C = 3, H = 2, W = 4;
  const Tensor x = random_tensor({N, C, H, W}, 1);
  const Tensor y = Flatten({.data_format = "channels_first"})(x);
  ASSERT_EQ(y.shape(), (Shape{N, H * W * C}));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) EXPECT_EQ(y.at({n, (h * W + w) * C + c}), x.at({n, c, h, w}));
}

TEST(Flatten, GradcheckChannelsFirst) {
  auto f = Flatten({.data_format = "channels_first"});
  Variable x(random_tensor({2, 3, 2, 2}, 2), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return f(v[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Flatten, ConfigRoundTripsDataFormat) {
  auto f = Flatten({.data_format = "channels_first", .name = "flat"});
  EXPECT_EQ(f->get_config()["data_format"], "channels_first");
  EXPECT_EQ(f->get_config()["name"], "flat");
  EXPECT_TRUE(RoundTrips(*f));
  EXPECT_EQ(Flatten()->get_config()["data_format"], "channels_last");
}

TEST(Flatten, RejectsUnknownDataFormat) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Flatten({.data_format = "NCHW", .name = "f1"}); }, {"f1", "NCHW"}));
}

// --- Reshape -------------------------------------------------------------------

TEST(Reshape, InfersTheMinusOneDimension) {
  auto r = Reshape({-1, 2, 2});
  EXPECT_EQ(r->compute_output_shape({{kNone, 12}})[0], (Shape{kNone, 3, 2, 2}));
  KerasTensor y = Reshape({3, 4})(Input({12}));
  EXPECT_EQ(y.shape(), (Shape{kNone, 3, 4}));
}

TEST(Reshape, UnknownInputLeavesMinusOneUnknown) {
  EXPECT_EQ(Reshape({-1, 4})->compute_output_shape({{kNone, kNone, 4}})[0], (Shape{kNone, kNone, 4}));
}

TEST(Reshape, ValueIsARowMajorViewOfTheInput) {
  const Tensor x = Tensor::arange({2, 6});
  const Tensor y = Reshape({3, -1})(x);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_TRUE(y.shares_storage(x));
  EXPECT_EQ(y.to_vector(), x.to_vector());
}

TEST(Reshape, EmptyBatchStillResolvesMinusOne) {
  EXPECT_EQ(Reshape({-1, 2})(Tensor::zeros({0, 6})).shape(), (Shape{0, 3, 2}));
}

TEST(Reshape, Gradcheck) {
  auto layer = Reshape({2, -1});
  Variable x(random_tensor({2, 3, 2}, 3), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return layer(v[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Reshape, ConfigWritesTargetShapeAsList) {
  auto r = Reshape({-1, 4});
  EXPECT_EQ(r->get_config()["target_shape"], json::parse("[-1, 4]"));
  EXPECT_TRUE(RoundTrips(*r));
}

TEST(Reshape, RejectsTwoUnknownDimensions) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Reshape({-1, -1}, {.name = "r1"}); }, {"r1", "one unknown dimension"}));
}

TEST(Reshape, RejectsZeroOrNegativeDimensions) {
  EXPECT_THROW(Reshape(Shape{0, 2}), ValueError);
  EXPECT_THROW(Reshape({-2, 2}), ValueError);
}

TEST(Reshape, RejectsASizeChange) {
  auto r = Reshape({5}, {.name = "r2"});
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        r->compute_output_shape({{kNone, 6}});
      },
      {"r2", "total size of the new array must be unchanged", "(None, 6)", "(5,)"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { Reshape({-1, 4})(Tensor::zeros({2, 6})); }, {"total size"}));
}

// --- Permute -------------------------------------------------------------------

TEST(Permute, OutputShapeFollowsOneBasedDims) {
  auto p = Permute({2, 1});
  EXPECT_EQ(p->compute_output_shape({{kNone, 10, 64}})[0], (Shape{kNone, 64, 10}));
  EXPECT_EQ(Permute({3, 1, 2})(Input({4, 5, 6})).shape(), (Shape{kNone, 6, 4, 5}));
}

TEST(Permute, MatchesNaiveIndexMap) {
  const Shape in{2, 3, 4, 5};
  const std::vector<int> dims{3, 1, 2};
  const Tensor x = random_tensor(in, 4);
  const Tensor y = Permute(dims)(x);
  const Shape out{2, 5, 3, 4};
  ASSERT_EQ(y.shape(), out);
  for (int64_t f = 0; f < y.numel(); ++f) {
    const auto o = unravel(f, out);
    std::vector<int64_t> i(4);
    i[0] = o[0];
    for (int k = 0; k < 3; ++k) i[dims[k]] = o[k + 1];  // out axis k+1 is input axis dims[k]
    EXPECT_EQ(y[f], x[ravel(i, in)]);
  }
}

TEST(Permute, Gradcheck) {
  auto p = Permute({2, 3, 1});
  Variable x(random_tensor({2, 2, 3, 2}, 5), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return p(v[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Permute, ConfigRoundTripsDims) {
  auto p = Permute({2, 1});
  EXPECT_EQ(p->get_config()["dims"], json::parse("[2, 1]"));
  EXPECT_TRUE(RoundTrips(*p));
}

TEST(Permute, RejectsDimsThatAreNotAOneBasedPermutation) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Permute({0, 1}, {.name = "p0"}); }, {"p0", "(0, 1)", "start from 1"}));
  EXPECT_THROW(Permute({1, 1}), ValueError);
  EXPECT_THROW(Permute({1, 3}), ValueError);
}

TEST(Permute, RejectsInputOfTheWrongRank) {
  auto p = Permute({2, 1}, {.name = "p1"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { p(Input({4})); }, {"p1", "expected ndim=3, found ndim=2"}));
}

}  // namespace
}  // namespace minidl
