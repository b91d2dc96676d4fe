// Tests for layers/preprocessing: Rescaling and Normalization values against
// double-precision loops, their gradients, configs (Keras 3 and tf.keras 2
// forms), Normalization's weights and adapt, and the errors Keras raises.

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "layers/base/input_layer.h"
#include "layers/preprocessing/normalization.h"
#include "layers/preprocessing/rescaling.h"
#include "layers/reshaping/spatial_utils.h"
#include "ops/elementwise.h"
#include "support/assertions.h"
#include "support/layer_checks.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using namespace testing;

std::vector<float> values(const Tensor& t) { return t.to_vector(); }

// The message of the ValueError `f` throws ("" when it throws none).
template <class F>
std::string value_error(F f) {
  try {
    f();
  } catch (const ValueError& e) {
    return e.what();
  }
  return "";
}

// ---------------------------------------------------------------------------
// Rescaling

TEST(Rescaling, ScalarScaleAndOffsetMatchANaiveLoop) {
  const Tensor x = ops::scale(ops::add_scalar(random_tensor({2, 4, 4, 3}, 1), 1.f), 127.5f);  // [0, 255)
  const double s = 1.0 / 127.5, o = -1.0;
  const Tensor y = Rescaling(s, {.offset = o})(x);
  std::vector<double> want;
  for (float v : x.span()) want.push_back(double(v) * s + o);
  EXPECT_EQ(y.shape(), x.shape());
  EXPECT_TRUE(close(values(y), want, 1e-6));
}

TEST(Rescaling, ArrayScaleAndOffsetBroadcastOverTheLastAxis) {
  const Tensor x = random_tensor({2, 3, 3}, 2);
  const std::vector<double> s = {0.5, -0.25, 2.0}, o = {1.0, 2.0, -3.0};
  const Tensor y = Rescaling(s, {.offset = o})(x);
  std::vector<double> want;
  for (int64_t i = 0; i < x.numel(); ++i) want.push_back(double(x[i]) * s[i % 3] + o[i % 3]);
  EXPECT_TRUE(close(values(y), want, 1e-6));
}

TEST(Rescaling, ChannelsFirstPadsAnArrayScaleToRankThreeButNotTheOffset) {
  const std::string format = image_data_format();
  set_image_data_format("channels_first");
  const Tensor x = random_tensor({2, 3, 2, 4}, 3);
  const std::vector<double> s = {0.5, 1.5, 3.0}, o = {1.0, 2.0, 3.0, 4.0};
  Tensor y;
  EXPECT_NO_THROW(y = Rescaling(s, {.offset = o})(x));
  set_image_data_format(format);
  ASSERT_TRUE(y.defined());
  std::vector<double> want;
  for (int64_t i = 0; i < x.numel(); ++i) want.push_back(double(x[i]) * s[(i / 8) % 3] + o[i % 4]);
  EXPECT_TRUE(close(values(y), want, 1e-6));
}

TEST(Rescaling, KeepsTheInputShapeSymbolicallyAndPassesMasks) {
  auto r = Rescaling(1.0 / 255);
  const KerasTensor y = r(Input({64, 64, 3}));
  EXPECT_EQ(y.shape(), (Shape{kNone, 64, 64, 3}));
  EXPECT_TRUE(r->supports_masking());
  EXPECT_TRUE(r->weights().empty());
}

TEST(Rescaling, GradientIsTheScale) {
  EXPECT_TRUE(GradOk(*Rescaling(0.75, {.offset = 2.0}), random_tensor({2, 5}, 4)));
  auto per_channel = Rescaling({0.5, -2.0, 3.0}, {.offset = {0.1, 0.2, 0.3}});
  EXPECT_TRUE(GradOk(*per_channel, random_tensor({2, 2, 3}, 5)));
  Variable x(random_tensor({4, 3}, 6), true);
  const Tensor seed = random_tensor({4, 3}, 7);
  per_channel(x).backward(seed);
  const double s[] = {0.5, -2.0, 3.0};
  for (int64_t i = 0; i < 12; ++i) EXPECT_FLOAT_EQ(x.grad()[i], float(seed[i] * s[i % 3]));
}

TEST(Rescaling, ConfigRoundTripsInTheFormItWasGiven) {
  EXPECT_TRUE(RoundTrips(*Rescaling(1.0 / 255)));
  EXPECT_TRUE(RoundTrips(*Rescaling({0.5, 0.25, 2.0}, {.offset = -1})));
  const json c = Rescaling(2, {.offset = 0.5})->get_config();
  EXPECT_EQ(c["scale"].dump(), "2");
  EXPECT_EQ(c["offset"].dump(), "0.5");
}

