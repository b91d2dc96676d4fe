// Tests for layers/conv/conv2d: options, shapes (symbolic and concrete), weights,
// regularizer losses, the Keras config, and every error case.
#include "layers/conv/conv2d.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "layers/base/functional.h"
#include "layers/base/input_layer.h"
#include "layers/base/registry.h"
#include "support/files.h"

namespace minidl {
namespace {

using ::testing::HasSubstr;

// Points KERAS_HOME at a fresh empty directory for the test's lifetime, so a
// keras.json on the machine cannot change the default data_format.
class ScopedKerasHome {
 public:
  ScopedKerasHome() : dir_(testing::temp_dir() / "keras_home") {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    if (const char* old = std::getenv("KERAS_HOME")) old_ = old;
    setenv("KERAS_HOME", dir_.c_str(), 1);
  }
  ~ScopedKerasHome() {
    if (old_) {
      setenv("KERAS_HOME", old_->c_str(), 1);
    } else {
      unsetenv("KERAS_HOME");
    }
  }
  ScopedKerasHome(const ScopedKerasHome&) = delete;
  ScopedKerasHome& operator=(const ScopedKerasHome&) = delete;

  void write_config(const std::string& text) const { std::ofstream(dir_ / "keras.json") << text; }

 private:
  std::filesystem::path dir_;
  std::optional<std::string> old_;
};

// Runs f, expecting a ValueError whose message contains every part.
template <class F>
void expect_value_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected a ValueError containing '" << parts.at(0) << "'";
  } catch (const ValueError& e) {
    for (const auto& p : parts) EXPECT_THAT(e.what(), HasSubstr(p));
  }
}

// --- options and shapes ------------------------------------------------------

TEST(Conv2D, OptionsReadLikeKeras) {
  auto a = Conv2D(32, 3, {.strides = 2, .padding = "same", .activation = "relu"});
  EXPECT_EQ(a->filters(), 32);
  EXPECT_EQ(a->kernel_size(), IntPair(3, 3));
  EXPECT_EQ(a->strides(), IntPair(2, 2));
  EXPECT_EQ(a->padding(), "same");
  EXPECT_EQ(a->data_format(), image_data_format());
  EXPECT_EQ(a->activation()->name(), "relu");
  auto b = Conv2D(16, {3, 5}, {.kernel_regularizer = L2(1e-4)});
  EXPECT_EQ(b->kernel_size(), IntPair(3, 5));
  EXPECT_EQ(b->activation()->name(), "linear");
  EXPECT_EQ(b->get_config()["kernel_regularizer"]["class_name"], "L2");
}

TEST(Conv2D, PaddingAndDataFormatAreCaseInsensitive) {
  auto c = Conv2D(1, 1, {.padding = "SAME", .data_format = "Channels_First"});
  EXPECT_EQ(c->padding(), "same");
  EXPECT_EQ(c->data_format(), "channels_first");
}

TEST(Conv2D, SymbolicCallGivesKerasOutputShape) {
  auto conv = Conv2D(32, 3, {.strides = 2, .padding = "same", .data_format = "channels_last"});
  KerasTensor y = conv(Input({28, 28, 1}));
  EXPECT_EQ(y.shape(), (Shape{kNone, 14, 14, 32}));
  EXPECT_EQ(conv->get_output_shape_at(0), (Shape{kNone, 14, 14, 32}));
  KerasTensor z = Conv2D(8, {3, 5}, {.data_format = "channels_last"})(y);  // valid: 14-2, 14-4
  EXPECT_EQ(z.shape(), (Shape{kNone, 12, 10, 8}));
}

