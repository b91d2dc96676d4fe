// Tests for layers/merge: the element-wise merges and Concatenate — shapes and
// nodes, values against double loops, broadcasting, gradients, masks, configs
// and errors.
#include "layers/merge/merge.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

#include "autograd/functions.h"
#include "layers/base/input_layer.h"
#include "support/assertions.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

std::vector<Variable> three_inputs(const Shape& s, bool grad = false) {
  return {Variable(random_tensor(s, 1), grad), Variable(random_tensor(s, 2), grad),
          Variable(random_tensor(s, 3), grad)};
}

// out[i] = f(x0[i], x1[i], ...) in double.
Tensor naive_fold(const std::vector<Variable>& xs, const std::function<double(const std::vector<double>&)>& f) {
  Tensor out(xs[0].shape());
  for (int64_t i = 0; i < out.numel(); ++i) {
    std::vector<double> v;
    for (const auto& x : xs) v.push_back(x.value()[i]);
    out[i] = static_cast<float>(f(v));
  }
  return out;
}

double sum_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

TEST(Merge, AddSumsEveryInput) {
  const auto xs = three_inputs({2, 3, 4});
  EXPECT_TRUE(testing::AllClose(Add()(xs)[0].value(), naive_fold(xs, sum_of)));
}

TEST(Merge, SubtractTakesTheDifference) {
  const auto xs = three_inputs({3, 5});
  const std::vector<Variable> two{xs[0], xs[1]};
  EXPECT_TRUE(testing::AllClose(Subtract()(two)[0].value(),
                                naive_fold(two, [](const std::vector<double>& v) { return v[0] - v[1]; })));
}

TEST(Merge, MultiplyTakesTheProduct) {
  const auto xs = three_inputs({4, 3});
  EXPECT_TRUE(testing::AllClose(Multiply()(xs)[0].value(),
                                naive_fold(xs, [](const std::vector<double>& v) { return v[0] * v[1] * v[2]; })));
}

TEST(Merge, AverageDividesTheSumByTheInputCount) {
  const auto xs = three_inputs({4, 3});
  EXPECT_TRUE(testing::AllClose(Average()(xs)[0].value(),
                                naive_fold(xs, [](const std::vector<double>& v) { return sum_of(v) / 3; })));
}

TEST(Merge, MaximumAndMinimumAreElementWise) {
  const auto xs = three_inputs({5, 2});
  EXPECT_TRUE(testing::AllClose(Maximum()(xs)[0].value(), naive_fold(xs, [](const std::vector<double>& v) {
                                  return *std::max_element(v.begin(), v.end());
                                })));
  EXPECT_TRUE(testing::AllClose(Minimum()(xs)[0].value(), naive_fold(xs, [](const std::vector<double>& v) {
                                  return *std::min_element(v.begin(), v.end());
                                })));
}

TEST(Merge, SizeOneAxesBroadcast) {
  const Variable a(random_tensor({2, 1, 4}, 4)), b(random_tensor({2, 3, 4}, 5));
  EXPECT_EQ(Add()->compute_output_shape({{kNone, 1, 4}, {kNone, 3, 4}})[0], (Shape{kNone, 3, 4}));
  const Tensor y = Add()({a, b}).value();
  ASSERT_EQ(y.shape(), (Shape{2, 3, 4}));
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t t = 0; t < 3; ++t)
      for (int64_t c = 0; c < 4; ++c)
        EXPECT_NEAR(y.at({n, t, c}), double(a.value().at({n, 0, c})) + b.value().at({n, t, c}), 1e-6);
}

TEST(Merge, SymbolicCallRecordsOneNodeWithSeveralInboundLayers) {
  reset_layer_names();
  KerasTensor a = Input({8}), b = Input({8});
  auto add = Add();
  KerasTensor y = add({a, b});
  EXPECT_EQ(y.shape(), (Shape{kNone, 8}));
  EXPECT_EQ(add->name(), "add");
  ASSERT_EQ(add->inbound_nodes().size(), 1u);
  EXPECT_EQ(add->inbound_nodes()[0]->inbound_layers().size(), 2u);
  EXPECT_EQ(add->get_input_shapes_at(0).size(), 2u);
}

