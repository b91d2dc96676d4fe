// Tests for layers/parts/regularizers: Keras penalty values, gradients, configs and identifiers.
#include "layers/parts/regularizers.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "core/errors.h"
#include "core/random.h"
#include "support/assertions.h"

using minidl::testing::ThrowsWith;

namespace minidl {
namespace {

Variable weights() { return Variable(Tensor::from_data({2, 2}, {1.f, -2.f, 3.f, -4.f}), /*requires_grad=*/true); }

// l1 * sum|w| + l2 * sum w^2 in double.
double naive_penalty(const Tensor& w, double l1, double l2) {
  double a = 0, s = 0;
  for (int64_t i = 0; i < w.numel(); ++i) {
    a += std::fabs(double(w[i]));
    s += double(w[i]) * w[i];
  }
  return l1 * a + l2 * s;
}

// Random weights at least 0.05 away from 0, where |w| is not differentiable.
Variable random_weights(const Shape& shape, uint64_t seed) {
  set_random_seed(seed);
  Tensor t = Tensor::uniform(shape, -2.f, 2.f);
  for (float& v : t.span())
    if (std::fabs(v) < 0.05f) v = 0.1f;
  return Variable(t, /*requires_grad=*/true);
}

TEST(Regularizers, HandComputedPenalties) {
  // sum|w| = 10, sum w^2 = 30.
  EXPECT_NEAR(L1(0.1)(weights()).value().item(), 1.0, 1e-6);
  EXPECT_NEAR(L2(0.01)(weights()).value().item(), 0.3, 1e-6);
  EXPECT_NEAR(L1L2(0.1, 0.01)(weights()).value().item(), 1.3, 1e-6);
}

TEST(Regularizers, PenaltyIsAScalar) {
  EXPECT_EQ(L2()(weights()).shape(), Shape{});
  EXPECT_EQ(L1()(weights()).shape(), Shape{});
  EXPECT_EQ(L1L2(1, 1)(weights()).shape(), Shape{});
  EXPECT_EQ(L1L2()(weights()).shape(), Shape{});
}

TEST(Regularizers, MatchNaiveFormulaOnConvKernel) {
  const Variable w = random_weights({3, 3, 4, 5}, 3);
  const double l1 = double(0.003f), l2 = double(0.02f);  // factors are float32, as in Keras
  EXPECT_NEAR(L1L2(0.003, 0.02)(w).value().item(), naive_penalty(w.value(), l1, l2), 1e-5);
  EXPECT_NEAR(L1(0.003)(w).value().item(), naive_penalty(w.value(), l1, 0), 1e-6);
  EXPECT_NEAR(L2(0.02)(w).value().item(), naive_penalty(w.value(), 0, l2), 1e-5);
}

TEST(Regularizers, L2GradientIsTwiceL2TimesW) {
  const Variable w = weights();
  L2(0.5)(w).backward();
  const std::vector<float> expected = {1.f, -2.f, 3.f, -4.f};
  EXPECT_EQ(w.grad().to_vector(), expected);
}

TEST(Regularizers, L1GradientIsL1TimesSign) {
  const Variable w = weights();
  L1(0.25)(w).backward();
  const std::vector<float> expected = {0.25f, -0.25f, 0.25f, -0.25f};
  EXPECT_EQ(w.grad().to_vector(), expected);
}

TEST(Regularizers, GradientsMatchFiniteDifferences) {
  const std::vector<std::shared_ptr<Regularizer>> regs = {std::make_shared<L1>(0.3), std::make_shared<L2>(0.2),
                                                          std::make_shared<L1L2>(0.1, 0.4)};
  for (const auto& reg : regs)
    for (const Shape& shape : {Shape{4, 3}, Shape{2, 2, 1, 3}}) {
      const auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return (*reg)(v[0]); },
                                         {random_weights(shape, 9)});
      EXPECT_TRUE(r.ok) << reg->class_name() << " " << shape_str(shape) << ": " << r.message;
    }
}

TEST(Regularizers, ZeroL1L2IsAConstantWithoutHistory) {
  const Variable p = L1L2(0, 0)(weights());
  EXPECT_EQ(p.value().item(), 0.f);
  EXPECT_FALSE(p.requires_grad());
}

TEST(Regularizers, RejectNonFiniteFactors) {
  EXPECT_THROW((void)L2(NAN), ValueError);
  EXPECT_THROW((void)L1(INFINITY), ValueError);
  EXPECT_THROW((void)L1L2(0.1, -INFINITY), ValueError);
}

