// Tests for layers/activations: every Keras activation against a naive double
// formula and a finite-difference gradient check, plus identifiers and ActivationArg.
#include "layers/parts/activations.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
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

using testing::AllClose;

double sigmoid_ref(double x) { return 1 / (1 + std::exp(-x)); }
double softplus_ref(double x) { return std::log1p(std::exp(x)); }

struct Case {
  const char* name;
  std::function<double(double)> ref;
};

const std::vector<Case>& elementwise_cases() {
  static const std::vector<Case> cases = {
      {"linear", [](double x) { return x; }},
      {"relu", [](double x) { return x > 0 ? x : 0; }},
      {"sigmoid", sigmoid_ref},
      {"tanh", [](double x) { return std::tanh(x); }},
      {"elu", [](double x) { return x > 0 ? x : std::exp(x) - 1; }},
      {"selu",
       [](double x) {
         const double alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946;
         return scale * (x > 0 ? x : alpha * (std::exp(x) - 1));
       }},
      {"softplus", softplus_ref},
      {"softsign", [](double x) { return x / (1 + std::fabs(x)); }},
      {"exponential", [](double x) { return std::exp(x); }},
      {"hard_sigmoid", [](double x) { return std::clamp(0.2 * x + 0.5, 0.0, 1.0); }},
      {"swish", [](double x) { return x * sigmoid_ref(x); }},
      {"silu", [](double x) { return x * sigmoid_ref(x); }},
      {"gelu", [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }},
      {"relu6", [](double x) { return std::clamp(x, 0.0, 6.0); }},
      {"leaky_relu", [](double x) { return x > 0 ? x : 0.2 * x; }},
      {"mish", [](double x) { return x * std::tanh(softplus_ref(x)); }},
      {"hard_silu", [](double x) { return x * std::clamp(x / 6 + 0.5, 0.0, 1.0); }},
  };
  return cases;
}

// Softmax-family reference over the last axis, in double.
Tensor last_axis_ref(const Tensor& x, bool log) {
  const int64_t n = x.shape().back(), rows = x.numel() / n;
  Tensor out(x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < n; ++i) mx = std::max(mx, double(x[r * n + i]));
    for (int64_t i = 0; i < n; ++i) sum += std::exp(double(x[r * n + i]) - mx);
    for (int64_t i = 0; i < n; ++i) {
      const double z = double(x[r * n + i]) - mx;
      out[r * n + i] = static_cast<float>(log ? z - std::log(sum) : std::exp(z) / sum);
    }
  }
  return out;
}

// Values spread over [-7, 7], including 0, the hard_sigmoid corners and relu6's 6.
Tensor sweep() {
  Tensor x({5, 9});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = -7.f + 14.f * float(i) / float(x.numel() - 1);
  x[0] = 0.f, x[1] = 2.5f, x[2] = -2.5f, x[3] = 6.f, x[4] = 3.f;
  return x;
}

// Random inputs kept 0.1 away from every kink of the activations under test,
// so central differences see smooth functions.
Variable smooth_input(const Shape& shape, uint64_t seed) {
  set_random_seed(seed);
  Tensor t = Tensor::uniform(shape, -4.f, 4.f);
  const float kinks[] = {0.f, 2.5f, -2.5f, 3.f, -3.f, 6.f};
  for (float& v : t.span())
    for (float k : kinks)
      if (std::fabs(v - k) < 0.1f) v = k + 0.15f;
  return Variable(t, /*requires_grad=*/true);
}

TEST(Activations, ElementwiseValuesMatchNaiveFormulas) {
  const Tensor x = sweep();
  for (const Case& c : elementwise_cases()) {
    Tensor expected(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) expected[i] = static_cast<float>(c.ref(x[i]));
    const Variable y = (*get_activation(c.name))(Variable(x));
    EXPECT_TRUE(AllClose(y.value(), expected, 1e-6, 1e-5)) << c.name;
  }
}

TEST(Activations, SoftmaxAndLogSoftmaxUseTheLastAxis) {
  set_random_seed(5);
  const Tensor x = Tensor::normal({2, 3, 4}, 0.f, 3.f);
  EXPECT_TRUE(AllClose((*get_activation("softmax"))(Variable(x)).value(), last_axis_ref(x, false), 1e-6, 1e-5));
  EXPECT_TRUE(AllClose((*get_activation("log_softmax"))(Variable(x)).value(), last_axis_ref(x, true), 1e-5, 1e-5));
}

