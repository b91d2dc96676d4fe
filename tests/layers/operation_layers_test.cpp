// tests/layers/operation_layers_test.cpp — layers/merge/operation_layers: Keras 3's binary operations as
// layers. Values against double loops (tensor and constant arguments, NumPy broadcasting), symbolic
// shapes with None, gradients by finite differences, Keras's broadcast error, configs and the
// positional arguments read from a Keras call.
#include "layers/merge/operation_layers.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>

#include "autograd/gradcheck.h"
#include "layers/base/input_layer.h"
#include "support/assertions.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

const std::vector<OperationKind> kEveryKind = {OperationKind::kAdd,        OperationKind::kSubtract,
                                               OperationKind::kMultiply,   OperationKind::kDivide,
                                               OperationKind::kTrueDivide, OperationKind::kMaximum,
                                               OperationKind::kMinimum,    OperationKind::kPower};

double naive(OperationKind kind, double a, double b) {
  switch (kind) {
    case OperationKind::kAdd: return a + b;
    case OperationKind::kSubtract: return a - b;
    case OperationKind::kMultiply: return a * b;
    case OperationKind::kDivide:
    case OperationKind::kTrueDivide: return a / b;
    case OperationKind::kMaximum: return a > b ? a : b;
    case OperationKind::kMinimum: return a < b ? a : b;
    case OperationKind::kPower: return std::pow(a, b);
  }
  return NAN;
}

// Positive values in [0.5, 1.5): Power and Divide stay finite and smooth.
Tensor positive_tensor(const Shape& s, uint64_t seed) {
  Tensor t = random_tensor(s, seed);
  for (float& v : t.span()) v = 1.f + 0.5f * v;
  return t;
}

// a (rank 4, NHWC) op b where b's size-1 axes broadcast, in double with explicit indices.
Tensor naive_nhwc(OperationKind kind, const Tensor& a, const Tensor& b) {
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  Shape out_shape(4);
  for (size_t i = 0; i < 4; ++i) out_shape[i] = std::max(sa[i], sb[i]);
  Tensor out(out_shape);
  for (int64_t n = 0; n < out_shape[0]; ++n)
    for (int64_t h = 0; h < out_shape[1]; ++h)
      for (int64_t w = 0; w < out_shape[2]; ++w)
        for (int64_t c = 0; c < out_shape[3]; ++c) {
          auto pick = [&](const Tensor& t, const Shape& s) {
            return double(t.at({s[0] == 1 ? 0 : n, s[1] == 1 ? 0 : h, s[2] == 1 ? 0 : w, s[3] == 1 ? 0 : c}));
          };
          out.at({n, h, w, c}) = static_cast<float>(naive(kind, pick(a, sa), pick(b, sb)));
        }
  return out;
}

std::shared_ptr<OperationImpl> with_constant(OperationKind kind, std::optional<Tensor> first,
                                             std::optional<Tensor> second) {
  return std::make_shared<OperationImpl>(kind, std::vector<std::optional<Tensor>>{first, second});
}

TEST(OperationLayers, EveryKindMatchesADoubleLoopOnTwoTensors) {
  const Variable a(positive_tensor({2, 3, 4, 5}, 1)), b(positive_tensor({2, 3, 4, 5}, 2));
  for (OperationKind kind : kEveryKind) {
    auto op = std::make_shared<OperationImpl>(kind);
    EXPECT_EQ(op->tensor_count(), 2u);
    const Tensor y = (*op)({a, b}).value();
    EXPECT_TRUE(AllClose(y, naive_nhwc(kind, a.value(), b.value()))) << operation_class_name(kind);
  }
}

TEST(OperationLayers, SqueezeExciteShapesBroadcast) {
  // (N, 1, 1, C) * (N, H, W, C) and the other way round, for every kind.
  const Variable gate(positive_tensor({2, 1, 1, 6}, 3)), x(positive_tensor({2, 4, 5, 6}, 4));
  for (OperationKind kind : kEveryKind) {
    auto op = std::make_shared<OperationImpl>(kind);
    EXPECT_TRUE(AllClose((*op)({x, gate}).value(), naive_nhwc(kind, x.value(), gate.value())))
        << operation_class_name(kind);
    EXPECT_TRUE(AllClose((*op)({gate, x}).value(), naive_nhwc(kind, gate.value(), x.value())))
        << operation_class_name(kind);
  }
}

TEST(OperationLayers, ScalarConstantOnEitherSide) {
  const Variable x(positive_tensor({2, 2, 3, 4}, 5));
  const Tensor three = Tensor::full({1, 1, 1, 1}, 3.f);
  for (OperationKind kind : kEveryKind) {
    auto right = with_constant(kind, std::nullopt, Tensor::scalar(3.f));  // x op 3
    auto left = with_constant(kind, Tensor::scalar(3.f), std::nullopt);   // 3 op x
    EXPECT_EQ(right->tensor_count(), 1u);
    EXPECT_TRUE(AllClose((*right)(x).value(), naive_nhwc(kind, x.value(), three))) << operation_class_name(kind);
    EXPECT_TRUE(AllClose((*left)(x).value(), naive_nhwc(kind, three, x.value()))) << operation_class_name(kind);
  }
}