TEST(Rescaling, ReadsAKeras3ConfigWithADTypePolicy) {
  const json config = json::parse(R"({"name": "rescaling", "trainable": true,
      "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                "registered_name": null, "shared_object_id": 140274945304080},
      "scale": 0.00784313725490196, "offset": -1.0})");
  const LayerPtr l = layer_from_config({{"class_name", "Rescaling"}, {"config", config}});
  const auto* r = dynamic_cast<const RescalingImpl*>(l.get());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->scale().values(), std::vector<double>{0.00784313725490196});
  EXPECT_EQ(r->offset().values(), std::vector<double>{-1.0});
  EXPECT_EQ(l->get_config()["scale"], 0.00784313725490196);
}

TEST(Rescaling, ReadsAndWritesNumpyArrays) {
  const json np = json::parse(R"({"class_name": "__numpy__", "config": {"value": [[0.5, 2.0]], "dtype": "float64"}})");
  const LayerPtr l = layer_from_config({{"class_name", "Rescaling"}, {"config", {{"name", "r"}, {"scale", np}}}});
  EXPECT_EQ(l->get_config()["scale"], np);
  EXPECT_EQ(l->get_config()["offset"], 0.0);
  const Tensor y = (*l)(Tensor::from_data({2, 2}, {1, 1, 2, 2}));
  EXPECT_EQ(values(y), (std::vector<float>{0.5f, 2.f, 1.f, 4.f}));
  EXPECT_TRUE(RoundTrips(*l));
}

TEST(Rescaling, BadArgumentsAreValueErrorsNamingTheLayer) {
  auto wide = Rescaling({1.0, 2.0, 3.0, 4.0}, {.name = "wide"});
  const std::string shape_msg = value_error([&] { wide(Input({8, 3})); });
  EXPECT_TRUE(ContainsAll(shape_msg, {"Rescaling 'wide'", "(4,)", "(None, 8, 3)"}));
  EXPECT_THROW(wide(Tensor::zeros({2, 3})), ValueError);
  // A scale that would broadcast the input to a larger shape.
  EXPECT_THROW(Rescaling(ArrayArg(Shape{2, 1}, {1.0, 2.0}))(Tensor::zeros({3})), ValueError);
  EXPECT_TRUE(ContainsAll(value_error([] { Rescaling(ArrayArg(), {.name = "none"}); }), {"Rescaling 'none'", "None"}));
  auto from = [](const json& config) { return layer_from_config({{"class_name", "Rescaling"}, {"config", config}}); };
  EXPECT_TRUE(ContainsAll(value_error([&] { from({{"scale", "big"}}); }), {"Rescaling", "scale", "big"}));
  EXPECT_TRUE(ContainsAll(value_error([&] { from({{"scale", {{1, 2}, {3}}}}); }), {"Rescaling", "rectangular"}));
  EXPECT_TRUE(ContainsAll(value_error([&] { from({{"offset", 1}}); }), {"Rescaling", "scale"}));
  EXPECT_TRUE(ContainsAll(value_error([&] { from({{"scale", 1}, {"bias", 1}}); }), {"Rescaling", "bias"}));
}

// ---------------------------------------------------------------------------
// Normalization

// (x - mean) / max(sqrt(var), 1e-7) per index of the last axis, in double.
std::vector<double> naive_normalize(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& var,
                                    bool invert = false) {
  std::vector<double> out;
  const size_t c = mean.size();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const size_t k = static_cast<size_t>(i) % c;
    const double d = std::max(std::sqrt(var[k]), 1e-7);
    out.push_back(invert ? mean[k] + x[i] * d : (x[i] - mean[k]) / d);
  }
  return out;
}

TEST(Normalization, GivenMeanAndVarianceMatchANaiveLoop) {
  const Tensor x = random_tensor({4, 2, 3}, 10);
  const std::vector<double> m = {0.5, 0.2, -0.1}, v = {0.1, 0.2, 0.3};
  EXPECT_TRUE(close(values(Normalization({.mean = m, .variance = v})(x)), naive_normalize(x, m, v), 1e-5));
  EXPECT_TRUE(close(values(Normalization({.mean = m, .variance = v, .invert = true})(x)),
                    naive_normalize(x, m, v, true), 1e-5));
}

