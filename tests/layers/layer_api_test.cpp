// tests/layers/layer_api_test.cpp — the public Layer API of the TF 1.x pages:
// compute_mask(inputs, mask=None) on layers and models, and the order of
// weights / get_weights / set_weights (trainable first, then non-trainable).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/functions.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/core/masking.h"
#include "layers/merge/merge.h"
#include "layers/reshaping/reshaping.h"
#include "support/tensors.h"
#include "train/model.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// (2, 4, 3) with timesteps (0, 1) and (1, 3) entirely zero, and one lone zero feature.
Tensor with_zero_steps() {
  Tensor x = random_tensor({2, 4, 3}, 7);
  for (int64_t f = 0; f < 3; ++f) {
    x.at({0, 1, f}) = 0.f;
    x.at({1, 3, f}) = 0.f;
  }
  x.at({1, 0, 2}) = 0.f;
  return x;
}

// Keras's Masking mask, computed directly: any feature of the step differs from mask_value.
std::vector<float> reference_step_mask(const Tensor& x, double mask_value) {
  std::vector<float> out;
  const int64_t features = x.shape().back(), steps = x.numel() / features;
  for (int64_t s = 0; s < steps; ++s) {
    bool any = false;
    for (int64_t f = 0; f < features; ++f)
      any = any || static_cast<double>(x[s * features + f]) != mask_value;
    out.push_back(any ? 1.f : 0.f);
  }
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Two outputs, each carrying the input mask (for the single-form error).
class TwoOutputsImpl : public Layer {
 public:
  TwoOutputsImpl() : Layer({}, "two_outputs") { set_supports_masking(true); }
  std::string class_name() const override { return "TestTwoOutputs"; }

 protected:
  VariableList call(const std::vector<Variable>& in, const CallArgs&) override { return {in[0], in[0]}; }
  std::vector<Tensor> compute_mask(const std::vector<Variable>&, const std::vector<Tensor>& masks) override {
    return {masks[0], masks[0]};
  }
};

// A custom layer creating its non-trainable weight before its trainable one.
class CounterFirstImpl : public Layer {
 public:
  explicit CounterFirstImpl(LayerOptions o = {}) : Layer(std::move(o), "counter_first") {}
  std::string class_name() const override { return "TestCounterFirst"; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& s) override { return {single_shape(s)}; }

 protected:
  void build(const std::vector<Shape>& s) override {
    add_weight("count", {2}, "zeros", {}, /*trainable=*/false);
    add_weight("scale", {single_shape(s).back()}, "ones");
  }
  VariableList call(const std::vector<Variable>& in, const CallArgs&) override {
    return {single_input(in) * own_weights()[1].variable};
  }
};

}  // namespace

// ---------------------------------------------------------------------------
// compute_mask

TEST(LayerComputeMask, MaskingGivesItsStepMaskWhateverMaskComesIn) {
  const LayerPtr masking = Masking();
  const Tensor x = with_zero_steps();
  const auto mask = masking->compute_mask(x);
  ASSERT_TRUE(mask.has_value());
  EXPECT_EQ(mask->shape(), (Shape{2, 4}));
  EXPECT_EQ(mask->to_vector(), reference_step_mask(x, 0.0));
  // Keras's Masking.compute_mask ignores the mask it is given.
  const auto again = masking->compute_mask(x, Tensor::ones({2, 4}));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->to_vector(), reference_step_mask(x, 0.0));
}

// The public forms are reachable through each concrete type that overrides the hook.
TEST(LayerComputeMask, PublicFormsReachableThroughConcreteTypes) {
  const Tensor x = with_zero_steps();
  Masking masking;
  const auto mask = masking->compute_mask(x);
  ASSERT_TRUE(mask.has_value());
  EXPECT_EQ(mask->to_vector(), reference_step_mask(x, 0.0));
  Add add;
  // No input masks: Keras's Merge and Concatenate give None (here an empty list).
  EXPECT_TRUE(add->compute_mask({x, x}, {}).empty());
  Concatenate concat;
  EXPECT_TRUE(concat->compute_mask({x, x}, {}).empty());
}