TEST(OperationLayers, ArrayConstantBroadcastsOverTheLastAxis) {
  const Variable x(positive_tensor({2, 3, 2, 4}, 6));
  const Tensor per_channel = Tensor::from_data({4}, {0.5f, 1.f, 2.f, 4.f});
  auto op = with_constant(OperationKind::kMultiply, std::nullopt, per_channel);
  const Tensor y = (*op)(x).value();
  Tensor reshaped = Tensor::from_data({1, 1, 1, 4}, {0.5f, 1.f, 2.f, 4.f});
  EXPECT_TRUE(AllClose(y, naive_nhwc(OperationKind::kMultiply, x.value(), reshaped)));
  EXPECT_EQ(op->compute_output_shape({{kNone, 7, 7, 4}})[0], (Shape{kNone, 7, 7, 4}));
}

TEST(OperationLayers, SymbolicShapesFollowKerasBroadcastWithNone) {
  auto op = std::make_shared<OperationImpl>(OperationKind::kMultiply);
  EXPECT_EQ(op->compute_output_shape({{kNone, 1, 1, 16}, {kNone, 8, 8, 16}})[0], (Shape{kNone, 8, 8, 16}));
  EXPECT_EQ(op->compute_output_shape({{kNone, kNone, 3}, {kNone, 5, 3}})[0], (Shape{kNone, 5, 3}));
  EXPECT_EQ(op->compute_output_shape({{kNone, 1}, {kNone, kNone}})[0], (Shape{kNone, kNone}));
  EXPECT_EQ(op->compute_output_shape({{3}, {kNone, 2, 3}})[0], (Shape{kNone, 2, 3}));
}

TEST(OperationLayers, KerasOpsRecordOneNodePerOperation) {
  reset_layer_names();
  KerasTensor x = Input({8, 8, 16});
  KerasTensor s = keras_ops::multiply(keras_ops::add(x, 3.0), 1.0 / 6);
  EXPECT_EQ(s.shape(), (Shape{kNone, 8, 8, 16}));
  auto mul = std::dynamic_pointer_cast<OperationImpl>(s.layer());
  ASSERT_TRUE(mul);
  EXPECT_EQ(mul->class_name(), "Multiply");
  EXPECT_EQ(mul->name(), "multiply");
  ASSERT_EQ(mul->inbound_nodes().size(), 1u);
  auto add = std::dynamic_pointer_cast<OperationImpl>(mul->inbound_nodes()[0]->inbound_layers().at(0));
  ASSERT_TRUE(add);
  EXPECT_EQ(add->name(), "add");
  const auto args = add->positional_args();
  ASSERT_EQ(args.size(), 2u);
  EXPECT_FALSE(args[0].has_value());
  ASSERT_TRUE(args[1].has_value());
  EXPECT_EQ(*args[1], json(3.0));
  KerasTensor y = keras_ops::subtract(1, x);  // a constant first
  EXPECT_EQ(y.shape(), (Shape{kNone, 8, 8, 16}));
}

TEST(OperationLayers, GradcheckTwoTensorsWithBroadcast) {
  for (OperationKind kind : kEveryKind) {
    Variable a(positive_tensor({2, 1, 3}, 7), true), b(positive_tensor({2, 4, 3}, 8), true);
    if (kind == OperationKind::kMaximum || kind == OperationKind::kMinimum) {
      // Values apart by more than the step, so the winner never switches within it.
      for (int64_t i = 0; i < b.value().numel(); ++i) b.mutable_value()[i] = 0.3f * float(i % 7) - 0.2f;
    }
    auto op = std::make_shared<OperationImpl>(kind);
    auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return (*op)(v)[0]; }, {a, b});
    EXPECT_TRUE(r.ok) << operation_class_name(kind) << ": " << r.message;
  }
}

TEST(OperationLayers, GradcheckWithAConstantAndNoGradientToIt) {
  for (OperationKind kind : kEveryKind) {
    Variable x(positive_tensor({2, 3, 2}, 9), true);
    auto right = with_constant(kind, std::nullopt, Tensor::from_data({2}, {0.25f, 2.f}));
    auto left = with_constant(kind, Tensor::scalar(1.75f), std::nullopt);
    auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return (*right)(v[0]); }, {x});
    EXPECT_TRUE(r.ok) << operation_class_name(kind) << " (x op c): " << r.message;
    r = autograd::gradcheck([&](const std::vector<Variable>& v) { return (*left)(v[0]); }, {x});
    EXPECT_TRUE(r.ok) << operation_class_name(kind) << " (c op x): " << r.message;
  }
}