TEST(Normalization, KerasDocstringExamples) {
  auto global = Normalization({.axis = std::nullopt});
  global->adapt(Tensor::from_data({5}, {1, 2, 3, 4, 5}));
  EXPECT_TRUE(close(values(global(Tensor::from_data({3}, {1, 2, 3}))), {-1.4142135, -0.70710677, 0.0}, 1e-6));

  const Tensor data = Tensor::from_data({4, 3}, {0, 7, 4, 2, 9, 6, 0, 7, 4, 2, 9, 6});
  auto per_feature = Normalization({.axis = -1});
  per_feature->adapt(data);
  EXPECT_TRUE(close(values(per_feature(Tensor::from_data({1, 3}, {0, 7, 4}))), {-1, -1, -1}, 1e-6));
  auto inverse = Normalization({.axis = -1, .invert = true});
  inverse->adapt(data);
  EXPECT_TRUE(close(values(inverse(Tensor::from_data({1, 3}, {1, 2, 3}))), {2, 10, 8}, 1e-6));

  auto given = Normalization({.mean = 3.0, .variance = 2.0});
  EXPECT_TRUE(close(values(given(Tensor::from_data({3, 1}, {1, 2, 3}))), {-1.4142135, -0.70710677, 0.0}, 1e-6));
}

TEST(Normalization, AdaptMatchesANaiveMeanAndVarianceOverReducedAxes) {
  const Tensor x = ops::add_scalar(ops::scale(random_tensor({6, 4, 3, 5}, 11), 3.f), 2.f);
  auto norm = Normalization({.axis = {1, 2}});
  norm->adapt(x);
  std::vector<double> sum(12, 0), sq(12, 0);
  for (int64_t i = 0; i < x.numel(); ++i) sum[static_cast<size_t>((i / 5) % 12)] += x[i];
  for (double& s : sum) s /= 30.0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const size_t k = static_cast<size_t>((i / 5) % 12);
    sq[k] += (x[i] - sum[k]) * (x[i] - sum[k]);
  }
  for (double& s : sq) s /= 30.0;
  const auto& w = norm->own_weights();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].variable.shape(), (Shape{4, 3}));
  EXPECT_TRUE(close(values(w[0].variable.value()), sum, 1e-6));
  EXPECT_TRUE(close(values(w[1].variable.value()), sq, 1e-6));
  EXPECT_EQ(norm->mean().shape(), (Shape{1, 4, 3, 1}));
  // The output has zero mean and unit variance per kept index.
  const Tensor y = norm(x);
  std::vector<double> ym(12, 0), yv(12, 0);
  for (int64_t i = 0; i < y.numel(); ++i) ym[static_cast<size_t>((i / 5) % 12)] += y[i] / 30.0;
  for (int64_t i = 0; i < y.numel(); ++i) yv[static_cast<size_t>((i / 5) % 12)] += y[i] * y[i] / 30.0;
  EXPECT_TRUE(close(std::vector<float>(ym.begin(), ym.end()), std::vector<double>(12, 0.0), 1e-5));
  EXPECT_TRUE(close(std::vector<float>(yv.begin(), yv.end()), std::vector<double>(12, 1.0), 1e-5));
}

TEST(Normalization, AdaptOnBatchesAgreesWithAdaptOnTheWhole) {
  const Tensor x = random_tensor({30, 4}, 12);
  std::vector<Tensor> batches = {x.slice_rows(0, 8).clone(), x.slice_rows(8, 16).clone(),
                                 x.slice_rows(16, 29).clone(), x.slice_rows(29, 30).clone()};
  auto whole = Normalization(), batched = Normalization();
  whole->adapt(x);
  batched->adapt(batches);
  EXPECT_TRUE(AllClose(batched->mean(), whole->mean(), 1e-6));
  EXPECT_TRUE(AllClose(batched->variance(), whole->variance(), 1e-6));
}

TEST(Normalization, ZeroVarianceDividesByEpsilon) {
  auto norm = Normalization({.mean = 1.0, .variance = 0.0});
  EXPECT_TRUE(close(values(norm(Tensor::from_data({2, 1}, {1.0f, 1.5f}))), {0.0, 0.5 / 1e-7}, 1e-6));
}

TEST(Normalization, AdaptedLayerHasKerasThreeNonTrainableWeights) {
  auto norm = Normalization({.axis = -1});
  norm(Input({5, 3}));
  const auto& w = norm->own_weights();
  ASSERT_EQ(w.size(), 3u);
  const char* names[] = {"mean", "variance", "count"};
  const Shape shapes[] = {{3}, {3}, {}};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(w[i].name, names[i]);
    EXPECT_EQ(w[i].variable.shape(), shapes[i]);
    EXPECT_FALSE(w[i].trainable);
  }
  EXPECT_EQ(values(w[1].variable.value()), (std::vector<float>{1, 1, 1}));
  EXPECT_TRUE(norm->trainable_weights().empty());
  EXPECT_EQ(norm->count_params(), 7);  // Keras's summary shows 7 for three features
  EXPECT_TRUE(Normalization({.mean = 0.0, .variance = 1.0})->weights().empty());
}

