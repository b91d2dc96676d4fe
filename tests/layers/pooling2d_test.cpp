// Tests for layers/pooling/pooling2d: MaxPooling2D and AveragePooling2D shapes, Keras
// configs, values against a naive double loop, gradients and errors.
#include "layers/pooling/pooling2d.h"


#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
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

struct PoolCase {
  int64_t KH, KW, SH, SW;
  bool same, channels_first;
};

// Naive pooling in double: TensorFlow's padding rule (odd padding row at the
// bottom / column at the right), padded cells ignored by both max and average.
Tensor naive_pool(const Tensor& x, bool is_max, const PoolCase& p) {
  const Shape& s = x.shape();
  const bool cf = p.channels_first;
  const int64_t N = s[0], H = cf ? s[2] : s[1], W = cf ? s[3] : s[2], C = cf ? s[1] : s[3];
  const int64_t OH = p.same ? (H + p.SH - 1) / p.SH : (H - p.KH) / p.SH + 1;
  const int64_t OW = p.same ? (W + p.SW - 1) / p.SW : (W - p.KW) / p.SW + 1;
  const int64_t top = p.same ? std::max<int64_t>((OH - 1) * p.SH + p.KH - H, 0) / 2 : 0;
  const int64_t left = p.same ? std::max<int64_t>((OW - 1) * p.SW + p.KW - W, 0) / 2 : 0;
  Tensor y(cf ? Shape{N, C, OH, OW} : Shape{N, OH, OW, C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t c = 0; c < C; ++c) {
          double best = -std::numeric_limits<double>::infinity(), sum = 0;
          int count = 0;
          for (int64_t kh = 0; kh < p.KH; ++kh)
            for (int64_t kw = 0; kw < p.KW; ++kw) {
              const int64_t h = oh * p.SH - top + kh, w = ow * p.SW - left + kw;
              if (h < 0 || h >= H || w < 0 || w >= W) continue;
              const double v = at4(x, cf, n, h, w, c);
              best = std::max(best, v);
              sum += v;
              ++count;
            }
          const double r = is_max ? best : sum / count;
          if (cf)
            y[((n * C + c) * OH + oh) * OW + ow] = static_cast<float>(r);
          else
            y[((n * OH + oh) * OW + ow) * C + c] = static_cast<float>(r);
        }
  return y;
}

Pooling2DOptions options_for(const PoolCase& p) {
  return {.strides = {p.SH, p.SW},
          .padding = p.same ? "same" : "valid",
          .data_format = p.channels_first ? "channels_first" : "channels_last"};
}

const PoolCase kCases[] = {
    {2, 2, 2, 2, false, false}, {3, 3, 2, 2, true, false}, {3, 2, 2, 1, true, false},
    {2, 3, 1, 2, false, false}, {3, 3, 1, 1, true, true},  {2, 2, 3, 3, true, true},
    {1, 1, 2, 2, false, true},  {4, 4, 3, 2, false, false},
};

// --- shapes and options ------------------------------------------------------

TEST(MaxPooling2D, DefaultsAreKeras) {
  auto pool = MaxPooling2D();
  EXPECT_EQ(pool->pool_size(), Size2D(2, 2));
  EXPECT_EQ(pool->strides(), Size2D(2, 2));  // strides=None means pool_size
  EXPECT_EQ(pool->padding(), "valid");
  EXPECT_EQ(pool->data_format(), image_data_format());
}

TEST(MaxPooling2D, StridesDefaultToANonSquarePoolSize) {
  auto pool = MaxPooling2D({2, 3});
  EXPECT_EQ(pool->strides(), Size2D(2, 3));
  EXPECT_EQ(MaxPooling2D(3, {.strides = 1})->strides(), Size2D(1, 1));
}

TEST(MaxPooling2D, SymbolicCallGivesKerasOutputShape) {
  KerasTensor x = Input({7, 9, 3});
  EXPECT_EQ(MaxPooling2D({2, 3})(x).shape(), (Shape{kNone, 3, 3, 3}));
  EXPECT_EQ(MaxPooling2D({2, 3}, {.strides = 2, .padding = "same"})(x).shape(), (Shape{kNone, 4, 5, 3}));
  EXPECT_EQ(AveragePooling2D(3, {.strides = {2, 1}})(x).shape(), (Shape{kNone, 3, 7, 3}));
}

TEST(MaxPooling2D, ChannelsFirstPoolsTheLastTwoAxes) {
  auto pool = MaxPooling2D(2, {.data_format = "channels_first"});
  EXPECT_EQ(pool->compute_output_shape({{kNone, 3, 8, 6}})[0], (Shape{kNone, 3, 4, 3}));
  EXPECT_EQ(pool(Variable(Tensor::zeros({2, 3, 8, 6}))).shape(), (Shape{2, 3, 4, 3}));
}

TEST(MaxPooling2D, UnknownSpatialSizesStayUnknown) {
  KerasTensor x = Input({kNone, kNone, 4});
  EXPECT_EQ(MaxPooling2D()(x).shape(), (Shape{kNone, kNone, kNone, 4}));
}

TEST(AveragePooling2D, SameOnInputSmallerThanWindowGivesOneCell) {
  auto pool = AveragePooling2D(5, {.padding = "same"});
  Tensor y = pool(Tensor::from_data({1, 2, 2, 1}, {1, 2, 3, 6}));
  ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 1}));
  EXPECT_FLOAT_EQ(y[0], 3.f);  // only the 4 real cells count
}