TEST(Conv2D, ValidAndSameOutputLengths) {
  // valid ceil((in - (k-1)d) / s), same ceil(in / s), checked against the formulas by hand.
  auto v = Conv2D(2, {3, 2}, {.strides = {2, 3}, .data_format = "channels_last"});
  EXPECT_EQ(v->compute_output_shape({{4, 9, 11, 1}})[0], (Shape{4, 4, 4, 2}));  // (9-2)/2 -> 4, (11-1)/3 -> 4
  auto d = Conv2D(2, 3, {.data_format = "channels_last", .dilation_rate = 2});
  EXPECT_EQ(d->compute_output_shape({{1, 5, 7, 1}})[0], (Shape{1, 1, 3, 2}));  // 5-4, 7-4
  auto s = Conv2D(2, 5, {.strides = 3, .padding = "same", .data_format = "channels_last"});
  EXPECT_EQ(s->compute_output_shape({{1, 2, 7, 1}})[0], (Shape{1, 1, 3, 2}));  // input smaller than kernel is fine
}

TEST(Conv2D, UnknownSpatialDimsStayUnknown) {
  auto conv = Conv2D(8, 3, {.data_format = "channels_last"});
  EXPECT_EQ(conv(Input({kNone, kNone, 3})).shape(), (Shape{kNone, kNone, kNone, 8}));
}

TEST(Conv2D, ChannelsFirstShapesAndKernelLayout) {
  auto conv = Conv2D(8, {3, 2}, {.data_format = "channels_first", .groups = 2});
  EXPECT_EQ(conv(Input({4, 10, 9})).shape(), (Shape{kNone, 8, 8, 8}));
  EXPECT_EQ(conv->kernel().shape(), (Shape{3, 2, 2, 8}));  // (kh, kw, in/groups, filters) whatever the layout
  EXPECT_EQ(conv->bias().shape(), Shape{8});
}

TEST(Conv2D, WeightsAreNamedKernelAndBias) {
  auto conv = Conv2D(4, 3, {.data_format = "channels_last", .name = "c"});
  conv(Input({5, 5, 2}));
  ASSERT_EQ(conv->own_weights().size(), 2u);
  EXPECT_EQ(conv->own_weights()[0].name, "kernel");
  EXPECT_EQ(conv->own_weights()[1].name, "bias");
  EXPECT_EQ(conv->kernel().name(), "c/kernel:0");
  EXPECT_EQ(conv->count_params(), 3 * 3 * 2 * 4 + 4);
  auto nb = Conv2D(4, 3, {.data_format = "channels_last", .use_bias = false});
  nb(Input({5, 5, 2}));
  EXPECT_EQ(nb->weights().size(), 1u);
  EXPECT_THROW(nb->bias(), RuntimeError);
}

TEST(Conv2D, ConstraintsAreStoredOnTheWeights) {
  auto conv = Conv2D(2, 1, {.kernel_constraint = MaxNorm(2.0, {0, 1, 2}), .bias_constraint = "non_neg"});
  conv(Input({3, 3, 1}));
  ASSERT_TRUE(conv->own_weights()[0].constraint);
  EXPECT_EQ(conv->own_weights()[0].constraint->class_name(), "MaxNorm");
  EXPECT_EQ(conv->own_weights()[1].constraint->class_name(), "NonNeg");
}

// --- regularizers --------------------------------------------------------------