TEST(LayerComputeMask, LayerSupportingMaskingPassesTheMaskOrNone) {
  const LayerPtr dense = Dense(2);
  const Tensor x = with_zero_steps();
  EXPECT_FALSE(dense->compute_mask(x).has_value());
  EXPECT_FALSE(dense->compute_mask(x, std::nullopt).has_value());
  const Tensor m = Tensor::from_data({2, 4}, {1, 0, 1, 1, 0, 1, 1, 0});
  const auto out = dense->compute_mask(x, m);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->to_vector(), m.to_vector());
}

TEST(LayerComputeMask, LayerWithoutMaskingGivesNoneOrKerasTypeError) {
  reset_layer_names();
  const LayerPtr flatten = Flatten();
  const Tensor x = with_zero_steps();
  EXPECT_FALSE(flatten->compute_mask(x).has_value());
  EXPECT_THROW(flatten->compute_mask(x, Tensor::ones({2, 4})), TypeError);
  EXPECT_EQ(error_of([&] { flatten->compute_mask(x, Tensor::ones({2, 4})); }),
            "Layer flatten does not support masking, but was passed an input_mask: Tensor(shape=(2, 4))");
  // The symbolic call raises the same error, naming the symbolic mask.
  const KerasTensor masked = Masking()(Input({4, 3}));
  EXPECT_EQ(error_of([&] { (*flatten)(masked); }),
            "Layer flatten does not support masking, but was passed an input_mask: KerasTensor(shape=(None, 4))");
  const LayerPtr conv = Conv2D(2, 1);
  const Tensor image = random_tensor({1, 3, 3, 2}, 3);
  EXPECT_FALSE(conv->compute_mask(image).has_value());
  EXPECT_THROW(conv->compute_mask(image, Tensor::ones({1, 3, 3})), TypeError);
}

TEST(LayerComputeMask, ListFormTakesOneMaskPerInput) {
  reset_layer_names();
  const LayerPtr add = Add();
  const Tensor a = random_tensor({2, 3, 2}, 1), b = random_tensor({2, 3, 2}, 2);
  // tf.keras: Add().compute_mask(inputs, [None, None]) is None.
  EXPECT_TRUE(add->compute_mask({a, b}, {std::nullopt, std::nullopt}).empty());
  EXPECT_TRUE(add->compute_mask({a, b}, {}).empty());
  const Tensor m = Tensor::from_data({2, 3}, {1, 0, 1, 1, 1, 0});
  const auto out = add->compute_mask({a, b}, {std::nullopt, m});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].has_value());
  EXPECT_EQ(out[0]->to_vector(), m.to_vector());
  EXPECT_THROW(add->compute_mask({a, b}, {m}), ValueError);
  const std::string two = error_of([&] { Flatten()->compute_mask({a, b}, {std::nullopt, m}); });
  EXPECT_NE(two.find("input_mask: [None, Tensor(shape=(2, 3))]"), std::string::npos) << two;
}

TEST(LayerComputeMask, SingleFormOnASeveralOutputLayerIsAValueError) {
  const auto layer = std::make_shared<TwoOutputsImpl>();
  const LayerPtr base = layer;
  const Tensor x = random_tensor({2, 3}, 4), m = Tensor::ones({2});
  EXPECT_THROW(base->compute_mask(x, m), ValueError);
  const auto both = base->compute_mask(std::vector<Tensor>{x}, {m});
  ASSERT_EQ(both.size(), 2u);
  EXPECT_TRUE(both[0].has_value() && both[1].has_value());
}