// --- values ------------------------------------------------------------------

// MaxPooling2D (`max`) or AveragePooling2D against naive_pool on every case, within
// `tol` absolute and relative; inputs drawn from seeds first_seed, first_seed + 1, ...
void expect_every_case_matches_naive(bool max, int first_seed, double tol) {
  int seed = first_seed;
  for (const auto& p : kCases) {
    const Shape s = p.channels_first ? Shape{2, 3, 7, 8} : Shape{2, 7, 8, 3};
    const Tensor x = random_tensor(s, seed++);
    const Tensor y = max ? MaxPooling2D({p.KH, p.KW}, options_for(p))(x)
                         : AveragePooling2D({p.KH, p.KW}, options_for(p))(x);
    EXPECT_TRUE(testing::AllClose(y, naive_pool(x, max, p), tol, tol))
        << "case KH=" << p.KH << " KW=" << p.KW << " SH=" << p.SH << " SW=" << p.SW << " same=" << p.same
        << " cf=" << p.channels_first;
  }
}

TEST(MaxPooling2D, MatchesNaiveLoopOnEveryCase) { expect_every_case_matches_naive(/*max=*/true, 100, 0); }

TEST(AveragePooling2D, MatchesNaiveLoopOnEveryCase) { expect_every_case_matches_naive(/*max=*/false, 200, 1e-6); }

TEST(MaxPooling2D, ChannelsFirstEqualsTransposedChannelsLast) {
  const Tensor x = random_tensor({2, 5, 6, 3}, 7);  // NHWC
  Tensor xt({2, 3, 5, 6});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t h = 0; h < 5; ++h)
      for (int64_t w = 0; w < 6; ++w)
        for (int64_t c = 0; c < 3; ++c) xt.at({n, c, h, w}) = x.at({n, h, w, c});
  const Tensor a = MaxPooling2D(3, {.strides = 2, .padding = "same"})(x);
  const Tensor b = MaxPooling2D(3, {.strides = 2, .padding = "same", .data_format = "channels_first"})(xt);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t h = 0; h < 3; ++h)
      for (int64_t w = 0; w < 3; ++w)
        for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(a.at({n, h, w, c}), b.at({n, c, h, w}));
}

// --- gradients ---------------------------------------------------------------

// Gradcheck of the pooling layer make(case) on every case, on inputs
// input(shape, seed) with seeds counting up from first_seed.
template <class Make, class Input>
void gradcheck_every_case(Make make, Input input, uint64_t first_seed) {
  uint64_t seed = first_seed;
  for (const auto& p : kCases) {
    const Shape s = p.channels_first ? Shape{1, 2, 5, 6} : Shape{1, 5, 6, 2};
    auto pool = make(p);
    EXPECT_TRUE(GradOk(pool, input(s, seed++))) << "case KH=" << p.KH << " same=" << p.same;
  }
}

TEST(MaxPooling2D, GradcheckOnEveryCase) {
  gradcheck_every_case([](const PoolCase& p) { return MaxPooling2D({p.KH, p.KW}, options_for(p)); },
                       distinct_tensor, 300);
}

TEST(AveragePooling2D, GradcheckOnEveryCase) {
  gradcheck_every_case([](const PoolCase& p) { return AveragePooling2D({p.KH, p.KW}, options_for(p)); },
                       [](const Shape& s, uint64_t seed) { return random_tensor(s, seed); }, 400);
}

TEST(MaxPooling2D, GradientGoesToTheMaximumOnly) {
  auto pool = MaxPooling2D();
  Variable x(Tensor::from_data({1, 2, 2, 1}, {1, 4, 3, 2}), true);
  pool(x).backward(Tensor::ones({1, 1, 1, 1}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0, 1, 0, 0}));
}

TEST(MaxPooling2D, NoTapeWithoutGradient) {
  auto pool = MaxPooling2D();
  Variable y = pool(Variable(Tensor::ones({1, 4, 4, 1})));
  EXPECT_FALSE(y.requires_grad());
}

// --- config ------------------------------------------------------------------

