// tests/layers/initializer_fan_axes_test.cpp — Keras 3.15's input_axes / output_axes of the
// variance-scaling initializers: fans against hand computations, the spread of large draws,
// configs as Keras 3.15 writes them, and bad values; shared_object_id on a part's wrapper.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include "core/errors.h"
#include "layers/parts/initializers.h"
#include "support/assertions.h"

using minidl::testing::ThrowsWith;

namespace minidl {
namespace {

// Population stddev of a tensor, in double precision.
double stddev_of(const Tensor& t) {
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    sum += t[i];
    sq += double(t[i]) * t[i];
  }
  const double mean = sum / double(t.numel());
  return std::sqrt(sq / double(t.numel()) - mean * mean);
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(double(t[i])));
  return m;
}

TEST(ComputeFans, GivenAxesMultiplyThoseDimensions) {
  // (3, 4, 5, 6): input axes 0 and 2 -> 3 * 5; output axes 1 and -1 -> 4 * 6.
  const Fans f = compute_fans({3, 4, 5, 6}, std::vector<int64_t>{0, 2}, std::vector<int64_t>{1, -1});
  EXPECT_EQ(f.fan_in, 15);
  EXPECT_EQ(f.fan_out, 24);
}

TEST(ComputeFans, AttentionKernelCountsHeadsAsOutputUnits) {
  // An EinsumDense kernel (d_model, heads, head_dim) = (64, 8, 16): Keras passes input_axes [0],
  // output_axes [1, 2]; the default rule would take 8 * 64 and 16 * 64.
  const Fans f = compute_fans({64, 8, 16}, std::vector<int64_t>{0}, std::vector<int64_t>{1, 2});
  EXPECT_EQ(f.fan_in, 64);
  EXPECT_EQ(f.fan_out, 128);
}

TEST(ComputeFans, OneAxesListAloneKeepsTheDefaultRule) {
  // Keras uses the axes only when both lists are given.
  const Fans a = compute_fans({3, 5, 16, 32}, std::vector<int64_t>{2}, std::nullopt);
  const Fans b = compute_fans({3, 5, 16, 32}, std::nullopt, std::vector<int64_t>{3});
  for (const Fans& f : {a, b}) {
    EXPECT_EQ(f.fan_in, 3 * 5 * 16);
    EXPECT_EQ(f.fan_out, 3 * 5 * 32);
  }
}

TEST(ComputeFans, EmptyAxesListGivesOne) {
  const Fans f = compute_fans({7, 9}, std::vector<int64_t>{}, std::vector<int64_t>{0, 1});
  EXPECT_EQ(f.fan_in, 1);
  EXPECT_EQ(f.fan_out, 63);
}

TEST(ComputeFans, AxisOutsideTheRankIsAValueError) {
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { compute_fans({3, 3, 4, 8}, std::vector<int64_t>{4}, std::vector<int64_t>{3}); },
      {"input_axes", "[4]", "(3, 3, 4, 8)", "out of range", "rank 4"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { compute_fans({3, 3}, std::vector<int64_t>{0}, std::vector<int64_t>{-3}); },
      {"output_axes", "-3", "out of range"}));
}

TEST(VarianceScalingAxes, HeNormalDrawHasVarianceTwoOverTheGivenFanIn) {
  // (50, 40, 100) with input_axes [0]: fan_in 50 (the default rule would give 40 * 50 = 2000).
  const HeNormal init(11, std::vector<int64_t>{0}, std::vector<int64_t>{1, 2});
  const Tensor t = init({50, 40, 100});
  const double target = std::sqrt(2.0 / 50);
  EXPECT_NEAR(stddev_of(t), target, 0.01 * target);
  EXPECT_LE(max_abs(t), 2 * target / 0.87962566103423978 + 1e-6);  // truncated at 2 stddev
}

TEST(VarianceScalingAxes, GlorotUniformLimitUsesTheAverageOfGivenFans) {
  // (50, 40, 100): fan_in = 50 * 40 = 2000 (axes 0, 1), fan_out = 100 (axis -1): n = 1050.
  const GlorotUniform init(12, std::vector<int64_t>{0, 1}, std::vector<int64_t>{-1});
  const Tensor t = init({50, 40, 100});
  const double limit = std::sqrt(3.0 / 1050);
  EXPECT_LE(max_abs(t), limit);
  EXPECT_GT(max_abs(t), 0.99 * limit);
  EXPECT_NEAR(stddev_of(t), limit / std::sqrt(3.0), 0.01 * limit);
}

TEST(VarianceScalingAxes, FanOutModeUsesTheGivenOutputAxes) {
  const VarianceScaling init(3.0, "fan_out", "untruncated_normal", 13, std::vector<int64_t>{0, 1},
                             std::vector<int64_t>{2});
  const double target = std::sqrt(3.0 / 100);  // fan_out = shape[2] = 100
  EXPECT_NEAR(stddev_of(init({40, 30, 100})), target, 0.01 * target);
}

TEST(VarianceScalingAxes, AxisThatDoesNotFitTheWeightNamesTheInitializer) {
  const HeUniform init(std::nullopt, std::vector<int64_t>{0, 5}, std::vector<int64_t>{1});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { init({3, 4}); }, {"HeUniform", "input_axes", "[0,5]", "out of range"}));
}