TEST(Normalization, GivenValuesAlignWithTheKeptAxesFromTheRight) {
  auto middle = Normalization({.axis = 2, .mean = std::vector<double>{1, 2, 3, 4, 5},
                               .variance = std::vector<double>(5, 1.0)});
  middle->maybe_build({{2, 4, 5, 3}});
  EXPECT_EQ(middle->mean().shape(), (Shape{1, 1, 5, 1}));
  EXPECT_EQ(values(middle->mean()), (std::vector<float>{1, 2, 3, 4, 5}));

  auto partial = Normalization({.axis = {1, 2}, .mean = {1.0, 2.0, 3.0, 4.0, 5.0}, .variance = {1, 1, 1, 1, 1}});
  partial->maybe_build({{2, 7, 5, 3}});
  const Tensor m = partial->mean();
  EXPECT_EQ(m.shape(), (Shape{1, 7, 5, 1}));
  for (int64_t h = 0; h < 7; ++h)
    for (int64_t w = 0; w < 5; ++w) EXPECT_EQ(m.at({0, h, w, 0}), float(w + 1));

  auto scalar = Normalization({.axis = -1, .mean = 5.0, .variance = 1.0});
  scalar->maybe_build({{3, 7}});
  EXPECT_EQ(scalar->mean().shape(), (Shape{1, 7}));
  EXPECT_EQ(values(scalar->mean()), std::vector<float>(7, 5.f));
}

TEST(Normalization, GradientWithRespectToTheInput) {
  auto norm = Normalization({.mean = {0.5, -1.0, 2.0}, .variance = {0.25, 4.0, 1.0}});
  EXPECT_TRUE(GradOk(*norm, random_tensor({2, 3}, 13)));
  auto inverse = Normalization({.mean = {0.5, -1.0, 2.0}, .variance = {0.25, 4.0, 1.0}, .invert = true});
  EXPECT_TRUE(GradOk(*inverse, random_tensor({2, 3}, 14)));
  auto adapted = Normalization({.axis = {1, 2}});
  adapted->adapt(random_tensor({5, 2, 3, 2}, 15));
  EXPECT_TRUE(GradOk(*adapted, random_tensor({2, 2, 3, 2}, 16)));
  Variable x(random_tensor({1, 3}, 17), true);
  norm(x).backward(Tensor::ones({1, 3}));
  EXPECT_TRUE(close(values(x.grad()), {2.0, 0.5, 1.0}, 1e-6));
}

TEST(Normalization, ConfigRoundTrips) {
  EXPECT_TRUE(RoundTrips(*Normalization()));
  EXPECT_TRUE(RoundTrips(*Normalization({.axis = std::nullopt, .invert = true})));
  EXPECT_TRUE(RoundTrips(*Normalization({.axis = {1, 2}, .mean = {1.0, 2.0}, .variance = {3.0, 4.0}})));
  const json c = Normalization({.mean = 3.0, .variance = 2.0})->get_config();
  EXPECT_EQ(c["axis"], json::array({-1}));
  EXPECT_EQ(c["mean"], 3.0);
  EXPECT_EQ(c["variance"], 2.0);
  // Arguments at their defaults are left out (tf.keras 2.3-2.9 reject `invert`).
  EXPECT_FALSE(c.contains("invert"));
  EXPECT_FALSE(Normalization()->get_config().contains("mean"));
  EXPECT_EQ(Normalization({.invert = true})->get_config()["invert"], true);
  // A NumPy array argument is written as NumPy's tolist(), as Keras writes it.
  const json t = Normalization({.mean = Tensor::from_data({2}, {1, 2}), .variance = Tensor::ones({2})})->get_config();
  EXPECT_EQ(t["mean"], json::array({1.0, 2.0}));
}