TEST(Activations, HardSigmoidUsesTfKeras2Slope) {
  const Variable y = activations::hard_sigmoid(Variable(Tensor::from_data({3}, {1.f, -1.f, 3.f})));
  EXPECT_NEAR(y.value()[0], 0.7f, 1e-7);
  EXPECT_NEAR(y.value()[1], 0.3f, 1e-7);
  EXPECT_EQ(y.value()[2], 1.f);
}

TEST(Activations, GeluIsTheExactErfForm) {
  const Variable y = activations::gelu(Variable(Tensor::from_data({1}, {1.f})));
  EXPECT_NEAR(y.value()[0], 0.8413447460685429, 1e-6);  // the tanh approximation gives 0.841192
}

TEST(Activations, GradientsMatchFiniteDifferences) {
  std::vector<std::string> names = {"softmax", "log_softmax"};
  for (const Case& c : elementwise_cases()) names.push_back(c.name);
  for (const std::string& name : names) {
    const auto act = get_activation(name);
    for (const Shape& shape : {Shape{3, 4}, Shape{2, 2, 3}}) {
      const Variable x = smooth_input(shape, 17);
      const auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return (*act)(v[0]); }, {x});
      EXPECT_TRUE(r.ok) << name << " " << shape_str(shape) << ": " << r.message;
    }
  }
}

TEST(Activations, SoftmaxOfScalarIsValueError) {
  EXPECT_THROW(activations::softmax(Variable(Tensor::scalar(1.f))), ValueError);
}

TEST(GetActivation, SerializesAsThePlainName) {
  for (const Case& c : elementwise_cases()) EXPECT_EQ(serialize_activation(get_activation(c.name)), json(c.name));
  EXPECT_EQ(serialize_activation(get_activation("softmax")), json("softmax"));
}

TEST(GetActivation, NullMeansLinear) {
  EXPECT_EQ(get_activation(nullptr)->name(), "linear");
  EXPECT_EQ(serialize_activation(nullptr), json("linear"));
}

TEST(GetActivation, NamesAreCaseInsensitive) { EXPECT_EQ(get_activation("ReLU")->name(), "relu"); }

TEST(GetActivation, ReadsKeras3FunctionObjects) {
  const auto act = get_activation(json::parse(
      R"({"module": "keras.activations", "class_name": "function", "config": "tanh", "registered_name": "function"})"));
  EXPECT_EQ(act->name(), "tanh");
}

TEST(GetActivation, UnknownNameListsKnownNames) {
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { get_activation("rleu"); }, {"rleu", "'relu'"}));
  EXPECT_THROW(get_activation(json(1.5)), ValueError);
}

// Options structs as layers declare them, one argument each.
struct Options {
  ActivationArg activation;
};
struct RecurrentOptions {
  ActivationArg recurrent_activation = "sigmoid";
};

TEST(ActivationArg, ConvertsFromNamesFunctionsAndObjects) {
  EXPECT_EQ(Options{}.activation.resolve(), nullptr);
  EXPECT_EQ(RecurrentOptions{}.recurrent_activation.resolve()->name(), "sigmoid");
  EXPECT_EQ(Options{.activation = "relu"}.activation.resolve()->name(), "relu");
  EXPECT_EQ(Options{.activation = std::string("elu")}.activation.resolve()->name(), "elu");
  EXPECT_EQ(Options{.activation = nullptr}.activation.resolve(), nullptr);
  EXPECT_THROW(Options{.activation = "nope"}.activation.resolve(), ValueError);

  const auto twice = [](const Variable& x) { return x * 2.f; };
  const auto lambda = Options{.activation = twice}.activation.resolve();
  EXPECT_EQ(serialize_activation(lambda), json("custom"));
  EXPECT_EQ((*lambda)(Variable(Tensor::from_data({1}, {3.f}))).value()[0], 6.f);
  EXPECT_EQ(Options{.activation = ActivationFn(twice)}.activation.resolve()->name(), "custom");
  EXPECT_EQ(Options{.activation = Activation("double_it", twice)}.activation.resolve()->name(), "double_it");
  EXPECT_EQ(Options{.activation = get_activation("selu")}.activation.resolve()->name(), "selu");
}

TEST(Activation, EmptyFunctionIsValueError) { EXPECT_THROW(Activation("x", ActivationFn()), ValueError); }

}  // namespace
}  // namespace minidl
