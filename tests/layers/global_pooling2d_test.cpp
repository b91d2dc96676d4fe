// Tests for layers/pooling/global_pooling2d: GlobalAveragePooling2D and GlobalMaxPooling2D
// shapes (keepdims, both data formats), values against naive loops, gradients,
// configs and errors.
#include "layers/pooling/global_pooling2d.h"


#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

#include "layers/base/input_layer.h"
#include "layers/base/registry.h"
#include "support/assertions.h"
#include "support/indices.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

// [N, C] mean or max over the spatial axes, in double.
Tensor naive_global(const Tensor& x, bool cf, bool is_max) {
  const Shape& s = x.shape();
  const int64_t N = s[0], H = cf ? s[2] : s[1], W = cf ? s[3] : s[2], C = cf ? s[1] : s[3];
  Tensor y({N, C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      double best = -std::numeric_limits<double>::infinity(), sum = 0;
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          best = std::max(best, at4(x, cf, n, h, w, c));
          sum += at4(x, cf, n, h, w, c);
        }
      y[n * C + c] = static_cast<float>(is_max ? best : sum / double(H * W));
    }
  return y;
}

TEST(GlobalAveragePooling2D, SymbolicShapesFollowKeepdimsAndDataFormat) {
  KerasTensor x = Input({7, 5, 16});
  EXPECT_EQ(GlobalAveragePooling2D()(x).shape(), (Shape{kNone, 16}));
  EXPECT_EQ(GlobalMaxPooling2D({.keepdims = true})(x).shape(), (Shape{kNone, 1, 1, 16}));
  KerasTensor xf = Input({16, 7, 5});
  EXPECT_EQ(GlobalMaxPooling2D({.data_format = "channels_first"})(xf).shape(), (Shape{kNone, 16}));
  EXPECT_EQ(GlobalAveragePooling2D({.data_format = "channels_first", .keepdims = true})(xf).shape(),
            (Shape{kNone, 16, 1, 1}));
  EXPECT_EQ(GlobalAveragePooling2D()(Input({kNone, kNone, 8})).shape(), (Shape{kNone, 8}));
}

TEST(GlobalAveragePooling2D, MatchesNaiveMeanInBothFormats) {
  for (bool cf : {false, true}) {
    const Tensor x = random_tensor(cf ? Shape{3, 4, 5, 6} : Shape{3, 5, 6, 4}, 11);
    const Tensor y = GlobalAveragePooling2D({.data_format = cf ? "channels_first" : "channels_last"})(x);
    EXPECT_TRUE(testing::AllClose(y, naive_global(x, cf, false), 1e-6, 1e-6)) << "channels_first=" << cf;
  }
}

TEST(GlobalMaxPooling2D, MatchesNaiveMaxInBothFormats) {
  for (bool cf : {false, true}) {
    const Tensor x = random_tensor(cf ? Shape{3, 4, 5, 6} : Shape{3, 5, 6, 4}, 12);
    const Tensor y = GlobalMaxPooling2D({.data_format = cf ? "channels_first" : "channels_last"})(x);
    EXPECT_TRUE(testing::AllClose(y, naive_global(x, cf, true), 0, 0)) << "channels_first=" << cf;
  }
}

TEST(GlobalMaxPooling2D, KeepdimsOnlyReshapes) {
  const Tensor x = random_tensor({2, 3, 4, 5}, 13);
  const Tensor a = GlobalMaxPooling2D()(x);
  const Tensor b = GlobalMaxPooling2D({.keepdims = true})(x);
  ASSERT_EQ(b.shape(), (Shape{2, 1, 1, 5}));
  EXPECT_EQ(a.to_vector(), b.to_vector());
}

TEST(GlobalAveragePooling2D, Gradcheck) {
  for (bool cf : {false, true}) {
    auto pool = GlobalAveragePooling2D({.data_format = cf ? "channels_first" : "channels_last", .keepdims = cf});
    EXPECT_TRUE(GradOk(pool, random_tensor({2, 3, 4, 2}, 14))) << "channels_first=" << cf;
  }
}

TEST(GlobalMaxPooling2D, Gradcheck) {
  for (bool cf : {false, true}) {
    auto pool = GlobalMaxPooling2D({.data_format = cf ? "channels_first" : "channels_last"});
    EXPECT_TRUE(GradOk(pool, distinct_tensor({2, 3, 4, 2}, 15))) << "channels_first=" << cf;
  }
}

TEST(GlobalAveragePooling2D, ConfigHasKerasKeys) {
  reset_layer_names();
  const json c = GlobalAveragePooling2D({.data_format = "channels_first"})->get_config();
  EXPECT_EQ(c["name"], "global_average_pooling2d");
  EXPECT_EQ(c["data_format"], "channels_first");
  EXPECT_EQ(c["keepdims"], false);
  EXPECT_EQ(c.size(), 5u);  // name, trainable, dtype, data_format, keepdims
  EXPECT_EQ(GlobalMaxPooling2D()->get_config()["name"], "global_max_pooling2d");
}

TEST(GlobalAveragePooling2D, ConfigRoundTrips) {
  EXPECT_TRUE(RoundTrips(*GlobalAveragePooling2D({.keepdims = true}).ptr()));
  EXPECT_TRUE(RoundTrips(*GlobalMaxPooling2D({.data_format = "channels_first", .name = "g"}).ptr()));
}

TEST(GlobalMaxPooling2D, ReadsTfKeras24ConfigWithoutKeepdims) {
  LayerPtr l = layer_from_config(json::parse(R"({"class_name": "GlobalMaxPooling2D", "config":
      {"name": "gmp", "trainable": true, "dtype": "float32", "data_format": "channels_last"}})"));
  auto g = std::dynamic_pointer_cast<GlobalMaxPooling2DImpl>(l);
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->keepdims());
  EXPECT_EQ(g->data_format(), "channels_last");
  EXPECT_TRUE(LayerRegistry::instance().contains("GlobalAvgPool2D"));
  EXPECT_TRUE(LayerRegistry::instance().contains("GlobalMaxPool2D"));
}

TEST(GlobalAveragePooling2D, RejectsWrongRankAndEmptySpatialAxes) {
  auto g = GlobalAveragePooling2D({.name = "gap"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g(Input({5, 8})); }, {"GlobalAveragePooling2D 'gap'", "rank 4"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { g(Tensor::zeros({1, 0, 3, 2})); }, {"'gap'", "empty"}));
}

TEST(GlobalMaxPooling2D, RejectsBadArguments) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { GlobalMaxPooling2D({.data_format = "nchw", .name = "gm"}); },
                                     {"'gm'", "data_format"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { GlobalMaxPooling2DImpl::from_config(json::parse(R"({"keepdims": "yes"})")); }, {"keepdims"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { GlobalMaxPooling2DImpl::from_config(json::parse(R"({"pool_size": 2})")); }, {"pool_size"}));
}

}  // namespace
}  // namespace minidl