TEST(Merge, NoneMergesToNone) {
  EXPECT_EQ(Multiply()->compute_output_shape({{kNone, kNone, 3}, {kNone, 5, 3}})[0], (Shape{kNone, kNone, 3}));
  EXPECT_EQ(Multiply()->compute_output_shape({{4, 3}, {kNone, 3}})[0], (Shape{4, 3}));
}

TEST(Merge, GradcheckEveryElementWiseMerge) {
  const std::vector<std::pair<const char*, LayerPtr>> layers = {
      {"Add", Add()}, {"Multiply", Multiply()}, {"Average", Average()}, {"Maximum", Maximum()}, {"Minimum", Minimum()}};
  for (const auto& [name, layer] : layers) {
    // Values 0.1 apart at least, so max/min never switch within the step.
    auto xs = three_inputs({2, 3}, true);
    for (size_t k = 0; k < xs.size(); ++k)
      for (int64_t i = 0; i < 6; ++i)
        xs[k].mutable_value()[i] = 0.3f * float(k) + 0.9f * float((i * 7 + k * 3) % 5) - 1.f;
    auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return (*layer)(v)[0]; }, xs);
    EXPECT_TRUE(r.ok) << name << ": " << r.message;
  }
}

TEST(Merge, GradcheckSubtractAndBroadcastAdd) {
  Variable a(random_tensor({2, 1, 3}, 6), true), b(random_tensor({2, 4, 3}, 7), true);
  auto sub = Subtract();
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return sub(v)[0]; }, {a, b});
  EXPECT_TRUE(r.ok) << r.message;
  auto add = Add();
  r = autograd::gradcheck([&](const std::vector<Variable>& v) { return add(v)[0]; }, {a, b});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Merge, MasksAreAnded) {
  const auto xs = three_inputs({2, 3});
  std::vector<Tensor> out;
  CallArgs args{.masks = {Tensor::from_data({2}, {1, 1}), Tensor(), Tensor::from_data({2}, {1, 0})}};
  Add()->call_with_masks(xs, args, &out);
  ASSERT_TRUE(out[0].defined());
  EXPECT_EQ(out[0].to_vector(), (std::vector<float>{1, 0}));
  Add()->call_with_masks(xs, {}, &out);
  EXPECT_FALSE(out[0].defined());
}

TEST(Merge, ElementWiseConfigsRoundTrip) {
  for (const LayerPtr& l : std::vector<LayerPtr>{Add(), Subtract(), Multiply(), Average(), Maximum(), Minimum()})
    EXPECT_TRUE(RoundTrips(*l)) << l->class_name();
}

TEST(Merge, RejectsIncompatibleShapes) {
  auto add = Add({.name = "sum"});
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        add({Input({3}), Input({4})});
      },
      {"sum", "Inputs have incompatible shapes", "(None, 3)", "(None, 4)"}));
  EXPECT_THROW(Add()({Input({3}), Input({2, 3})}), ValueError);  // ranks differ
}

TEST(Merge, RejectsDifferentBatchSizes) {
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] {
        Maximum()(std::vector<Variable>{Variable(Tensor::zeros({2, 3})), Variable(Tensor::zeros({4, 3}))});
      },
      {"different batch sizes", "(2, 3)", "(4, 3)"}));
}

TEST(Merge, SubtractNeedsExactlyTwoInputs) {
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] {
        Subtract({.name = "sub"})({Input({2}), Input({2}), Input({2})});
      },
      {"sub", "exactly 2 inputs"}));
  // Concrete inputs of one shape take call()'s short path, which must still count them.
  EXPECT_TRUE(ThrowsWith<ValueError>([] { Subtract({.name = "sub2"})(three_inputs({2, 3})); },
                                     {"sub2", "exactly 2 inputs"}));
}