TEST(MaxPooling2D, ConfigHasKerasKeysAndValues) {
  reset_layer_names();
  auto pool = MaxPooling2D({2, 3}, {.padding = "SAME", .data_format = "channels_first"});
  const json c = pool->get_config();
  EXPECT_EQ(c["name"], "max_pooling2d");
  EXPECT_EQ(c["trainable"], true);
  EXPECT_EQ(c["dtype"], "float32");
  EXPECT_EQ(c["pool_size"], json::array({2, 3}));
  EXPECT_EQ(c["strides"], json::array({2, 3}));
  EXPECT_EQ(c["padding"], "same");
  EXPECT_EQ(c["data_format"], "channels_first");
  EXPECT_EQ(c.size(), 7u);
  EXPECT_EQ(AveragePooling2D()->get_config()["name"], "average_pooling2d");
}

TEST(MaxPooling2D, ConfigRoundTrips) {
  EXPECT_TRUE(RoundTrips(*MaxPooling2D({2, 3}, {.strides = 1, .padding = "same"}).ptr()));
  EXPECT_TRUE(RoundTrips(*AveragePooling2D(3, {.data_format = "channels_first", .name = "avg"}).ptr()));
}

TEST(MaxPooling2D, ReadsTfKeras24Config) {
  // As tf.keras 2.4 writes it (conformance case multi_01).
  const json c = json::parse(R"({"name": "max_pooling2d", "trainable": true, "dtype": "float32",
      "pool_size": [2, 3], "padding": "same", "strides": [2, 3], "data_format": "channels_first"})");
  LayerPtr l = layer_from_config({{"class_name", "MaxPooling2D"}, {"config", c}});
  EXPECT_EQ(l->class_name(), "MaxPooling2D");
  EXPECT_EQ(l->get_config(), c);
}

TEST(AveragePooling2D, ReadsMinimalAndKeras3Configs) {
  auto a = AveragePooling2DImpl::from_config(json::parse(R"({"pool_size": 3, "strides": null})"));
  EXPECT_EQ(a->pool_size(), Size2D(3, 3));
  EXPECT_EQ(a->strides(), Size2D(3, 3));
  EXPECT_EQ(a->padding(), "valid");
  auto b = AveragePooling2DImpl::from_config(json::parse(R"({"name": "p", "trainable": true,
      "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
      "pool_size": [2, 2], "padding": "valid", "strides": [1, 1], "data_format": "channels_last"})"));
  EXPECT_EQ(b->strides(), Size2D(1, 1));
  EXPECT_EQ(b->name(), "p");
}

TEST(MaxPooling2D, RegistryKnowsKerasAliases) {
  EXPECT_TRUE(LayerRegistry::instance().contains("MaxPool2D"));
  EXPECT_TRUE(LayerRegistry::instance().contains("AvgPool2D"));
  EXPECT_EQ(layer_from_config({{"class_name", "AvgPool2D"}, {"config", json::object()}})->class_name(),
            "AveragePooling2D");
}

// --- errors ------------------------------------------------------------------

TEST(MaxPooling2D, RejectsInputOfWrongRank) {
  auto pool = MaxPooling2D(2, {.name = "p1"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { pool(Input({28, 28})); }, {"MaxPooling2D 'p1'", "rank 4", "(None, 28, 28)"}));
}

TEST(MaxPooling2D, RejectsValidWindowLargerThanInput) {
  auto pool = MaxPooling2D(3, {.name = "p2"});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { pool(Input({2, 5, 1})); }, {"'p2'", "Negative dimension size"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { pool(Tensor::zeros({1, 2, 5, 1})); }, {"'p2'"}));
}

TEST(MaxPooling2D, RejectsBadArguments) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { MaxPooling2D(0, {.name = "p3"}); }, {"'p3'", "pool_size"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { MaxPooling2D(2, {.strides = {1, 0}, .name = "p4"}); }, {"'p4'", "strides"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { AveragePooling2D(2, {.padding = "full", .name = "p5"}); },
                                     {"'p5'", "padding", "full"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { AveragePooling2D(2, {.data_format = "NHWC", .name = "p6"}); },
                                     {"'p6'", "data_format", "NHWC"}));
}

TEST(MaxPooling2D, RejectsBadConfigs) {
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { MaxPooling2DImpl::from_config(json::parse(R"({"pool_size": [2, 2], "dilation": 1})")); },
      {"MaxPooling2D", "dilation"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { MaxPooling2DImpl::from_config(json::parse(R"({"pool_size": "2"})")); },
                                     {"MaxPooling2D", "pool_size"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { AveragePooling2DImpl::from_config(json::parse(R"({"pool_size": [2, 2, 2]})")); }, {"pool_size"}));
}

}  // namespace
}  // namespace minidl
