// The backward engine: accumulation, graph release, seeds, grad(), deep graphs.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "autograd/functions.h"
#include "autograd/variable.h"
#include "core/errors.h"
#include "support/assertions.h"

using minidl::testing::ThrowsWith;

using namespace minidl;
namespace ag = minidl::autograd;

namespace {

Variable leaf(std::initializer_list<float> v) {
  return Variable(Tensor::from_data({static_cast<int64_t>(v.size())}, v), true);
}

// y = x with a backward that counts its calls and records the gradient it saw.
Variable counting_identity(const Variable& x, int* calls, Tensor* seen) {
  return make_result(x.value().clone(), {x}, "counting_identity",
                     [calls, seen](const Tensor& g, const std::vector<bool>&) {
                       ++*calls;
                       *seen = g.clone();
                       return std::vector<Tensor>{g};
                     });
}

}  // namespace

TEST(Engine, DiamondGraphSumsBothPaths) {
  Variable x = leaf({1, -2, 3});
  Variable y = ag::sum(ag::mul_scalar(x, 2.f) + ag::square(x));  // dy/dx = 2 + 2x
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{4, -2, 8}));
}

TEST(Engine, VariableUsedTwiceInOneOpGetsBothContributions) {
  Variable x = leaf({3, -1});
  ag::sum(x * x).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{6, -2}));
}

TEST(Engine, GradientsIntoAnIntermediateAreSummedBeforeItsBackwardRuns) {
  Variable x = leaf({2});
  int calls = 0;
  Tensor seen;
  Variable h = counting_identity(x, &calls, &seen);
  Variable y = ag::sum(h * h + h);  // dy/dh = 2h + 1 = 5
  y.backward();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen.to_vector(), (std::vector<float>{5}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{5}));
}

TEST(Engine, LeafGradAccumulatesOverTwoBackwardCalls) {
  Variable x = leaf({1, 2});
  ag::sum(ag::square(x)).backward();
  ag::sum(ag::square(x)).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{4, 8}));
}

TEST(Engine, ZeroGradDropsTheGradientSoTheNextBackwardStartsFresh) {
  Variable x = leaf({1, 2});
  ag::sum(ag::square(x)).backward();
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  ag::sum(x).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1, 1}));
}

TEST(Engine, IntermediatesKeepNoGrad) {
  Variable x = leaf({1, 2});
  Variable h = ag::square(x);
  ag::sum(h).backward();
  EXPECT_FALSE(h.grad().defined());
  EXPECT_TRUE(x.grad().defined());
}

TEST(Engine, LeavesNotRequiringGradGetNone) {
  Variable x = leaf({1, 2});
  Variable c(Tensor::from_data({2}, {5, 6}));
  ag::sum(x * c).backward();
  EXPECT_FALSE(c.grad().defined());
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{5, 6}));
}

TEST(Engine, NoGradGuardRecordsNothingAndRestoresOnExit) {
  Variable x = leaf({1, 2});
  {
    NoGradGuard guard;
    EXPECT_FALSE(grad_enabled());
    Variable y = ag::square(x);
    EXPECT_TRUE(y.is_leaf());
    EXPECT_FALSE(y.requires_grad());
    EXPECT_THROW(y.backward(Tensor::ones({2})), RuntimeError);
  }
  EXPECT_TRUE(grad_enabled());
  EXPECT_FALSE(ag::square(x).is_leaf());
}

TEST(Engine, NoGradGuardIsPerThread) {
  NoGradGuard guard;
  bool other_thread_enabled = false;
  std::thread t([&] { other_thread_enabled = grad_enabled(); });
  t.join();
  EXPECT_TRUE(other_thread_enabled);
  EXPECT_FALSE(grad_enabled());
}

TEST(Engine, SecondBackwardThroughReleasedGraphThrows) {
  Variable x = leaf({1, 2});
  Variable y = ag::sum(ag::square(x));
  y.backward();
  EXPECT_TRUE(ThrowsWith<RuntimeError>([&] { y.backward(); }, {"graph has been freed", "retain_graph=true"}));
}

TEST(Engine, RetainGraphAllowsASecondBackward) {
  Variable x = leaf({1, 2});
  Variable y = ag::sum(ag::square(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{4, 8}));
}

TEST(Engine, NonScalarRootWithoutSeedThrowsRuntimeError) {
  Variable x = leaf({1, 2});
  EXPECT_THROW(ag::square(x).backward(), RuntimeError);
}

TEST(Engine, OneElementRootOfAnyRankNeedsNoSeed) {
  Variable x(Tensor::from_data({1, 1}, {3}), true);
  ag::square(x).backward();
  EXPECT_EQ(x.grad().item(), 6.f);
}

TEST(Engine, SeedShapeMismatchThrowsValueErrorNamingBothShapes) {
  Variable x(Tensor::ones({2, 3}), true);
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { ag::square(x).backward(Tensor::ones({3, 2})); }, {"(3, 2)", "(2, 3)"}));
}

TEST(Engine, SeedScalesTheGradient) {
  Variable x = leaf({1, 2});
  ag::square(x).backward(Tensor::from_data({2}, {10, -1}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{20, -4}));
}

TEST(Engine, BackwardOnARootThatDoesNotRequireGradThrows) {
  Variable c(Tensor::scalar(1));
  EXPECT_THROW(c.backward(), RuntimeError);
}

TEST(Engine, BackwardOnALeafRootSetsItsGradToTheSeed) {
  Variable x(Tensor::scalar(4), true);
  x.backward();
  EXPECT_EQ(x.grad().item(), 1.f);
}