TEST(VarianceScalingAxes, ConfigIsKeras315sWithNullWhenUnset) {
  EXPECT_EQ(GlorotUniform().get_config(),
            json::parse(R"({"seed": null, "input_axes": null, "output_axes": null})"));
  EXPECT_EQ(LecunNormal(3, std::vector<int64_t>{0}, std::vector<int64_t>{1, 2}).get_config(),
            json::parse(R"({"seed": 3, "input_axes": [0], "output_axes": [1, 2]})"));
  EXPECT_EQ(VarianceScaling(2.0, "fan_avg", "uniform", std::nullopt, std::vector<int64_t>{-2}, std::nullopt)
                .get_config(),
            json::parse(R"({"scale": 2.0, "mode": "fan_avg", "distribution": "uniform", "seed": null,
                            "input_axes": [-2], "output_axes": null})"));
}

TEST(VarianceScalingAxes, Keras315ConfigsReadAndRoundTrip) {
  const char* configs[] = {
      R"({"module": "keras.initializers", "class_name": "GlorotUniform",
          "config": {"seed": null, "input_axes": null, "output_axes": null}, "registered_name": null})",
      R"({"module": "keras.initializers", "class_name": "HeNormal",
          "config": {"seed": 4, "input_axes": [0, 1], "output_axes": [2]}, "registered_name": null})",
      R"({"class_name": "VarianceScaling", "config": {"scale": 0.5, "mode": "fan_out", "distribution": "uniform",
          "seed": null, "input_axes": [0], "output_axes": [-1]}})",
      R"({"class_name": "LecunUniform", "config": {"seed": 1, "input_axes": [], "output_axes": null}})"};
  for (const char* text : configs) {
    const json j = json::parse(text);
    const auto init = get_initializer(j);
    ASSERT_NE(init, nullptr) << text;
    EXPECT_EQ(init->get_config(), j["config"]) << text;
    EXPECT_EQ(get_initializer(serialize_initializer(init))->get_config(), j["config"]) << text;
  }
  const auto vs = std::dynamic_pointer_cast<VarianceScaling>(get_initializer(json::parse(configs[1])));
  ASSERT_NE(vs, nullptr);
  EXPECT_EQ(vs->input_axes(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(vs->output_axes(), (std::vector<int64_t>{2}));
}

TEST(VarianceScalingAxes, WrittenFormLeavesUnsetAxesOut) {
  // tf.keras 2.x and Keras 3 before 3.15 reject the keys; absent, Keras 3.15 reads them as null.
  EXPECT_EQ(serialize_initializer(std::make_shared<GlorotUniform>()),
            json::parse(R"({"class_name": "GlorotUniform", "config": {"seed": null}})"));
  EXPECT_EQ(serialize_initializer(std::make_shared<VarianceScaling>()),
            json::parse(R"({"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_in",
                            "distribution": "truncated_normal", "seed": null}})"));
  EXPECT_EQ(serialize_initializer(std::make_shared<HeNormal>(2, std::vector<int64_t>{0}, std::vector<int64_t>{1, 2})),
            json::parse(R"({"class_name": "HeNormal",
                            "config": {"seed": 2, "input_axes": [0], "output_axes": [1, 2]}})"));
}

TEST(VarianceScalingAxes, BadAxesValuesAreValueErrors) {
  const char* bad[] = {R"({"class_name": "GlorotUniform", "config": {"input_axes": 0, "output_axes": [1]}})",
                       R"({"class_name": "HeNormal", "config": {"input_axes": [0.5], "output_axes": [1]}})",
                       R"({"class_name": "VarianceScaling", "config": {"input_axes": [0], "output_axes": ["a"]}})",
                       R"({"class_name": "LecunNormal", "config": {"input_axes": {"0": 1}}})"};
  for (const char* text : bad) {
    const json j = json::parse(text);
    const std::string cls = j["class_name"];
    EXPECT_TRUE(ThrowsWith<ValueError>([&] { get_initializer(j); }, {cls, "must be null or a list of integers"}))
        << text;
  }
}

TEST(VarianceScalingAxes, InitializersWithoutFansRejectTheKeys) {
  // Keras 3.15's Orthogonal, RandomNormal, ... take no input_axes: their constructors reject it.
  for (const char* cls : {"Orthogonal", "RandomNormal", "TruncatedNormal", "RandomUniform"}) {
    const json j = {{"class_name", cls}, {"config", {{"seed", nullptr}, {"input_axes", nullptr}}}};
    EXPECT_TRUE(ThrowsWith<ValueError>([&] { get_initializer(j); }, {cls, "'input_axes'"})) << cls;
  }
}

TEST(PartWrapper, SharedObjectIdBesideTheConfigIsAccepted) {
  // Keras 3 adds shared_object_id to the wrapper of an object serialized more than once.
  const auto init = get_initializer(json::parse(R"({"module": "keras.initializers", "class_name": "HeUniform",
      "config": {"seed": null, "input_axes": null, "output_axes": null}, "registered_name": null,
      "shared_object_id": 139765503078992})"));
  ASSERT_NE(init, nullptr);
  EXPECT_EQ(init->class_name(), "HeUniform");
}

TEST(PartWrapper, SharedObjectIdInsideTheConfigIsAnUnexpectedKey) {
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] {
        get_initializer(json::parse(R"({"class_name": "HeUniform", "config": {"seed": null, "shared_object_id": 7}})"));
      },
      {"HeUniform initializer", "unexpected config key 'shared_object_id'"}));
}

}  // namespace
}  // namespace minidl