// x = [1, 3] (two 1x1 one-channel images), kernel [1, -2], bias [0.5, -0.5]:
// y = [[1.5, -2.5], [3.5, -6.5]], sum|y| = 14.
TEST(Conv2D, RegularizerLossesAndGradientsMatchHandComputedValues) {
  auto conv = Conv2D(2, 1,
                     {.data_format = "channels_last",
                      .kernel_regularizer = L2(0.01),
                      .bias_regularizer = L1(0.1),
                      .activity_regularizer = L1(0.05)});
  conv->maybe_build({{kNone, 1, 1, 1}});
  conv->set_weights({Tensor::from_data({1, 1, 1, 2}, {1.f, -2.f}), Tensor::from_data({2}, {0.5f, -0.5f})});
  conv(Variable(Tensor::from_data({2, 1, 1, 1}, {1.f, 3.f})));
  const std::vector<Variable> losses = conv->losses();
  ASSERT_EQ(losses.size(), 3u);                             // kernel, bias, then activity
  EXPECT_NEAR(losses[0].value().item(), 0.01 * 5, 1e-7);    // 0.01 * (1 + 4)
  EXPECT_NEAR(losses[1].value().item(), 0.1 * 1, 1e-7);     // 0.1 * (0.5 + 0.5)
  EXPECT_NEAR(losses[2].value().item(), 0.05 * 14 / 2, 1e-6);  // divided by the batch size
  const Variable total = losses[0] + losses[1] + losses[2];
  const auto g = grad(total, {conv->kernel(), conv->bias()});
  // dkernel = 2 * 0.01 * k + 0.05/2 * sum_n sign(y[n, f]) x[n] = [0.02 + 0.1, -0.04 - 0.1]
  EXPECT_NEAR(g[0][0], 0.12, 1e-6);
  EXPECT_NEAR(g[0][1], -0.14, 1e-6);
  // dbias = 0.1 * sign(b) + 0.05/2 * sum_n sign(y[n, f]) = [0.1 + 0.05, -0.1 - 0.05]
  EXPECT_NEAR(g[1][0], 0.15, 1e-6);
  EXPECT_NEAR(g[1][1], -0.15, 1e-6);
}

// --- config --------------------------------------------------------------------

TEST(Conv2D, DefaultConfigHasKerasKeysAndValues) {
  reset_layer_names();
  auto conv = Conv2D(8, 3);
  json c = conv->get_config();
  EXPECT_EQ(c["data_format"], image_data_format());  // channels_last unless keras.json says otherwise
  c["data_format"] = "channels_last";
  const json expected = json::parse(R"({
    "name": "conv2d", "trainable": true, "dtype": "float32", "filters": 8, "kernel_size": [3, 3],
    "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1],
    "groups": 1, "activation": "linear", "use_bias": true,
    "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
    "bias_initializer": {"class_name": "Zeros", "config": {}},
    "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
    "kernel_constraint": null, "bias_constraint": null})");
  EXPECT_EQ(c, expected) << c.dump(1);
}

// The config tf.keras 2.4 wrote for conformance case conv_010, read and written back unchanged.
TEST(Conv2D, KerasConfigRoundTripsExactly) {
  const json keras = json::parse(R"({"name": "conv2d_1", "trainable": true, "batch_input_shape": [null, 7, 5, 3],
    "dtype": "float32", "filters": 6, "kernel_size": [1, 4], "strides": [2, 3], "padding": "valid",
    "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 3, "activation": "tanh", "use_bias": true,
    "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
    "bias_initializer": {"class_name": "Zeros", "config": {}},
    "kernel_regularizer": {"class_name": "L1", "config": {"l1": 0.009999999776482582}},
    "bias_regularizer": {"class_name": "L1L2", "config": {"l1": 0.05000000074505806, "l2": 0.10000000149011612}},
    "activity_regularizer": {"class_name": "L1", "config": {"l1": 0.05000000074505806}},
    "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2.0, "axis": [0, 1, 2]}},
    "bias_constraint": {"class_name": "UnitNorm", "config": {"axis": 0}}})");
  auto layer = Conv2DImpl::from_config(keras);
  EXPECT_EQ(layer->get_config(), keras) << layer->get_config().dump(1);
  EXPECT_EQ(layer->batch_input_shape(), (Shape{kNone, 7, 5, 3}));
}

TEST(Conv2D, SerializeRoundTripThroughRegistry) {
  auto conv = Conv2D(6, {2, 3},
                     {.strides = {1, 2}, .padding = "same", .data_format = "channels_first", .groups = 3,
                      .activation = "elu", .use_bias = false, .kernel_initializer = "he_normal",
                      .kernel_regularizer = L1L2(0.01, 0.02), .activity_regularizer = "l2",
                      .kernel_constraint = "unit_norm", .input_shape = Shape{3, 8, 8}, .name = "rt"});
  const json ser = serialize_layer(*conv);
  EXPECT_EQ(ser["class_name"], "Conv2D");
  LayerPtr back = layer_from_config(ser);
  EXPECT_EQ(back->class_name(), "Conv2D");
  EXPECT_EQ(back->get_config(), ser["config"]) << back->get_config().dump(1);
}