TEST(Normalization, ReadsKeras3AndTfKeras2Configs) {
  const json k3 = json::parse(R"({"name": "prestem_normalization", "trainable": true, "dtype": "float32",
      "axis": [-1], "invert": false, "mean": [123.675, 116.28, 103.53],
      "variance": [3409.976025, 3262.6944, 3291.890625]})");
  const LayerPtr l = layer_from_config({{"class_name", "Normalization"}, {"config", k3}});
  const Tensor y = (*l)(Tensor::from_data({1, 3}, {123.675f, 0.f, 200.f}));
  EXPECT_TRUE(close(values(y), {0.0, -116.28 / std::sqrt(3262.6944), 96.47 / std::sqrt(3291.890625)}, 1e-5));
  EXPECT_EQ(l->get_config()["mean"], k3["mean"]);

  // tf.keras 2.3: axis as an int, no mean, variance or invert.
  const LayerPtr old = layer_from_config(
      {{"class_name", "Normalization"}, {"config", {{"name", "normalization"}, {"dtype", "float32"}, {"axis", 3}}}});
  EXPECT_EQ(dynamic_cast<const NormalizationImpl&>(*old).axis(), std::vector<int>{3});
  const LayerPtr none = layer_from_config(
      {{"class_name", "Normalization"}, {"config", {{"name", "n"}, {"axis", nullptr}}}});
  EXPECT_TRUE(dynamic_cast<const NormalizationImpl&>(*none).axis().empty());
  EXPECT_THROW(layer_from_config({{"class_name", "Normalization"}, {"config", {{"axis", "last"}}}}), ValueError);
  EXPECT_THROW(layer_from_config({{"class_name", "Normalization"}, {"config", {{"epsilon", 1e-3}}}}), ValueError);
}

TEST(Normalization, BadArgumentsRaiseKerasValueErrors) {
  EXPECT_TRUE(ContainsAll(value_error([] { Normalization({.mean = 0.5, .name = "n1"}); }),
                          {"Normalization 'n1'", "both `mean` and `variance` must be set", "mean=0.5",
                           "variance=None"}));
  EXPECT_TRUE(ContainsAll(value_error([] { Normalization({.variance = 0.1}); }),
                          {"both `mean` and `variance` must be set"}));
  EXPECT_TRUE(ContainsAll(value_error([] { Normalization({.mean = {1.0, 2.0}, .variance = {1.0, 2.0, 3.0}}); }),
                          {"must have the same shape", "mean shape (2,)", "variance shape (3,)"}));
  EXPECT_TRUE(ContainsAll(
      value_error([] { Normalization({.mean = ArrayArg(Shape{1, 2}, {1, 2}), .variance = ArrayArg(Shape{1, 2}, {1, 2})}); }),
      {"The rank of `mean` must be less than or equal to the number of axes (1)", "for axis (-1,)"}));
  EXPECT_TRUE(ContainsAll(value_error([] { Normalization({.axis = 3})->maybe_build({{2, 2}}); }),
                          {"All `axis` values must be in the range [-ndim, ndim)", "ndim=2", "axis=(3,)"}));
  EXPECT_TRUE(ContainsAll(value_error([] { Normalization({.axis = -4})->maybe_build({{2, 3, 4}}); }),
                          {"All `axis` values must be in the range"}));
  EXPECT_TRUE(ContainsAll(value_error([] { Normalization({.axis = 1})->maybe_build({{kNone, kNone}}); }),
                          {"All `axis` values to be kept must have a known shape", "inputs.shape=(None, None)",
                           "unknown axis at index 1"}));
  EXPECT_TRUE(ContainsAll(value_error([] {
                            auto n = Normalization({.axis = -1});
                            n->maybe_build({{10, 5}});
                            n->adapt(Tensor::zeros({10, 3}));
                          }),
                          {"an incompatible shape", "input_shape=(10, 5)", "data.shape=(10, 3)"}));
  EXPECT_TRUE(ContainsAll(value_error([] { Normalization()->adapt(std::vector<Tensor>{}); }), {"empty iterable"}));
  EXPECT_TRUE(ContainsAll(
      value_error([] { Normalization()->adapt(std::vector<Tensor>{Tensor::zeros({8, 4}), Tensor::zeros({8, 6})}); }),
      {"incompatible shape", "Expected (8, 4), got (8, 6)."}));
  EXPECT_TRUE(ContainsAll(value_error([] {
                            auto n = Normalization({.mean = {1.0, 2.0, 3.0}, .variance = {1.0, 1.0, 1.0}});
                            n(Input({4}));
                          }),
                          {"Normalization", "(3,)", "cannot be broadcast"}));
  auto built = Normalization({.name = "b"});
  built(Input({3}));
  EXPECT_TRUE(ContainsAll(value_error([&] { built(Tensor::zeros({2, 4})); }), {"Normalization 'b'", "(2, 4)"}));
}

}  // namespace
}  // namespace minidl