// More inputs than the fused sum keeps on the stack (8): the same sums, and
// every input receives the gradient (scaled by 1/n for Average).
TEST(Merge, AddAndAverageOfManyInputs) {
  std::vector<Variable> xs;
  for (int i = 0; i < 11; ++i) xs.emplace_back(random_tensor({2, 5}, 20 + i), true);
  EXPECT_TRUE(testing::AllClose(Add()(xs)[0].value(), naive_fold(xs, sum_of)));
  const Variable avg = Average()(xs)[0];
  EXPECT_TRUE(testing::AllClose(avg.value(), naive_fold(xs, [](const std::vector<double>& v) {
                                  return sum_of(v) / static_cast<double>(v.size());
                                })));
  autograd::sum(avg).backward();
  for (const auto& x : xs) EXPECT_TRUE(testing::AllClose(x.grad(), Tensor::full({2, 5}, 1.f / 11)));
}

// --- Concatenate -------------------------------------------------------------------

TEST(Concatenate, OutputShapeAddsAlongAxis) {
  auto c = Concatenate();
  EXPECT_EQ(c->compute_output_shape({{kNone, 3}, {kNone, 5}})[0], (Shape{kNone, 8}));
  EXPECT_EQ(Concatenate({.axis = 1})->compute_output_shape({{kNone, 2, 4}, {kNone, kNone, 4}})[0],
            (Shape{kNone, kNone, 4}));
  EXPECT_EQ(Concatenate({.axis = 1})({Input({2, 4}), Input({3, 4})}).shape(), (Shape{kNone, 5, 4}));
}

TEST(Concatenate, MatchesNaiveOnAMiddleAxis) {
  const Tensor a = random_tensor({2, 2, 3}, 8), b = random_tensor({2, 4, 3}, 9);
  const Tensor y = Concatenate({.axis = -2})(std::vector<Variable>{Variable(a), Variable(b)})[0].value();
  ASSERT_EQ(y.shape(), (Shape{2, 6, 3}));
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t t = 0; t < 6; ++t)
      for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(y.at({n, t, c}), t < 2 ? a.at({n, t, c}) : b.at({n, t - 2, c}));
}

TEST(Concatenate, Gradcheck) {
  Variable a(random_tensor({2, 3}, 10), true), b(random_tensor({2, 2}, 11), true);
  auto c = Concatenate();
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return c(v)[0]; }, {a, b});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Concatenate, MasksJoinAlongTimeAndAndAlongFeatures) {
  const std::vector<Variable> xs{Variable(Tensor::zeros({1, 2, 3})), Variable(Tensor::zeros({1, 3, 3}))};
  CallArgs args{.masks = {Tensor::from_data({1, 2}, {1, 0}), Tensor()}};
  std::vector<Tensor> out;
  Concatenate({.axis = 1})->call_with_masks(xs, args, &out);
  EXPECT_EQ(out[0].shape(), (Shape{1, 5}));
  EXPECT_EQ(out[0].to_vector(), (std::vector<float>{1, 0, 1, 1, 1}));  // no mask = all kept

  const std::vector<Variable> ys{Variable(Tensor::zeros({1, 3, 2})), Variable(Tensor::zeros({1, 3, 4}))};
  CallArgs args2{.masks = {Tensor::from_data({1, 3}, {1, 0, 1}), Tensor::from_data({1, 3}, {1, 1, 0})}};
  Concatenate()->call_with_masks(ys, args2, &out);
  EXPECT_EQ(out[0].to_vector(), (std::vector<float>{1, 0, 0}));
}

TEST(Concatenate, ConfigRoundTripsAxis) {
  auto c = Concatenate({.axis = 1});
  EXPECT_EQ(c->get_config()["axis"], 1);
  EXPECT_TRUE(RoundTrips(*c));
}

TEST(Concatenate, RejectsMismatchedNonAxisDimensions) {
  auto c = Concatenate({.name = "cat"});
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [&] {
        c({Input({2, 3}), Input({4, 3})});
      },
      {"cat", "matching shapes except for the concat", "(None, 2, 3)", "(None, 4, 3)"}));
  EXPECT_THROW(Concatenate()({Input({3}), Input({2, 3})}), ValueError);
  EXPECT_THROW(Concatenate({.axis = 3})({Input({3}), Input({3})}), ValueError);
}

}  // namespace
}  // namespace minidl