TEST(Conv2D, Convolution2DIsARegisteredAlias) {
  LayerPtr l = layer_from_config({{"class_name", "Convolution2D"}, {"config", {{"filters", 2}, {"kernel_size", 3}}}});
  EXPECT_EQ(l->class_name(), "Conv2D");
}

TEST(Conv2D, FromConfigFillsMissingKeysWithKerasDefaults) {
  auto l = Conv2DImpl::from_config({{"filters", 4}, {"kernel_size", {2, 3}}, {"name", "old"}});
  EXPECT_EQ(l->strides(), IntPair(1, 1));
  EXPECT_EQ(l->padding(), "valid");
  EXPECT_EQ(l->groups(), 1);
  EXPECT_EQ(l->activation()->name(), "linear");
  EXPECT_TRUE(l->use_bias());
  EXPECT_EQ(l->get_config()["kernel_initializer"]["class_name"], "GlorotUniform");
}

TEST(Conv2D, FromConfigRejectsUnknownKeysAndBadValues) {
  expect_value_error([] { Conv2DImpl::from_config({{"filters", 4}, {"kernel_size", 3}, {"kernel_sise", 3}}); },
                     {"kernel_sise"});
  expect_value_error([] { Conv2DImpl::from_config({{"filters", 4}, {"kernel_size", 3}, {"padding", "full"}}); },
                     {"padding", "full"});
  expect_value_error(
      [] { Conv2DImpl::from_config({{"name", "bad"}, {"filters", 4}, {"kernel_size", 3}, {"activation", "nope"}}); },
      {"Conv2D 'bad'", "nope"});
  expect_value_error([] { Conv2DImpl::from_config({{"kernel_size", 3}}); }, {"filters"});
}

// --- keras.json ------------------------------------------------------------------

// image_data_format() reads keras.json once per process and caches it, so these
// checks run in a fresh process: gtest's "threadsafe" death-test style re-executes
// this test alone in a child, which inherits KERAS_HOME and exits 0 on success.
#define EXPECT_IN_FRESH_PROCESS(condition)                                                    \
  do {                                                                                        \
    GTEST_FLAG_SET(death_test_style, "threadsafe");                                           \
    EXPECT_EXIT(std::exit((condition) ? 0 : 1), ::testing::ExitedWithCode(0), "") << #condition; \
  } while (0)

TEST(Conv2DKerasJson, DataFormatDefaultComesFromKerasJsonInKerasHome) {
  ScopedKerasHome home;
  home.write_config(R"({"floatx": "float32", "epsilon": 1e-07, "backend": "tensorflow",
                        "image_data_format": "channels_first"})");
  EXPECT_IN_FRESH_PROCESS(Conv2D(4, 3)->data_format() == "channels_first" &&
                          Conv2D(4, 3)(Input({2, 9, 9})).shape() == (Shape{kNone, 4, 7, 7}) &&
                          Conv2D(4, 3, {.data_format = "channels_last"})->data_format() == "channels_last");
}

TEST(Conv2DKerasJson, MalformedKerasJsonMeansChannelsLast) {
  ScopedKerasHome home;
  home.write_config("{\"image_data_format\": \"channels_first\",");  // truncated
  EXPECT_IN_FRESH_PROCESS(Conv2D(4, 3)->data_format() == "channels_last");
}

TEST(Conv2DKerasJson, MissingKerasJsonMeansChannelsLast) {
  ScopedKerasHome home;
  EXPECT_IN_FRESH_PROCESS(Conv2D(4, 3)->data_format() == "channels_last");
}

TEST(Conv2DKerasJson, SetImageDataFormatOverridesTheFile) {
  ScopedKerasHome home;
  home.write_config(R"({"image_data_format": "channels_last"})");
  EXPECT_IN_FRESH_PROCESS((set_image_data_format("channels_first"), Conv2D(4, 3)->data_format() == "channels_first"));
}

