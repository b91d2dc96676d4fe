// gradcheck itself: it must pass correct gradients, catch wrong ones, and say where.
#include "autograd/gradcheck.h"

#include <gtest/gtest.h>

#include <string>

#include "autograd/functions.h"
#include "core/errors.h"

using namespace minidl;
namespace ag = minidl::autograd;

namespace {

// y = 3x elementwise, with a backward claiming dy/dx = 3 everywhere except at
// flat index `bad_at` (-1: nowhere), where it claims 4.
Variable times_three(const Variable& x, int64_t bad_at) {
  Tensor y(x.shape());
  for (int64_t i = 0; i < y.numel(); ++i) y[i] = 3.f * x.value()[i];
  return make_result(y, {x}, "times_three", [bad_at](const Tensor& g, const std::vector<bool>&) {
    Tensor out(g.shape());
    for (int64_t i = 0; i < g.numel(); ++i) out[i] = g[i] * (i == bad_at ? 4.f : 3.f);
    return std::vector<Tensor>{out};
  });
}

}  // namespace

TEST(Gradcheck, PassesACorrectBackward) {
  Variable x(Tensor::uniform({2, 3}, -1, 1), true);
  const auto r = ag::gradcheck([](const std::vector<Variable>& v) { return times_three(v[0], -1); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_LT(r.max_abs_error, 1e-3);
}

TEST(Gradcheck, ReportsADeliberatelyWrongBackwardAndNamesTheElement) {
  Variable x(Tensor::uniform({2, 3}, -1, 1), true, "x");
  const auto r = ag::gradcheck([](const std::vector<Variable>& v) { return times_three(v[0], 4); }, {x});
  EXPECT_FALSE(r.ok);
  EXPECT_GT(r.max_abs_error, 0.1);
  EXPECT_NE(r.message.find("(1, 1)"), std::string::npos) << r.message;  // flat 4 of (2, 3)
  EXPECT_NE(r.message.find("'x'"), std::string::npos) << r.message;
}

TEST(Gradcheck, ProjectionCatchesAnErrorInOneOutputOfMany) {
  Variable x(Tensor::uniform({5}, -1, 1), true);
  const auto r = ag::gradcheck([](const std::vector<Variable>& v) { return times_three(v[0], 2); }, {x});
  EXPECT_FALSE(r.ok) << "a non-scalar output with a single wrong element must still fail";
}

TEST(Gradcheck, ChecksOnlyInputsThatRequireGrad) {
  Variable x(Tensor::uniform({3}, -1, 1), true);
  Variable c(Tensor::uniform({3}, -1, 1), false);
  int calls = 0;
  const auto r = ag::gradcheck(
      [&calls](const std::vector<Variable>& v) {
        ++calls;
        return v[0] * v[1];
      },
      {x, c});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(calls, 1 + 2 * 3);
}

TEST(Gradcheck, RestoresTheInputValues) {
  Tensor t = Tensor::uniform({4}, -1, 1);
  const std::vector<float> before = t.to_vector();
  Variable x(t, true);
  ag::gradcheck([](const std::vector<Variable>& v) { return ag::square(v[0]); }, {x});
  EXPECT_EQ(x.value().to_vector(), before);
  EXPECT_FALSE(x.grad().defined()) << "gradcheck must not touch .grad";
}

TEST(Gradcheck, OutputIndependentOfTheInputHasZeroGradient) {
  Variable x(Tensor::uniform({2}, -1, 1), true);
  Variable c(Tensor::ones({2}));
  const auto r = ag::gradcheck([&c](const std::vector<Variable>&) { return ag::square(c); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Gradcheck, RejectsInputsWithoutGradOrNotLeaves) {
  Variable c(Tensor::ones({2}));
  auto f = [](const std::vector<Variable>& v) { return ag::square(v[0]); };
  EXPECT_THROW(ag::gradcheck(f, {c}), ValueError);
  Variable x(Tensor::ones({2}), true);
  EXPECT_THROW(ag::gradcheck(f, {ag::square(x)}), ValueError);
}