TEST(RegularizerConfig, FactorsAreStoredAsFloat32LikeKeras) {
  EXPECT_EQ(L2(0.01).get_config(), json::parse(R"({"l2": 0.009999999776482582})"));
  EXPECT_EQ(serialize_regularizer(std::make_shared<L1L2>(0.05, 0.0)),
            json::parse(R"({"class_name": "L1L2", "config": {"l1": 0.05000000074505806, "l2": 0.0}})"));
  EXPECT_TRUE(serialize_regularizer(nullptr).is_null());
}

TEST(RegularizerConfig, EveryClassRoundTrips) {
  const std::vector<std::shared_ptr<Regularizer>> regs = {std::make_shared<L1>(0.3), std::make_shared<L2>(1e-4),
                                                          std::make_shared<L1L2>(0.1, 0.4)};
  for (const auto& reg : regs) {
    const auto back = get_regularizer(serialize_regularizer(reg));
    EXPECT_EQ(back->class_name(), reg->class_name());
    EXPECT_EQ(back->get_config(), reg->get_config());
  }
}

TEST(GetRegularizer, StringNamesUseTfKerasDefaults) {
  const auto l1 = std::dynamic_pointer_cast<L1>(get_regularizer("l1"));
  const auto l2 = std::dynamic_pointer_cast<L2>(get_regularizer("L2"));
  const auto both = std::dynamic_pointer_cast<L1L2>(get_regularizer("l1_l2"));
  ASSERT_TRUE(l1 && l2 && both);
  EXPECT_EQ(l1->l1(), 0.01f);
  EXPECT_EQ(l2->l2(), 0.01f);
  EXPECT_EQ(both->l1(), 0.01f);
  EXPECT_EQ(both->l2(), 0.01f);
  EXPECT_EQ(get_regularizer("L1L2")->get_config(), (json{{"l1", 0.0}, {"l2", 0.0}}));  // the class defaults
}

TEST(GetRegularizer, ReadsKeras2Keras3AndKeras1Objects) {
  EXPECT_EQ(get_regularizer(json::parse(R"({"class_name": "L2", "config": {"l2": 0.004999999888241291}})"))
                ->get_config()["l2"],
            0.004999999888241291);
  EXPECT_EQ(get_regularizer(json::parse(
                R"({"module": "keras.regularizers", "class_name": "L1", "config": {"l1": 0.5}, "registered_name": null})"))
                ->class_name(),
            "L1");
  const auto k1 = get_regularizer(json::parse(R"({"name": "WeightRegularizer", "l1": 0.0, "l2": 0.25})"));
  EXPECT_EQ(k1->class_name(), "L1L2");
  EXPECT_EQ(k1->get_config()["l2"], 0.25);
  // tf.keras accepts "l" for the factor of L1 / L2.
  EXPECT_EQ(get_regularizer(json::parse(R"({"class_name": "L1", "config": {"l": 0.5}})"))->get_config()["l1"], 0.5);
}

TEST(GetRegularizer, NullGivesNullptr) { EXPECT_EQ(get_regularizer(nullptr), nullptr); }

TEST(GetRegularizer, UnknownNameListsKnownNames) {
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { get_regularizer("l3"); }, {"l3", "'l1_l2'"}));
}

TEST(GetRegularizer, RejectsBadConfigs) {
  EXPECT_THROW(get_regularizer(json::parse(R"({"class_name": "L2", "config": {"l1": 0.5}})")), ValueError);
  EXPECT_THROW(get_regularizer(json::parse(R"({"class_name": "L1L2", "config": {"l1": "x"}})")), ValueError);
  EXPECT_THROW(get_regularizer(json::array()), ValueError);
}

struct Options {
  RegularizerArg kernel_regularizer;
};

TEST(RegularizerArg, ConvertsFromNamesObjectsAndPointers) {
  EXPECT_EQ(Options{}.kernel_regularizer.resolve(), nullptr);
  EXPECT_EQ(Options{.kernel_regularizer = "l2"}.kernel_regularizer.resolve()->class_name(), "L2");
  EXPECT_EQ(Options{.kernel_regularizer = std::string("l1")}.kernel_regularizer.resolve()->class_name(), "L1");
  EXPECT_EQ(Options{.kernel_regularizer = L2(1e-4)}.kernel_regularizer.resolve()->get_config()["l2"], double(1e-4f));
  EXPECT_EQ(Options{.kernel_regularizer = std::make_shared<L1L2>(1, 2)}.kernel_regularizer.resolve()->class_name(),
            "L1L2");
  EXPECT_EQ(Options{.kernel_regularizer = nullptr}.kernel_regularizer.resolve(), nullptr);
  EXPECT_THROW(Options{.kernel_regularizer = "l7"}.kernel_regularizer.resolve(), ValueError);
}

}  // namespace
}  // namespace minidl