// --- composition ---------------------------------------------------------------

// R's layer_conv_2d page: a layer object called on a tensor directly, the same
// object used in a graph, and added to a second graph later, computes one function.
TEST(Conv2D, StandaloneAndGraphCallsAgree) {
  auto conv = Conv2D(4, 3, {.padding = "same", .data_format = "channels_last", .activation = "relu"});
  const Tensor x = Tensor::uniform({2, 6, 6, 3}, -1.f, 1.f);
  const Tensor direct = conv(x);

  KerasTensor in1 = Input({6, 6, 3});
  auto net1 = std::make_shared<FunctionalImpl>(std::vector<KerasTensor>{in1}, std::vector<KerasTensor>{conv(in1)});
  const Tensor via_graph = (*net1)(x);

  KerasTensor in2 = Input({kNone, kNone, 3});  // added later, to a graph with other shapes
  auto net2 = std::make_shared<FunctionalImpl>(std::vector<KerasTensor>{in2}, std::vector<KerasTensor>{conv(in2)});
  const Tensor via_second = (*net2)(x);

  EXPECT_EQ(conv->inbound_nodes().size(), 2u);
  EXPECT_EQ(max_abs_diff(direct, via_graph), 0.f);
  EXPECT_EQ(max_abs_diff(direct, via_second), 0.f);
}

TEST(Conv2D, CustomActivationFunctionIsApplied) {
  auto a = Conv2D(3, 2, {.data_format = "channels_last", .activation = "tanh"});
  auto b = Conv2D(3, 2, {.data_format = "channels_last",
                         .activation = [](const Variable& v) { return autograd::tanh(v); }});
  a->maybe_build({{kNone, 4, 4, 2}});
  b->maybe_build({{kNone, 4, 4, 2}});
  b->set_weights(a->get_weights());
  const Tensor x = Tensor::uniform({1, 4, 4, 2}, -1.f, 1.f);
  EXPECT_EQ(max_abs_diff(a(x), b(x)), 0.f);
}

// --- errors --------------------------------------------------------------------

TEST(Conv2DErrors, NonPositiveArguments) {
  expect_value_error([] { Conv2D(0, 3, {.name = "e"}); }, {"Conv2D 'e'", "filters=0"});
  expect_value_error([] { Conv2D(-2, 3, {.name = "e"}); }, {"Conv2D 'e'", "filters=-2"});
  expect_value_error([] { Conv2D(4, {0, 3}, {.name = "e"}); }, {"Conv2D 'e'", "kernel_size=(0, 3)"});
  expect_value_error([] { Conv2D(4, 3, {.strides = {1, 0}, .name = "e"}); }, {"Conv2D 'e'", "strides=(1, 0)"});
  expect_value_error([] { Conv2D(4, 3, {.dilation_rate = -1, .name = "e"}); }, {"Conv2D 'e'", "dilation_rate=(-1, -1)"});
  expect_value_error([] { Conv2D(4, 3, {.groups = 0, .name = "e"}); }, {"Conv2D 'e'", "groups=0"});
}

TEST(Conv2DErrors, StridesTogetherWithDilation) {
  expect_value_error([] { Conv2D(4, 3, {.strides = {2, 1}, .dilation_rate = {1, 2}, .name = "e"}); },
                     {"Conv2D 'e'", "strides=(2, 1)", "dilation_rate=(1, 2)"});
}

TEST(Conv2DErrors, FiltersNotDivisibleByGroups) {
  expect_value_error([] { Conv2D(4, 3, {.groups = 3, .name = "e"}); }, {"Conv2D 'e'", "groups=3", "filters=4"});
}

TEST(Conv2DErrors, InputChannelsNotDivisibleByGroups) {
  auto conv = Conv2D(4, 1, {.data_format = "channels_last", .groups = 2, .name = "e"});
  expect_value_error([&] { conv(Input({8, 8, 3})); }, {"Conv2D 'e'", "groups=2", "3 channels", "(None, 8, 8, 3)"});
}

