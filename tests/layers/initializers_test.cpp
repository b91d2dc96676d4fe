// Tests for layers/parts/initializers: fans, Keras formulas (checked statistically on
// large samples), determinism of seeds, and JSON identifiers / round trips.
#include "layers/parts/initializers.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "core/errors.h"
#include "core/random.h"
#include "support/assertions.h"

using minidl::testing::ThrowsWith;

namespace minidl {
namespace {

struct Stats {
  double mean = 0, stddev = 0, min = 0, max = 0;
};

Stats stats_of(const Tensor& t) {
  Stats s;
  s.min = s.max = t[0];
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double v = t[i];
    sum += v;
    sq += v * v;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
  }
  s.mean = sum / double(t.numel());
  s.stddev = std::sqrt(sq / double(t.numel()) - s.mean * s.mean);
  return s;
}

// 0.87962566103423978 is the stddev of N(0, 1) truncated to [-2, 2].
constexpr double kTruncStd = 0.87962566103423978;
const Shape kBig = {400, 250};  // 100k samples: standard error of the mean ~ stddev / 316

TEST(ComputeFans, DenseKernelUsesRowsAndColumns) {
  const Fans f = compute_fans({784, 128});
  EXPECT_EQ(f.fan_in, 784);
  EXPECT_EQ(f.fan_out, 128);
}

TEST(ComputeFans, ConvKernelMultipliesByReceptiveField) {
  const Fans f = compute_fans({3, 5, 16, 32});  // HWIO
  EXPECT_EQ(f.fan_in, 3 * 5 * 16);
  EXPECT_EQ(f.fan_out, 3 * 5 * 32);
}

TEST(ComputeFans, Conv1DAndConv3DKernels) {
  EXPECT_EQ(compute_fans({7, 4, 9}).fan_in, 28);
  EXPECT_EQ(compute_fans({7, 4, 9}).fan_out, 63);
  EXPECT_EQ(compute_fans({2, 3, 4, 5, 6}).fan_in, 24 * 5);
  EXPECT_EQ(compute_fans({2, 3, 4, 5, 6}).fan_out, 24 * 6);
}

TEST(ComputeFans, VectorAndScalarShapes) {
  EXPECT_EQ(compute_fans({10}).fan_in, 10);
  EXPECT_EQ(compute_fans({10}).fan_out, 10);
  EXPECT_EQ(compute_fans({}).fan_in, 1);
  EXPECT_EQ(compute_fans({}).fan_out, 1);
}

TEST(Initializers, ZerosOnesConstantFillExactly) {
  const Tensor z = Zeros()({2, 3}), o = Ones()({4}), c = Constant(2.5)({3, 1});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  for (int64_t i = 0; i < z.numel(); ++i) EXPECT_EQ(z[i], 0.f);
  for (int64_t i = 0; i < o.numel(); ++i) EXPECT_EQ(o[i], 1.f);
  for (int64_t i = 0; i < c.numel(); ++i) EXPECT_EQ(c[i], 2.5f);
}

TEST(Initializers, RandomUniformStaysInRangeWithUniformMoments) {
  const Stats s = stats_of(RandomUniform(-0.3, 0.5, 11)(kBig));
  EXPECT_GE(s.min, -0.3);
  EXPECT_LT(s.max, 0.5);
  EXPECT_NEAR(s.mean, 0.1, 0.003);
  EXPECT_NEAR(s.stddev, 0.8 / std::sqrt(12.0), 0.003);
}

TEST(Initializers, RandomNormalHasRequestedMoments) {
  const Stats s = stats_of(RandomNormal(1.0, 0.2, 12)(kBig));
  EXPECT_NEAR(s.mean, 1.0, 0.003);
  EXPECT_NEAR(s.stddev, 0.2, 0.003);
}

TEST(Initializers, TruncatedNormalNeverBeyondTwoStddev) {
  const Stats s = stats_of(TruncatedNormal(0.5, 0.1, 13)(kBig));
  EXPECT_GE(s.min, 0.5 - 0.2 - 1e-6);
  EXPECT_LE(s.max, 0.5 + 0.2 + 1e-6);
  EXPECT_NEAR(s.mean, 0.5, 0.002);
  EXPECT_NEAR(s.stddev, 0.1 * kTruncStd, 0.002);
  EXPECT_GT(s.max, 0.5 + 0.19);  // the tails are used, not clipped away
}

TEST(Initializers, DefaultsMatchKeras) {
  EXPECT_EQ(RandomUniform().get_config(), (json{{"minval", -0.05}, {"maxval", 0.05}, {"seed", nullptr}}));
  EXPECT_EQ(RandomNormal().get_config(), (json{{"mean", 0.0}, {"stddev", 0.05}, {"seed", nullptr}}));
  EXPECT_EQ(TruncatedNormal().get_config(), (json{{"mean", 0.0}, {"stddev", 0.05}, {"seed", nullptr}}));
  EXPECT_EQ(VarianceScaling().get_config(),
            (json{{"scale", 1.0},
                  {"mode", "fan_in"},
                  {"distribution", "truncated_normal"},
                  {"seed", nullptr},
                  {"input_axes", nullptr},
                  {"output_axes", nullptr}}));
  EXPECT_EQ(Orthogonal().get_config(), (json{{"gain", 1.0}, {"seed", nullptr}}));
  EXPECT_EQ(Identity().get_config(), (json{{"gain", 1.0}}));
  EXPECT_EQ(Constant().get_config(), (json{{"value", 0.0}}));
}

TEST(VarianceScaling, UniformLimitUsesEachMode) {
  const Shape shape = {5, 5, 80, 16};  // fan_in 2000, fan_out 400
  const struct {
    const char* mode;
    double n;
  } cases[] = {{"fan_in", 2000}, {"fan_out", 400}, {"fan_avg", 1200}};
  for (const auto& c : cases) {
    const double limit = std::sqrt(3.0 * 2.0 / c.n);
    const Stats s = stats_of(VarianceScaling(2.0, c.mode, "uniform", 21)(shape));
    EXPECT_GE(s.min, -limit) << c.mode;
    EXPECT_LE(s.max, limit) << c.mode;
    EXPECT_GT(s.max, 0.99 * limit) << c.mode;
    EXPECT_NEAR(s.stddev, limit / std::sqrt(3.0), 0.02 * limit) << c.mode;
  }
}

TEST(VarianceScaling, TruncatedNormalHasVarianceScaleOverN) {
  const Tensor t = VarianceScaling(3.0, "fan_out", "truncated_normal", 22)({1000, 100});
  const Stats s = stats_of(t);
  const double target = std::sqrt(3.0 / 100);
  EXPECT_NEAR(s.stddev, target, 0.01 * target);
  EXPECT_LE(std::max(-s.min, s.max), 2 * target / kTruncStd + 1e-6);
}

TEST(VarianceScaling, UntruncatedNormalHasStddevSqrtScaleOverN) {
  const Stats s = stats_of(VarianceScaling(1.0, "fan_in", "untruncated_normal", 23)({50, 2000}));
  EXPECT_NEAR(s.stddev, std::sqrt(1.0 / 50), 0.01 * std::sqrt(1.0 / 50));
  EXPECT_GT(std::max(-s.min, s.max), 2.5 * std::sqrt(1.0 / 50));  // tails beyond 2 stddev exist
}

TEST(VarianceScaling, LegacyNormalMeansTruncatedNormal) {
  EXPECT_EQ(VarianceScaling(1.0, "fan_in", "normal").distribution(), "truncated_normal");
  EXPECT_EQ(VarianceScaling(1.0, "fan_in", "Uniform").distribution(), "uniform");
}

TEST(VarianceScaling, RejectsBadArguments) {
  EXPECT_THROW(VarianceScaling(0.0), ValueError);
  EXPECT_THROW(VarianceScaling(1.0, "fan_sum"), ValueError);
  EXPECT_THROW(VarianceScaling(1.0, "fan_in", "cauchy"), ValueError);
}

TEST(VarianceScaling, NamedCasesUseKerasParameters) {
  const struct {
    std::shared_ptr<VarianceScaling> init;
    double scale;
    const char* mode;
    const char* distribution;
  } cases[] = {{std::make_shared<GlorotUniform>(), 1, "fan_avg", "uniform"},
               {std::make_shared<GlorotNormal>(), 1, "fan_avg", "truncated_normal"},
               {std::make_shared<HeUniform>(), 2, "fan_in", "uniform"},
               {std::make_shared<HeNormal>(), 2, "fan_in", "truncated_normal"},
               {std::make_shared<LecunUniform>(), 1, "fan_in", "uniform"},
               {std::make_shared<LecunNormal>(), 1, "fan_in", "truncated_normal"}};
  for (const auto& c : cases) {
    EXPECT_EQ(c.init->scale(), c.scale) << c.init->class_name();
    EXPECT_EQ(c.init->mode(), c.mode) << c.init->class_name();
    EXPECT_EQ(c.init->distribution(), c.distribution) << c.init->class_name();
    EXPECT_EQ(c.init->get_config(), (json{{"seed", nullptr}, {"input_axes", nullptr}, {"output_axes", nullptr}}))
        << c.init->class_name();
  }
}

TEST(VarianceScaling, GlorotUniformLimitOnConvKernel) {
  const Shape shape = {3, 3, 32, 64};  // fan_in 288, fan_out 576
  const double limit = std::sqrt(6.0 / (288 + 576));
  const Stats s = stats_of(GlorotUniform(31)(shape));
  EXPECT_LE(std::max(-s.min, s.max), limit);
  EXPECT_GT(s.max, 0.99 * limit);
}

TEST(VarianceScaling, HeNormalStddevOnConvKernel) {
  const Shape shape = {3, 3, 64, 200};  // fan_in 576
  const double target = std::sqrt(2.0 / 576);
  const Stats s = stats_of(HeNormal(32)(shape));
  EXPECT_NEAR(s.stddev, target, 0.01 * target);
  EXPECT_NEAR(s.mean, 0.0, 0.02 * target);
}

// Q^T Q (or Q Q^T when wide) of the flattened [rows, cols] matrix, in double.
double max_gram_error(const Tensor& t, double gain, bool columns) {
  const int64_t cols = t.shape().back(), rows = t.numel() / cols;
  const int64_t k = columns ? cols : rows;
  double worst = 0;
  for (int64_t a = 0; a < k; ++a)
    for (int64_t b = 0; b < k; ++b) {
      double dot = 0;
      const int64_t len = columns ? rows : cols;
      for (int64_t i = 0; i < len; ++i)
        dot += columns ? double(t[i * cols + a]) * t[i * cols + b] : double(t[a * cols + i]) * t[b * cols + i];
      worst = std::max(worst, std::fabs(dot - (a == b ? gain * gain : 0.0)));
    }
  return worst;
}

TEST(Orthogonal, TallConvKernelHasOrthonormalColumns) {
  const Tensor t = Orthogonal(1.0, 41)({3, 3, 4, 8});  // [36, 8]
  EXPECT_LT(max_gram_error(t, 1.0, /*columns=*/true), 1e-5);
}

TEST(Orthogonal, WideMatrixHasOrthonormalRows) {
  const Tensor t = Orthogonal(1.0, 42)({5, 12});
  EXPECT_LT(max_gram_error(t, 1.0, /*columns=*/false), 1e-5);
}

TEST(Orthogonal, GainScalesTheMatrix) {
  const Tensor t = Orthogonal(2.0, 43)({6, 6});
  EXPECT_LT(max_gram_error(t, 2.0, /*columns=*/true), 1e-5);
}

TEST(Orthogonal, IsNotTheIdentity) {
  // A QR of random data; a degenerate implementation returning eye would pass the Gram checks.
  const Tensor t = Orthogonal(1.0, 44)({4, 4});
  EXPECT_GT(std::fabs(t[1]) + std::fabs(t[4]), 1e-3);
}

TEST(Orthogonal, RejectsVectors) { EXPECT_THROW(Orthogonal()({5}), ValueError); }

TEST(Identity, EyeWithGainForRectangularMatrices) {
  const Tensor t = Identity(3.0)({2, 3});
  const std::vector<float> expected = {3, 0, 0, 0, 3, 0};
  EXPECT_EQ(t.to_vector(), expected);
}

TEST(Identity, RejectsNonMatrixShapes) {
  EXPECT_THROW(Identity()({3, 3, 3}), ValueError);
  EXPECT_THROW(Identity()({3}), ValueError);
}

TEST(Seed, SeededInitializerRepeatsItselfAndIgnoresGlobalState) {
  const HeUniform init(7);
  const Tensor a = init({10, 10});
  set_random_seed(1);
  const Tensor b = init({10, 10});
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_NE(a.to_vector(), HeUniform(8)({10, 10}).to_vector());
}

TEST(Seed, UnseededInitializerFollowsGlobalSeed) {
  const RandomNormal init;
  set_random_seed(123);
  const Tensor a = init({20});
  const Tensor b = init({20});
  set_random_seed(123);
  const Tensor c = init({20});
  EXPECT_NE(a.to_vector(), b.to_vector());
  EXPECT_EQ(a.to_vector(), c.to_vector());
}

TEST(Seed, SeedIsSerialized) {
  EXPECT_EQ(GlorotNormal(5).get_config()["seed"], 5);
  const auto back = get_initializer(serialize_initializer(std::make_shared<RandomUniform>(-1, 1, 9)));
  EXPECT_EQ((*back)({8}).to_vector(), RandomUniform(-1, 1, 9)({8}).to_vector());
}

TEST(InitializerConfig, EveryClassRoundTrips) {
  const std::vector<std::shared_ptr<Initializer>> all = {
      std::make_shared<Zeros>(),           std::make_shared<Ones>(),
      std::make_shared<Constant>(0.25),    std::make_shared<RandomUniform>(-1, 2, 3),
      std::make_shared<RandomNormal>(1, 2), std::make_shared<TruncatedNormal>(0.5, 0.1, 4),
      std::make_shared<VarianceScaling>(2.0, "fan_avg", "untruncated_normal", 5),
      std::make_shared<GlorotUniform>(),   std::make_shared<GlorotNormal>(6),
      std::make_shared<HeUniform>(),       std::make_shared<HeNormal>(),
      std::make_shared<LecunUniform>(),    std::make_shared<LecunNormal>(7),
      std::make_shared<Orthogonal>(1.5, 8), std::make_shared<Identity>(0.5)};
  for (const auto& init : all) {
    const json j = serialize_initializer(init);
    const auto back = get_initializer(j);
    ASSERT_NE(back, nullptr);
    EXPECT_EQ(back->class_name(), init->class_name());
    EXPECT_EQ(back->get_config(), init->get_config()) << j.dump();
  }
}

TEST(InitializerConfig, SerializesInKerasForm) {
  EXPECT_EQ(serialize_initializer(std::make_shared<GlorotUniform>()),
            json::parse(R"({"class_name": "GlorotUniform", "config": {"seed": null}})"));
  EXPECT_EQ(serialize_initializer(std::make_shared<Zeros>()), json::parse(R"({"class_name": "Zeros", "config": {}})"));
  EXPECT_TRUE(serialize_initializer(nullptr).is_null());
}

TEST(GetInitializer, AcceptsKerasNamesCaseInsensitively) {
  const struct {
    const char* name;
    const char* class_name;
  } cases[] = {{"glorot_uniform", "GlorotUniform"}, {"GlorotUniform", "GlorotUniform"},
               {"HE_NORMAL", "HeNormal"},           {"he_uniform", "HeUniform"},
               {"lecun_normal", "LecunNormal"},     {"zeros", "Zeros"},
               {"zero", "Zeros"},                   {"ones", "Ones"},
               {"uniform", "RandomUniform"},        {"normal", "RandomNormal"},
               {"random_normal", "RandomNormal"},   {"truncated_normal", "TruncatedNormal"},
               {"orthogonal", "Orthogonal"},        {"identity", "Identity"},
               {"variance_scaling", "VarianceScaling"}, {"constant", "Constant"}};
  for (const auto& c : cases) EXPECT_EQ(get_initializer(c.name)->class_name(), c.class_name) << c.name;
}

TEST(GetInitializer, ReadsKeras2AndKeras3Objects) {
  const auto k2 = get_initializer(json::parse(
      R"({"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": null}})"));
  EXPECT_EQ(k2->get_config()["mode"], "fan_out");
  const auto k3 = get_initializer(json::parse(
      R"({"module": "keras.initializers", "class_name": "HeNormal", "config": {"seed": 3}, "registered_name": null})"));
  EXPECT_EQ(k3->class_name(), "HeNormal");
  EXPECT_EQ(k3->get_config()["seed"], 3);
}

TEST(GetInitializer, ToleratesLegacyDtypeKey) {
  const auto init = get_initializer(json::parse(
      R"({"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "normal", "seed": null, "dtype": "float32"}})"));
  EXPECT_EQ(init->get_config()["distribution"], "truncated_normal");
}

