// Tests for layers/reshaping/zero_padding2d: argument forms, shapes, values against a
// naive loop in both data formats, gradients, configs and errors.
#include "layers/reshaping/zero_padding2d.h"


#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "layers/base/input_layer.h"
#include "layers/base/registry.h"
#include "support/assertions.h"
#include "support/indices.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

// Zero padding in the tensor's own layout, element by element.
Tensor naive_pad(const Tensor& x, bool cf, const Padding2D& p) {
  const Shape& s = x.shape();
  const int64_t N = s[0], H = cf ? s[2] : s[1], W = cf ? s[3] : s[2], C = cf ? s[1] : s[3];
  const int64_t OH = H + p.top + p.bottom, OW = W + p.left + p.right;
  Tensor y(cf ? Shape{N, C, OH, OW} : Shape{N, OH, OW, C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < OH; ++h)
      for (int64_t w = 0; w < OW; ++w)
        for (int64_t c = 0; c < C; ++c) {
          const int64_t ih = h - p.top, iw = w - p.left;
          const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
          const float v = inside ? static_cast<float>(at4(x, cf, n, ih, iw, c)) : 0.f;
          if (cf)
            y[((n * C + c) * OH + h) * OW + w] = v;
          else
            y[((n * OH + h) * OW + w) * C + c] = v;
        }
  return y;
}

TEST(ZeroPadding2D, ArgumentFormsMatchKeras) {
  EXPECT_EQ(ZeroPadding2D()->padding(), Padding2D({1, 1}, {1, 1}));
  EXPECT_EQ(ZeroPadding2D(2)->padding(), Padding2D({2, 2}, {2, 2}));
  EXPECT_EQ(ZeroPadding2D({1, 3})->padding(), Padding2D({1, 1}, {3, 3}));
  EXPECT_EQ(ZeroPadding2D({{1, 0}, {2, 3}})->padding(), Padding2D({1, 0}, {2, 3}));
}

TEST(ZeroPadding2D, SymbolicShapes) {
  EXPECT_EQ(ZeroPadding2D({{1, 0}, {2, 3}})(Input({4, 5, 3})).shape(), (Shape{kNone, 5, 10, 3}));
  EXPECT_EQ(ZeroPadding2D(1, {.data_format = "channels_first"})(Input({3, 4, 5})).shape(), (Shape{kNone, 3, 6, 7}));
  EXPECT_EQ(ZeroPadding2D(1)(Input({kNone, 5, 3})).shape(), (Shape{kNone, kNone, 7, 3}));
}

TEST(ZeroPadding2D, MatchesNaiveLoopInBothFormats) {
  const Padding2D p({1, 2}, {0, 3});
  for (bool cf : {false, true}) {
    const Tensor x = random_tensor({2, 3, 4, 5}, 1);
    const Tensor y = ZeroPadding2D(p, {.data_format = cf ? "channels_first" : "channels_last"})(x);
    EXPECT_TRUE(testing::AllClose(y, naive_pad(x, cf, p), 0, 0)) << "channels_first=" << cf;
  }
}

TEST(ZeroPadding2D, Gradcheck) {
  for (bool cf : {false, true}) {
    auto pad = ZeroPadding2D({{2, 0}, {1, 1}}, {.data_format = cf ? "channels_first" : "channels_last"});
    EXPECT_TRUE(GradOk(pad, random_tensor({2, 2, 3, 2}, 2))) << "channels_first=" << cf;
  }
}

TEST(ZeroPadding2D, ConfigIsKerasNestedPairs) {
  reset_layer_names();
  const json c = ZeroPadding2D({1, 2})->get_config();
  EXPECT_EQ(c["name"], "zero_padding2d");
  EXPECT_EQ(c["padding"], json::parse("[[1, 1], [2, 2]]"));
  EXPECT_EQ(c["data_format"], image_data_format());
  EXPECT_EQ(c.size(), 5u);
}

TEST(ZeroPadding2D, ConfigRoundTripsAndReadsEveryKerasForm) {
  EXPECT_TRUE(RoundTrips(*ZeroPadding2D({{3, 0}, {1, 2}}, {.data_format = "channels_first"}).ptr()));
  auto from = [](const char* padding) {
    return ZeroPadding2DImpl::from_config(json::parse(std::string(R"({"padding": )") + padding + "}"))->padding();
  };
  EXPECT_EQ(from("2"), Padding2D(2));
  EXPECT_EQ(from("[1, 2]"), Padding2D(1, 2));
  EXPECT_EQ(from("[[1, 2], [3, 4]]"), Padding2D({1, 2}, {3, 4}));
  EXPECT_EQ(from("[1, 2, 3, 4]"), Padding2D({1, 2}, {3, 4}));  // Keras 1 flat form
  EXPECT_EQ(ZeroPadding2DImpl::from_config(json::object())->padding(), Padding2D(1));
}

TEST(ZeroPadding2D, RejectsNegativePaddingWrongRankAndBadConfigs) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { ZeroPadding2D({{1, -1}, {0, 0}}, {.name = "zp"}); },
                                     {"ZeroPadding2D 'zp'", ">= 0"}));
  auto pad = ZeroPadding2D(1, {.name = "zp2"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { pad(Input({4, 4})); }, {"'zp2'", "rank 4"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { ZeroPadding2DImpl::from_config(json::parse(R"({"padding": [[1, 2, 3], [1, 1]]})")); }, {"padding"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { ZeroPadding2DImpl::from_config(json::parse(R"({"padding": 1, "value": 0})")); }, {"value"}));
}

}  // namespace
}  // namespace minidl