TEST(Conv2DErrors, UnknownNamesAtConstruction) {
  expect_value_error([] { Conv2D(4, 3, {.padding = "full", .name = "e"}); }, {"Conv2D 'e'", "full"});
  expect_value_error([] { Conv2D(4, 3, {.padding = "causal", .name = "e"}); }, {"Conv2D 'e'", "causal"});
  expect_value_error([] { Conv2D(4, 3, {.data_format = "nhwc", .name = "e"}); }, {"Conv2D 'e'", "nhwc"});
  expect_value_error([] { Conv2D(4, 3, {.activation = "relux", .name = "e"}); }, {"Conv2D 'e'", "relux"});
  expect_value_error([] { Conv2D(4, 3, {.kernel_initializer = "glorot_unicorn", .name = "e"}); },
                     {"Conv2D 'e'", "glorot_unicorn"});
  expect_value_error([] { Conv2D(4, 3, {.bias_initializer = "zeroes", .name = "e"}); }, {"Conv2D 'e'", "zeroes"});
  expect_value_error([] { Conv2D(4, 3, {.kernel_regularizer = "l3", .name = "e"}); }, {"Conv2D 'e'", "l3"});
  expect_value_error([] { Conv2D(4, 3, {.activity_regularizer = "l4", .name = "e"}); }, {"Conv2D 'e'", "l4"});
  expect_value_error([] { Conv2D(4, 3, {.bias_constraint = "max_nom", .name = "e"}); }, {"Conv2D 'e'", "max_nom"});
}

TEST(Conv2DErrors, InputOfWrongRank) {
  auto conv = Conv2D(4, 3, {.data_format = "channels_last", .name = "e"});
  expect_value_error([&] { conv(Tensor::zeros({28, 28})); },
                     {"Conv2D 'e': expected input of rank 4 (batch, rows, cols, channels), received shape (28, 28)"});
  expect_value_error([&] { conv(Input({28})); }, {"Conv2D 'e'", "received shape (None, 28)"});
  auto cf = Conv2D(4, 3, {.data_format = "channels_first", .name = "f"});
  expect_value_error([&] { cf(Input({1, 28, 28, 1})); }, {"(batch, channels, rows, cols)", "(None, 1, 28, 28, 1)"});
}

TEST(Conv2DErrors, UndefinedChannelDimension) {
  auto conv = Conv2D(4, 3, {.data_format = "channels_last", .name = "e"});
  expect_value_error([&] { conv(Input({8, 8, kNone})); }, {"Conv2D 'e'", "channel dimension", "(None, 8, 8, None)"});
}

TEST(Conv2DErrors, ValidInputSmallerThanDilatedKernel) {
  auto conv = Conv2D(4, 3, {.data_format = "channels_last", .dilation_rate = {1, 2}, .name = "e"});
  // Dilated kernel 3 x 5: a 4-column input is too narrow, symbolically and concretely.
  expect_value_error([&] { conv(Input({8, 4, 1})); }, {"Conv2D 'e'", "3 x 5", "(None, 8, 4, 1)"});
  expect_value_error([&] { conv(Tensor::zeros({2, 2, 9, 1})); }, {"Conv2D 'e'", "3 x 5", "(2, 2, 9, 1)"});
  EXPECT_EQ(conv(Input({3, 5, 1})).shape(), (Shape{kNone, 1, 1, 4}));  // exactly fits
}

TEST(Conv2DErrors, ChannelsDifferentFromTheBuiltKernel) {
  auto conv = Conv2D(4, 3, {.data_format = "channels_last", .name = "e"});
  conv(Tensor::zeros({1, 5, 5, 3}));
  expect_value_error([&] { conv(Tensor::zeros({1, 5, 5, 4})); },
                     {"Conv2D 'e'", "axis -1", "value 3", "(1, 5, 5, 4)"});
  expect_value_error([&] { conv(Input({5, 5, 2})); }, {"Conv2D 'e'", "value 3", "(None, 5, 5, 2)"});
}

}  // namespace
}  // namespace minidl