TEST(GetInitializer, NullGivesNullptr) { EXPECT_EQ(get_initializer(nullptr), nullptr); }

TEST(GetInitializer, UnknownNameListsKnownNames) {
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { get_initializer("glorot_unifrom"); }, {"glorot_unifrom", "'glorot_uniform'"}));
}

TEST(GetInitializer, RejectsBadConfigs) {
  EXPECT_THROW(get_initializer(json::parse(R"({"class_name": "Zeros", "config": {"value": 1}})")), ValueError);
  EXPECT_THROW(get_initializer(json::parse(R"({"class_name": "RandomNormal", "config": {"stddev": "big"}})")),
               ValueError);
  EXPECT_THROW(get_initializer(json::parse(R"({"class_name": "HeNormal", "config": {"seed": -1}})")), ValueError);
  EXPECT_THROW(get_initializer(json(3)), ValueError);
}

// An options struct as layers declare it.
struct Options {
  InitializerArg kernel_initializer = "glorot_uniform";
};

TEST(InitializerArg, ConvertsFromNamesObjectsAndPointers) {
  EXPECT_EQ(Options{}.kernel_initializer.resolve()->class_name(), "GlorotUniform");
  EXPECT_EQ(InitializerArg().resolve(), nullptr);
  EXPECT_FALSE(InitializerArg().has_value());
  EXPECT_EQ(Options{.kernel_initializer = "he_normal"}.kernel_initializer.resolve()->class_name(), "HeNormal");
  EXPECT_EQ(Options{.kernel_initializer = std::string("ones")}.kernel_initializer.resolve()->class_name(), "Ones");
  EXPECT_EQ(Options{.kernel_initializer = Constant(2)}.kernel_initializer.resolve()->get_config()["value"], 2.0);
  EXPECT_EQ(Options{.kernel_initializer = std::make_shared<Zeros>()}.kernel_initializer.resolve()->class_name(),
            "Zeros");
  EXPECT_EQ(Options{.kernel_initializer = nullptr}.kernel_initializer.resolve(), nullptr);
  EXPECT_THROW(Options{.kernel_initializer = "nope"}.kernel_initializer.resolve(), ValueError);
}

}  // namespace
}  // namespace minidl