TEST(OperationLayers, ShapesThatDoNotBroadcastAreAValueErrorNamingTheLayer) {
  reset_layer_names();
  KerasTensor a = Input({4}), b = Input({3});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { keras_ops::multiply(a, b); },
                                     {"Multiply 'multiply'", "Cannot broadcast shape", "(None, 4)", "(None, 3)"}));
  auto op = std::make_shared<OperationImpl>(OperationKind::kTrueDivide, "ratio");
  const Variable x(Tensor::ones({2, 4})), y(Tensor::ones({2, 3}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { (*op)({x, y}); }, {"TrueDivide 'ratio'", "(2, 4)", "(2, 3)"}));
  auto c = with_constant(OperationKind::kAdd, std::nullopt, Tensor::ones({5}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { c->compute_output_shape({{kNone, 4}}); }, {"Add '", "(None, 4)", "(5,)"}));
}

TEST(OperationLayers, ArgumentsMustBeTwoWithATensor) {
  EXPECT_TRUE(ThrowsWith<ValueError>([] { with_constant(OperationKind::kAdd, Tensor::scalar(1), Tensor::scalar(2)); },
                                     {"Add '", "at least one argument must be a tensor"}));
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { OperationImpl(OperationKind::kAdd, std::vector<std::optional<Tensor>>(3)); }, {"exactly 2"}));
  auto op = std::make_shared<OperationImpl>(OperationKind::kAdd);
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { (*op)(Variable(Tensor::ones({2}))); }, {"expected 2 tensor argument"}));
}

TEST(OperationLayers, ConfigIsTheNameOnly) {
  auto op = with_constant(OperationKind::kPower, std::nullopt, Tensor::scalar(2.f));
  const json c = op->get_config();
  EXPECT_EQ(c, json({{"name", op->name()}}));
  auto back = OperationImpl::from_config(OperationKind::kPower, c);
  EXPECT_EQ(back->name(), op->name());
  EXPECT_EQ(back->class_name(), "Power");
  EXPECT_EQ(back->tensor_count(), 2u);  // constants come from the call, not the config
  EXPECT_TRUE(ThrowsWith<ValueError>(
      [] { OperationImpl::from_config(OperationKind::kAdd, {{"name", "a"}, {"axis", 1}}); }, {"axis"}));
}

TEST(OperationLayers, PositionalArgumentsReadKerasConstants) {
  auto op = OperationImpl::from_config(OperationKind::kMultiply, {{"name", "scale"}});
  const json numpy = {{"class_name", "__numpy__"},
                      {"config", {{"value", json::array({json::array({1.0, 2.0}), json::array({3.0, 4.0})})},
                                  {"dtype", "float32"}}}};
  op->set_positional_args({numpy, std::nullopt});
  EXPECT_EQ(op->tensor_count(), 1u);
  const Variable x(Tensor::from_data({2, 2}, {1.f, 10.f, 100.f, 1000.f}));
  EXPECT_TRUE(AllClose((*op)(x).value(), Tensor::from_data({2, 2}, {1.f, 20.f, 300.f, 4000.f})));
  EXPECT_EQ(op->positional_args()[0].value(), numpy);  // written back as read
  // A second call with the same constants is fine; other constants are not.
  op->set_positional_args({numpy, std::nullopt});
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { op->set_positional_args({std::nullopt, json(2.0)}); },
                                     {"Multiply 'scale'", "different arguments"}));
}

TEST(OperationLayers, UnreadableConstantsAreValueErrors) {
  auto fresh = [] { return OperationImpl::from_config(OperationKind::kAdd, {{"name", "a"}}); };
  const json ragged = {{"class_name", "__numpy__"},
                       {"config", {{"value", json::array({json::array({1.0, 2.0}), json::array({3.0})})},
                                   {"dtype", "float32"}}}};
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { fresh()->set_positional_args({std::nullopt, ragged}); },
                                     {"Add 'a'", "cannot read the constant argument", "rows of different lengths"}));
  const json text = {{"class_name", "__numpy__"}, {"config", {{"value", json::array({1.0})}, {"dtype", "str"}}}};
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { fresh()->set_positional_args({std::nullopt, text}); }, {"dtype"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { fresh()->set_positional_args({std::nullopt, json("three")}); },
                                     {"cannot read the constant argument"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { fresh()->set_positional_args({json(1.0), json(2.0)}); },
                                     {"at least one argument must be a tensor"}));
}

TEST(OperationLayers, MasksAreNotPropagated) {
  auto op = std::make_shared<OperationImpl>(OperationKind::kAdd);
  const Variable a(Tensor::ones({2, 3})), b(Tensor::ones({2, 3}));
  std::vector<Tensor> out_masks;
  CallArgs args;
  args.masks = {Tensor::ones({2}), Tensor::ones({2})};
  op->call_with_masks({a, b}, args, &out_masks);
  for (const auto& m : out_masks) EXPECT_FALSE(m.defined());
}

}  // namespace
}  // namespace minidl
