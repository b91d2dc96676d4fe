// Tests for layers/parts/constraints: Keras projection formulas against hand-computed
// numbers and a naive per-slice reference, configs and identifiers.
#include "layers/parts/constraints.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/random.h"
#include "support/assertions.h"

using minidl::testing::ThrowsWith;

namespace minidl {
namespace {

using testing::AllClose;
constexpr double kEps = 1e-7;

// A (2, 2, 1, 3) HWIO kernel whose three output filters have norms 2, 5 and 0.5.
Tensor conv_kernel() {
  // flat index = (h * 2 + w) * 3 + o
  return Tensor::from_data({2, 2, 1, 3}, {1.f, 3.f, 0.1f,  //
                                          1.f, 4.f, 0.2f,  //
                                          1.f, 0.f, 0.2f,  //
                                          1.f, 0.f, 0.4f});
}

// Scales each filter o of conv_kernel() by factor[o].
Tensor scaled_filters(const double factor[3]) {
  Tensor w = conv_kernel();
  for (int64_t i = 0; i < w.numel(); ++i) w[i] = static_cast<float>(w[i] * factor[i % 3]);
  return w;
}

// Per-slice L2 norms over `axes` (normalized), returned per element, in double.
std::vector<double> naive_norms(const Tensor& w, const std::set<int>& axes) {
  const auto strides = strides_of(w.shape());
  std::vector<double> sq(static_cast<size_t>(w.numel()), 0.0);
  std::vector<int64_t> key(static_cast<size_t>(w.numel()));
  for (int64_t i = 0; i < w.numel(); ++i) {
    int64_t k = 0;
    for (int d = 0; d < w.rank(); ++d)
      if (!axes.count(d)) k += (i / strides[d]) % w.shape()[d] * strides[d];
    key[i] = k;  // flat index of the slice's representative (reduced coordinates zeroed)
    sq[k] += double(w[i]) * w[i];
  }
  std::vector<double> out(static_cast<size_t>(w.numel()));
  for (int64_t i = 0; i < w.numel(); ++i) out[i] = std::sqrt(sq[key[i]]);
  return out;
}

Tensor naive_min_max_norm(const Tensor& w, const std::set<int>& axes, double lo, double hi, double rate) {
  const auto norms = naive_norms(w, axes);
  Tensor out(w.shape());
  for (int64_t i = 0; i < w.numel(); ++i) {
    const double desired = rate * std::clamp(norms[i], lo, hi) + (1 - rate) * norms[i];
    out[i] = static_cast<float>(w[i] * desired / (kEps + norms[i]));
  }
  return out;
}

TEST(MaxNorm, ClipsEachConvFilterOverAxes012) {
  Tensor w = conv_kernel();
  MaxNorm(2.0, {0, 1, 2}).apply(w);
  const double factor[3] = {2 / (kEps + 2), 2 / (kEps + 5), 0.5 / (kEps + 0.5)};
  EXPECT_TRUE(AllClose(w, scaled_filters(factor), 1e-7, 1e-6));
  EXPECT_NEAR(w[1], 1.2, 1e-6);  // 3 * 2/5
  EXPECT_NEAR(w[4], 1.6, 1e-6);  // 4 * 2/5
}

TEST(MaxNorm, DenseKernelColumnsOverAxis0) {
  Tensor w = Tensor::from_data({2, 2}, {3.f, 0.6f, 4.f, 0.8f});  // column norms 5 and 1
  MaxNorm(2.0).apply(w);
  EXPECT_NEAR(w[0], 1.2, 1e-6);
  EXPECT_NEAR(w[2], 1.6, 1e-6);
  EXPECT_NEAR(w[1], 0.6, 1e-6);
  EXPECT_NEAR(w[3], 0.8, 1e-6);
}

TEST(MaxNorm, MatchesNaiveReferenceForNegativeAndListAxes) {
  set_random_seed(4);
  const Tensor w0 = Tensor::normal({3, 4, 2, 5}, 0.f, 1.f);
  Tensor a = w0.clone(), b = w0.clone();
  MaxNorm(1.5, -1).apply(a);
  MaxNorm(1.5, {-2, 0}).apply(b);
  EXPECT_TRUE(AllClose(a, naive_min_max_norm(w0, {3}, 0, 1.5, 1), 1e-6, 1e-5));
  EXPECT_TRUE(AllClose(b, naive_min_max_norm(w0, {0, 2}, 0, 1.5, 1), 1e-6, 1e-5));
}

TEST(MaxNorm, UpdatesTheTensorsOwnStorage) {
  Tensor w = Tensor::from_data({2, 1}, {3.f, 4.f});
  const Tensor view = w.reshape({2});
  MaxNorm(1.0).apply(w);
  EXPECT_NEAR(view[0], 0.6, 1e-6);
}

TEST(NonNeg, ZeroesNegativeEntries) {
  Tensor w = Tensor::from_data({5}, {-1.f, 0.f, 2.f, -0.5f, 0.25f});
  NonNeg().apply(w);
  const std::vector<float> expected = {0.f, 0.f, 2.f, 0.f, 0.25f};
  EXPECT_EQ(w.to_vector(), expected);
}

TEST(UnitNorm, DividesByTheNormPlusEpsilon) {
  Tensor w = Tensor::from_data({2, 2}, {3.f, 0.f, 4.f, 2.f});  // columns (3, 4) and (0, 2)
  UnitNorm(0).apply(w);
  EXPECT_NEAR(w[0], 3 / (5 + kEps), 1e-7);
  EXPECT_NEAR(w[2], 4 / (5 + kEps), 1e-7);
  EXPECT_NEAR(w[3], 2 / (2 + kEps), 1e-7);
  EXPECT_EQ(w[1], 0.f);
}

TEST(UnitNorm, RowsWhenAxisIsLast) {
  set_random_seed(6);
  const Tensor w0 = Tensor::normal({4, 6});
  Tensor w = w0.clone();
  UnitNorm(-1).apply(w);
  EXPECT_TRUE(AllClose(w, naive_min_max_norm(w0, {1}, 1, 1, 1), 1e-6, 1e-5));
}

TEST(MinMaxNorm, HandComputedRateHalf) {
  Tensor w = Tensor::from_data({2, 2}, {3.f, 0.1f, 4.f, 0.f});  // column norms 5 and 0.1
  MinMaxNorm(0.5, 1.0, 0.5).apply(w);
  // desired = 0.5 * clip(norm, 0.5, 1) + 0.5 * norm: 3.0 and 0.3.
  EXPECT_NEAR(w[0], 3 * 3 / (5 + kEps), 1e-6);
  EXPECT_NEAR(w[2], 4 * 3 / (5 + kEps), 1e-6);
  EXPECT_NEAR(w[1], 0.1 * 0.3 / (0.1 + kEps), 1e-6);
}

TEST(MinMaxNorm, MatchesNaiveReferenceOnConvKernel) {
  set_random_seed(7);
  const Tensor w0 = Tensor::normal({3, 3, 2, 4}, 0.f, 0.3f);
  Tensor w = w0.clone();
  MinMaxNorm(0.2, 0.8, 0.7, {0, 1, 2}).apply(w);
  EXPECT_TRUE(AllClose(w, naive_min_max_norm(w0, {0, 1, 2}, 0.2, 0.8, 0.7), 1e-6, 1e-5));
}

TEST(Constraints, AxisOutOfRangeIsValueError) {
  Tensor w = Tensor::ones({2, 3});
  EXPECT_THROW(MaxNorm(2.0, 2).apply(w), ValueError);
  EXPECT_THROW(UnitNorm({0, -3}).apply(w), ValueError);
  EXPECT_THROW(MinMaxNorm(0, 1, 1, {0, 0}).apply(w), ValueError);
}

TEST(ConstraintConfig, AxisKeepsTheFormItWasGiven) {
  EXPECT_EQ(MaxNorm(2.0, {0, 1, 2}).get_config(), json::parse(R"({"max_value": 2.0, "axis": [0, 1, 2]})"));
  EXPECT_EQ(MaxNorm(0.5, 3).get_config(), json::parse(R"({"max_value": 0.5, "axis": 3})"));
  EXPECT_EQ(UnitNorm({0}).get_config(), json::parse(R"({"axis": [0]})"));
  EXPECT_EQ(MinMaxNorm().get_config(),
            json::parse(R"({"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0})"));
  EXPECT_EQ(serialize_constraint(std::make_shared<NonNeg>()), json::parse(R"({"class_name": "NonNeg", "config": {}})"));
  EXPECT_TRUE(serialize_constraint(nullptr).is_null());
}

TEST(ConstraintConfig, EveryClassRoundTrips) {
  const std::vector<std::shared_ptr<Constraint>> all = {
      std::make_shared<MaxNorm>(0.3, 0), std::make_shared<MaxNorm>(1.0, ConstraintAxis{0, 1, 2}),
      std::make_shared<NonNeg>(), std::make_shared<UnitNorm>(3), std::make_shared<UnitNorm>(ConstraintAxis{0, 1}),
      std::make_shared<MinMaxNorm>(0.2, 0.8, 0.5, 3)};
  for (const auto& c : all) {
    const json j = serialize_constraint(c);
    const auto back = get_constraint(j);
    EXPECT_EQ(back->class_name(), c->class_name());
    EXPECT_EQ(back->get_config(), c->get_config()) << j.dump();
    EXPECT_EQ(back->get_config().dump(), c->get_config().dump());  // int stays int, list stays list
  }
}

TEST(GetConstraint, AcceptsKerasNames) {
  const struct {
    const char* name;
    const char* class_name;
  } cases[] = {{"max_norm", "MaxNorm"},   {"maxnorm", "MaxNorm"},       {"MaxNorm", "MaxNorm"},
               {"non_neg", "NonNeg"},     {"nonneg", "NonNeg"},         {"unit_norm", "UnitNorm"},
               {"unitnorm", "UnitNorm"},  {"min_max_norm", "MinMaxNorm"}, {"MinMaxNorm", "MinMaxNorm"}};
  for (const auto& c : cases) EXPECT_EQ(get_constraint(c.name)->class_name(), c.class_name) << c.name;
  EXPECT_EQ(get_constraint("max_norm")->get_config(), json::parse(R"({"max_value": 2.0, "axis": 0})"));
}

TEST(GetConstraint, ReadsKeras2Keras3AndKeras1Objects) {
  const auto k2 = get_constraint(
      json::parse(R"({"class_name": "MinMaxNorm", "config": {"min_value": 0.0, "max_value": 0.8, "rate": 1.0, "axis": [0, 1, 2]}})"));
  EXPECT_EQ(k2->get_config()["axis"], json::parse("[0, 1, 2]"));
  const auto k3 = get_constraint(json::parse(
      R"({"module": "keras.constraints", "class_name": "UnitNorm", "config": {"axis": -1}, "registered_name": null})"));
  EXPECT_EQ(k3->get_config()["axis"], -1);
  const auto k1 = get_constraint(json::parse(R"({"name": "MaxNorm", "m": 3, "axis": 1})"));
  EXPECT_EQ(k1->get_config(), json::parse(R"({"max_value": 3.0, "axis": 1})"));
}

TEST(GetConstraint, NullGivesNullptr) { EXPECT_EQ(get_constraint(nullptr), nullptr); }

TEST(GetConstraint, UnknownNameListsKnownNames) {
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { get_constraint("max_nrom"); }, {"max_nrom", "'max_norm'"}));
}