TEST(LayerComputeMask, ModelGivesTheMasksOfItsOutputs) {
  KerasTensor in = Input({4, 3});
  Model masked(in, Dense(2)(Masking()(in)));
  const Tensor x = with_zero_steps();
  const auto mask = masked->compute_mask(x);
  ASSERT_TRUE(mask.has_value());
  EXPECT_EQ(mask->to_vector(), reference_step_mask(x, 0.0));

  KerasTensor in2 = Input({4, 3});
  Model plain(in2, Dense(2)(in2));
  EXPECT_FALSE(plain->compute_mask(x).has_value());
  Sequential seq({Dense(2, {.input_shape = Shape{4, 3}})});
  EXPECT_FALSE(seq->compute_mask(x).has_value());
}

// ---------------------------------------------------------------------------
// weights order

TEST(LayerWeightsOrder, TrainableWeightsComeFirst) {
  auto layer = std::make_shared<CounterFirstImpl>(LayerOptions{.name = "cf"});
  layer->maybe_build({{kNone, 3}});
  ASSERT_EQ(layer->own_weights()[0].name, "count");  // creation order
  const auto w = layer->weights();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].name(), "cf/scale:0");
  EXPECT_EQ(w[1].name(), "cf/count:0");
  const auto values = layer->get_weights();
  EXPECT_EQ(values[0].shape(), (Shape{3}));
  EXPECT_EQ(values[1].shape(), (Shape{2}));
  ASSERT_EQ(layer->trainable_weights().size(), 1u);
  EXPECT_EQ(layer->trainable_weights()[0].name(), "cf/scale:0");
  ASSERT_EQ(layer->non_trainable_weights().size(), 1u);
  EXPECT_EQ(layer->non_trainable_weights()[0].name(), "cf/count:0");

  layer->set_weights({Tensor::from_data({3}, {1, 2, 3}), Tensor::from_data({2}, {5, 6})});
  EXPECT_EQ(layer->own_weights()[1].variable.value().to_vector(), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(layer->own_weights()[0].variable.value().to_vector(), (std::vector<float>{5, 6}));
  EXPECT_THROW(layer->set_weights({Tensor::zeros({2}), Tensor::zeros({3})}), ValueError);

  // Frozen: everything is non-trainable, still trainable-flagged first (TF 1.x and Keras 3).
  layer->set_trainable(false);
  EXPECT_TRUE(layer->trainable_weights().empty());
  const auto frozen = layer->non_trainable_weights();
  ASSERT_EQ(frozen.size(), 2u);
  EXPECT_EQ(frozen[0].name(), "cf/scale:0");
  EXPECT_EQ(layer->weights()[0].name(), "cf/scale:0");
  EXPECT_EQ(layer->get_weights()[0].to_vector(), (std::vector<float>{1, 2, 3}));
}

TEST(LayerWeightsOrder, ModelListsEachLayersWeightsInTurn) {
  auto custom = std::make_shared<CounterFirstImpl>(LayerOptions{.name = "cf"});
  KerasTensor in = Input({3});
  Model model(in, (*custom)(Dense(3, {.name = "d"})(in)));
  std::vector<std::string> names;
  for (const auto& v : model->weights()) names.push_back(v.name());
  // TF 1.x Network.weights: layer by layer, each layer's list trainable first.
  EXPECT_EQ(names, (std::vector<std::string>{"d/kernel:0", "d/bias:0", "cf/scale:0", "cf/count:0"}));
  EXPECT_EQ(model->trainable_weights().size(), 3u);

  std::vector<Tensor> values = model->get_weights();
  ASSERT_EQ(values.size(), 4u);
  values[2] = Tensor::from_data({3}, {4, 5, 6});
  values[3] = Tensor::from_data({2}, {7, 8});
  model->set_weights(values);
  EXPECT_EQ(custom->own_weights()[1].variable.value().to_vector(), (std::vector<float>{4, 5, 6}));
  EXPECT_EQ(custom->own_weights()[0].variable.value().to_vector(), (std::vector<float>{7, 8}));
  EXPECT_EQ(model->count_params(), 3 * 3 + 3 + 3 + 2);
}