TEST(Engine, LeafGradDoesNotAliasTheSeed) {
  Variable x = leaf({1, 2});
  Tensor seed = Tensor::from_data({2}, {1, 1});
  Variable c(Tensor::zeros({2}));
  (x + c).backward(seed);  // add passes the seed straight through to x
  ag::sum(x).backward();         // accumulates in place into x.grad
  EXPECT_EQ(seed.to_vector(), (std::vector<float>{1, 1}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{2, 2}));
}

TEST(Engine, GradReturnsGradientsAndLeavesDotGradUntouched) {
  Variable x = leaf({1, 2});
  Variable w = leaf({3, 4});
  Variable h = x * w;
  Variable y = ag::sum(ag::square(h));  // dy/dh = 2h, dy/dx = 2h w
  const auto g = grad(y, {x, h});
  EXPECT_EQ(g[0].to_vector(), (std::vector<float>{18, 64}));
  EXPECT_EQ(g[1].to_vector(), (std::vector<float>{6, 16}));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
}

TEST(Engine, GradOfAnUnrelatedInputIsUndefined) {
  Variable x = leaf({1});
  Variable z = leaf({2});
  const auto g = grad(ag::sum(ag::square(x)), {z});
  EXPECT_FALSE(g[0].defined());
}

TEST(Engine, GradWithoutRetainGraphReleasesTheGraph) {
  Variable x = leaf({1});
  Variable y = ag::sum(ag::square(x));
  grad(y, {x});
  EXPECT_THROW(grad(y, {x}), RuntimeError);
}

TEST(Engine, DeepChainOfManyAddsNeitherOverflowsNorRecurses) {
  Variable x(Tensor::scalar(1), true);
  const int depth = 50000;
  {
    Variable y = x;
    for (int i = 0; i < depth; ++i) y = y + x;
    y.backward();
  }  // the 50000-deep graph is destroyed here, too
  EXPECT_EQ(x.grad().item(), static_cast<float>(depth + 1));
}

TEST(Engine, WrongGradientShapeFromACustomBackwardIsARuntimeError) {
  Variable x = leaf({1, 2});
  Variable y = make_result(x.value().clone(), {x}, "broken", [](const Tensor&, const std::vector<bool>&) {
    return std::vector<Tensor>{Tensor::ones({3})};
  });
  EXPECT_THROW(ag::sum(y).backward(), RuntimeError);
}

// A tape entry keeps its name inline (recording allocates nothing for it):
// names up to kMaxNameLength characters are kept whole, longer ones are cut.
TEST(Engine, TapeEntryNamesAreKeptInlineAndCutWhenTooLong) {
  Variable x = leaf({1, 2});
  auto same = [](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{g}; };
  const std::string long_name = "a_tape_entry_name_longer_than_thirty_one_characters";
  Variable a = make_result(x.value().clone(), {x}, "SpatialDropout2D", same);
  Variable b = make_result(x.value().clone(), {x}, long_name, same);
  Variable c = make_result(x.value().clone(), {x}, "", same);
  EXPECT_EQ(a.grad_fn()->name(), "SpatialDropout2D");
  ASSERT_EQ(b.grad_fn()->name().size(), GradFn::kMaxNameLength);
  EXPECT_EQ(b.grad_fn()->name(), std::string_view(long_name).substr(0, GradFn::kMaxNameLength));
  EXPECT_TRUE(c.grad_fn()->name().empty());
  // The name is what errors about the entry show.
  Variable bad = make_result(x.value().clone(), {x}, "custom_op", [](const Tensor&, const std::vector<bool>&) {
    return std::vector<Tensor>{Tensor::ones({3})};
  });
  try {
    ag::sum(bad).backward();
    FAIL() << "expected a RuntimeError";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("custom_op"), std::string::npos) << e.what();
  }
}

TEST(Variable, MakeResultWithoutGradInputsIsAPlainLeaf) {
  Variable c(Tensor::ones({2}));
  Variable y = ag::square(c);
  EXPECT_TRUE(y.is_leaf());
  EXPECT_FALSE(y.requires_grad());
}

TEST(Variable, SetRequiresGradOnANonLeafThrows) {
  Variable x = leaf({1});
  Variable y = ag::square(x);
  EXPECT_THROW(y.set_requires_grad(false), RuntimeError);
  EXPECT_NO_THROW(x.set_requires_grad(false));
  EXPECT_FALSE(x.requires_grad());
}

TEST(Variable, AssignCopiesInPlaceAndRejectsAnotherShape) {
  Variable x(Tensor::zeros({2}));
  Tensor view = x.value();
  x.assign(Tensor::from_data({2}, {7, 8}));
  EXPECT_EQ(view.to_vector(), (std::vector<float>{7, 8}));
  EXPECT_THROW(x.assign(Tensor::ones({3})), ValueError);
}

TEST(Variable, UndefinedHandleThrowsInsteadOfCrashing) {
  Variable u;
  EXPECT_FALSE(u.defined());
  EXPECT_THROW(u.value(), RuntimeError);
  EXPECT_THROW(ag::square(u), RuntimeError);
  EXPECT_THROW(make_result(Tensor::ones({1}), {u}, "f", nullptr), ValueError);
}

TEST(Variable, DetachSharesTheValueButNotTheHistory) {
  Variable x = leaf({1, 2});
  Variable y = ag::square(x);
  Variable d = y.detach();
  EXPECT_TRUE(d.is_leaf());
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.value().shares_storage(y.value()));
}

TEST(Variable, SetGradStoresAPrivateCopy) {
  Variable x = leaf({1, 2});
  Tensor g = Tensor::from_data({2}, {1, 1});
  x.set_grad(g);
  ag::sum(x).backward();
  EXPECT_EQ(g.to_vector(), (std::vector<float>{1, 1}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{2, 2}));
  EXPECT_THROW(x.set_grad(Tensor::ones({3})), ValueError);
}
