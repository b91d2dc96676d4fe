// Tests for layers/reshaping/cropping2d: shapes, values against a naive loop in both data
// formats, gradients, configs and errors.
#include "layers/reshaping/cropping2d.h"


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

Tensor naive_crop(const Tensor& x, bool cf, const Padding2D& p) {
  const Shape& s = x.shape();
  const int64_t N = s[0], H = cf ? s[2] : s[1], W = cf ? s[3] : s[2], C = cf ? s[1] : s[3];
  const int64_t OH = H - p.top - p.bottom, OW = W - p.left - p.right;
  Tensor y(cf ? Shape{N, C, OH, OW} : Shape{N, OH, OW, C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < OH; ++h)
      for (int64_t w = 0; w < OW; ++w)
        for (int64_t c = 0; c < C; ++c) {
          const float v = static_cast<float>(at4(x, cf, n, h + p.top, w + p.left, c));
          if (cf)
            y[((n * C + c) * OH + h) * OW + w] = v;
          else
            y[((n * OH + h) * OW + w) * C + c] = v;
        }
  return y;
}

TEST(Cropping2D, DefaultCropsNothing) {
  EXPECT_EQ(Cropping2D()->cropping(), Padding2D(0));
  const Tensor x = random_tensor({1, 3, 3, 2}, 1);
  EXPECT_EQ(Cropping2D()(x).to_vector(), x.to_vector());
}

TEST(Cropping2D, SymbolicShapes) {
  EXPECT_EQ(Cropping2D({{2, 2}, {4, 4}})(Input({28, 28, 3})).shape(), (Shape{kNone, 24, 20, 3}));
  EXPECT_EQ(Cropping2D(1, {.data_format = "channels_first"})(Input({3, 5, 6})).shape(), (Shape{kNone, 3, 3, 4}));
  EXPECT_EQ(Cropping2D(1)(Input({kNone, 5, 3})).shape(), (Shape{kNone, kNone, 3, 3}));
}

TEST(Cropping2D, MatchesNaiveLoopInBothFormats) {
  const Padding2D p({1, 0}, {2, 1});
  for (bool cf : {false, true}) {
    const Tensor x = random_tensor({2, 5, 6, 7}, 2);
    const Tensor y = Cropping2D(p, {.data_format = cf ? "channels_first" : "channels_last"})(x);
    EXPECT_TRUE(testing::AllClose(y, naive_crop(x, cf, p), 0, 0)) << "channels_first=" << cf;
  }
}

TEST(Cropping2D, Gradcheck) {
  for (bool cf : {false, true}) {
    auto crop = Cropping2D({{1, 0}, {0, 2}}, {.data_format = cf ? "channels_first" : "channels_last"});
    EXPECT_TRUE(GradOk(crop, random_tensor({2, 3, 4, 4}, 3))) << "channels_first=" << cf;
  }
}

TEST(Cropping2D, ConfigIsKerasNestedPairsAndRoundTrips) {
  reset_layer_names();
  auto crop = Cropping2D({{2, 1}, {0, 3}});
  const json c = crop->get_config();
  EXPECT_EQ(c["name"], "cropping2d");
  EXPECT_EQ(c["cropping"], json::parse("[[2, 1], [0, 3]]"));
  EXPECT_EQ(c.size(), 5u);
  EXPECT_TRUE(RoundTrips(*crop.ptr()));
  EXPECT_EQ(Cropping2DImpl::from_config(json::parse(R"({"cropping": [[1, 1], 2]})"))->cropping(),
            Padding2D({1, 1}, {2, 2}));
}

TEST(Cropping2D, RejectsCroppingTheWholeImage) {
  auto crop = Cropping2D({{2, 2}, {0, 0}}, {.name = "cr"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { crop(Input({4, 8, 3})); },
                                     {"Cropping2D 'cr'", "should be smaller", "(None, 4, 8, 3)"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { crop(Tensor::zeros({1, 3, 8, 3})); }, {"'cr'"}));
}

TEST(Cropping2D, RejectsNegativeCroppingAndWrongRank) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Cropping2D(-1, {.name = "cn"}); }, {"'cn'", ">= 0"}));
  auto crop = Cropping2D(1, {.name = "cw"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { crop(Input({4, 4, 4, 4})); }, {"'cw'", "rank 4"}));
}

}  // namespace
}  // namespace minidl