TEST(GetConstraint, RejectsBadConfigs) {
  EXPECT_THROW(get_constraint(json::parse(R"({"class_name": "MaxNorm", "config": {"axis": "rows"}})")), ValueError);
  EXPECT_THROW(get_constraint(json::parse(R"({"class_name": "MaxNorm", "config": {"axis": [0, 1.5]}})")), ValueError);
  EXPECT_THROW(get_constraint(json::parse(R"({"class_name": "NonNeg", "config": {"axis": 0}})")), ValueError);
}

struct ConvOpts {
  ConstraintArg kernel_constraint;
};

TEST(ConstraintArg, ConvertsFromNamesObjectsAndPointers) {
  EXPECT_EQ(ConvOpts{}.kernel_constraint.resolve(), nullptr);
  EXPECT_EQ(ConvOpts{.kernel_constraint = "non_neg"}.kernel_constraint.resolve()->class_name(), "NonNeg");
  EXPECT_EQ(ConvOpts{.kernel_constraint = std::string("unit_norm")}.kernel_constraint.resolve()->class_name(),
            "UnitNorm");
  EXPECT_EQ(ConvOpts{.kernel_constraint = MaxNorm(3.0, {0, 1, 2})}.kernel_constraint.resolve()->get_config()["axis"],
            json::parse("[0, 1, 2]"));
  EXPECT_EQ(ConvOpts{.kernel_constraint = std::make_shared<NonNeg>()}.kernel_constraint.resolve()->class_name(),
            "NonNeg");
  EXPECT_EQ(ConvOpts{.kernel_constraint = nullptr}.kernel_constraint.resolve(), nullptr);
  EXPECT_THROW(ConvOpts{.kernel_constraint = "max"}.kernel_constraint.resolve(), ValueError);
}

}  // namespace
}  // namespace minidl
