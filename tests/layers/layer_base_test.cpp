// The Keras Layer contract: naming, symbolic calls and nodes, node-indexed
// accessors and their errors, weights, losses, updates, masks, config.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "layers/base/functional.h"
#include "layers/base/input_layer.h"
#include "support/toy_layers.h"

using namespace minidl;
using namespace minidl::testing;

namespace {
std::shared_ptr<ScaleImpl> scale(const std::string& name = "") {
  LayerOptions o;
  o.name = name;
  return std::make_shared<ScaleImpl>(o);
}
}  // namespace

TEST(LayerNames, DefaultNamesAreUniqueAndKerasStyle) {
  reset_layer_names();
  EXPECT_EQ(scale()->name(), "scale");
  EXPECT_EQ(scale()->name(), "scale_1");
  EXPECT_EQ(scale()->name(), "scale_2");
  EXPECT_EQ(scale("mine")->name(), "mine");
}

TEST(LayerNames, SnakeCaseMatchesKeras) {
  EXPECT_EQ(to_snake_case("Conv2D"), "conv2d");
  EXPECT_EQ(to_snake_case("MaxPooling2D"), "max_pooling2d");
  EXPECT_EQ(to_snake_case("BatchNormalization"), "batch_normalization");
  EXPECT_EQ(to_snake_case("Conv2DTranspose"), "conv2d_transpose");
  EXPECT_EQ(to_snake_case("PReLU"), "p_re_lu");
  EXPECT_EQ(to_snake_case("GlobalAveragePooling2D"), "global_average_pooling2d");
}

TEST(Input, NamesCountFromOneLikeKeras2) {
  reset_layer_names();
  KerasTensor a = Input({3});
  KerasTensor b = Input({3});
  EXPECT_EQ(a.layer()->name(), "input_1");
  EXPECT_EQ(b.layer()->name(), "input_2");
  EXPECT_EQ(a.shape(), (Shape{kNone, 3}));
  EXPECT_EQ(Input({2, 2}, {.batch_size = 8}).shape(), (Shape{8, 2, 2}));
}

TEST(LayerCall, SymbolicCallBuildsAndRecordsANode) {
  auto layer = scale();
  KerasTensor x = Input({4});
  EXPECT_FALSE(layer->built());
  KerasTensor y = (*layer)(x);
  EXPECT_TRUE(layer->built());
  EXPECT_EQ(y.shape(), (Shape{kNone, 4}));
  EXPECT_EQ(y.layer().get(), layer.get());
  EXPECT_EQ(y.node_index(), 0);
  EXPECT_EQ(y.tensor_index(), 0);
  ASSERT_EQ(layer->inbound_nodes().size(), 1u);
  EXPECT_EQ(layer->inbound_nodes()[0]->inbound_layers()[0].get(), x.layer().get());
  // The input layer knows who consumed it.
  EXPECT_EQ(x.layer()->outbound_nodes().size(), 1u);
}

TEST(LayerCall, ConcreteCallComputesWithoutNodes) {
  auto layer = scale();
  Variable x(Tensor::from_data({2, 3}, {1, 2, 3, 4, 5, 6}));
  Variable y = (*layer)(x);
  EXPECT_TRUE(layer->inbound_nodes().empty());
  EXPECT_EQ(y.value().to_vector(), x.value().to_vector());  // scale initialised to ones
  // The tape reaches the weight.
  autograd::sum(y).backward();
  EXPECT_EQ(layer->trainable_weights()[0].grad().to_vector(), (std::vector<float>{5, 7, 9}));
}

TEST(LayerNodes, SharedLayerHasOneNodePerCall) {
  auto shared = scale();
  KerasTensor a = Input({4});
  KerasTensor b = Input({4});
  (*shared)(a);
  (*shared)(b);
  ASSERT_EQ(shared->inbound_nodes().size(), 2u);
  EXPECT_TRUE(shared->get_input_at(0).same_as(a));
  EXPECT_TRUE(shared->get_input_at(1).same_as(b));
  EXPECT_EQ(shared->get_output_at(1).node_index(), 1);
  EXPECT_EQ(shared->get_input_shape_at(1), (Shape{kNone, 4}));
  // Same shapes at both nodes: the shape properties are still defined...
  EXPECT_EQ(shared->input_shape(), (Shape{kNone, 4}));
  // ...but "the input" is not.
  try {
    shared->input();
    FAIL() << "expected AttributeError";
  } catch (const AttributeError& e) {
    EXPECT_NE(std::string(e.what()).find(shared->name()), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("multiple inbound nodes"), std::string::npos);
  }
  EXPECT_THROW(shared->output(), AttributeError);
}

TEST(LayerNodes, DifferentShapesAtTwoNodesMakeInputShapeIllDefined) {
  auto shared = std::make_shared<PairSumImpl>();
  (*shared)(Input({4}));
  (*shared)(Input({5}));
  EXPECT_EQ(shared->get_input_shape_at(0), (Shape{kNone, 4}));
  EXPECT_EQ(shared->get_input_shape_at(1), (Shape{kNone, 5}));
  EXPECT_EQ(shared->get_output_shape_at(1), (Shape{kNone, 5}));
  EXPECT_THROW(shared->input_shape(), AttributeError);
  EXPECT_THROW(shared->output_shape(), AttributeError);
}

TEST(LayerNodes, ErrorsNameTheLayer) {
  auto never = scale("never_called");
  EXPECT_THROW(never->get_input_at(0), RuntimeError);
  EXPECT_THROW(never->input(), AttributeError);
  EXPECT_THROW(never->output_shape(), AttributeError);

  auto eager = scale("eager_only");
  (*eager)(Variable(Tensor::ones({1, 2})));
  try {
    eager->input();
    FAIL();
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("eager_only"), std::string::npos);
  }
  EXPECT_THROW(eager->get_output_at(0), RuntimeError);

  auto once = scale("called_once");
  (*once)(Input({2}));
  try {
    once->get_input_at(3);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("called_once"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("node 3"), std::string::npos);
  }
}

TEST(LayerNodes, MultiInputNodeHasSeveralInboundLayers) {
  KerasTensor a = Input({3}), b = Input({3});
  auto sum = std::make_shared<PairSumImpl>();
  KerasTensor y = (*sum)({a, b});
  ASSERT_EQ(sum->inbound_nodes().size(), 1u);
  auto inbound = sum->inbound_nodes()[0]->inbound_layers();
  ASSERT_EQ(inbound.size(), 2u);
  EXPECT_EQ(inbound[0].get(), a.layer().get());
  EXPECT_EQ(inbound[1].get(), b.layer().get());
  EXPECT_EQ(sum->get_input_shapes_at(0).size(), 2u);
  EXPECT_EQ(y.shape(), (Shape{kNone, 3}));
}

TEST(LayerMasks, MasksPropagateSymbolicallyAndConcretely) {
  KerasTensor x = Input({5, 3});
  auto emit = std::make_shared<MaskEmitterImpl>();
  auto pass = std::make_shared<PairSumImpl>();
  KerasTensor h = (*emit)(x);
  KerasTensor y = (*pass)(h);
  EXPECT_FALSE(emit->get_input_mask_at(0).has_value());
  ASSERT_TRUE(emit->get_output_mask_at(0).has_value());
  EXPECT_EQ(emit->get_output_mask_at(0)->shape(), (Shape{kNone, 5}));
  ASSERT_TRUE(pass->input_mask().has_value());
  EXPECT_EQ(pass->output_mask()->shape(), (Shape{kNone, 5}));

  FunctionalImpl net({x}, {y});
  Tensor data = Tensor::zeros({1, 5, 3});
  data.at({0, 1, 2}) = 1.f;
  data.at({0, 4, 0}) = -2.f;
  std::vector<Tensor> masks;
  net.run({Variable(data)}, CallArgs{}, &masks);
  ASSERT_EQ(masks.size(), 1u);
  EXPECT_EQ(masks[0].to_vector(), (std::vector<float>{0, 1, 0, 0, 1}));
}

TEST(LayerMasks, LayerWithoutMaskingRejectsAMask) {
  KerasTensor x = Input({5, 3});
  KerasTensor h = (*std::make_shared<MaskEmitterImpl>())(x);
  auto refuses = std::make_shared<NoMaskImpl>();
  EXPECT_THROW((*refuses)(h), TypeError);
}

TEST(LayerWeights, TrainableFlagMovesWeights) {
  auto layer = scale();
  layer->maybe_build({{kNone, 3}});
  layer->add_weight("frozen", {2}, "zeros", {}, /*trainable=*/false);
  EXPECT_EQ(layer->weights().size(), 2u);
  EXPECT_EQ(layer->trainable_weights().size(), 1u);
  EXPECT_EQ(layer->non_trainable_weights().size(), 1u);
  layer->set_trainable(false);
  EXPECT_TRUE(layer->trainable_weights().empty());
  EXPECT_EQ(layer->non_trainable_weights().size(), 2u);
  EXPECT_EQ(layer->trainable_variables().size(), 0u);
  EXPECT_EQ(layer->variables().size(), 2u);
  EXPECT_EQ(layer->weights()[0].name(), layer->name() + "/scale:0");
}

TEST(LayerWeights, GetAndSetWeightsCheckCountAndShapes) {
  auto layer = scale("w_check");
  EXPECT_THROW(layer->count_params(), ValueError);
  layer->maybe_build({{kNone, 3}});
  EXPECT_EQ(layer->count_params(), 3);
  layer->set_weights({Tensor::from_data({3}, {1, 2, 3})});
  EXPECT_EQ(layer->get_weights()[0].to_vector(), (std::vector<float>{1, 2, 3}));
  try {
    layer->set_weights({});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("w_check"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("(3,)"), std::string::npos);
  }
  EXPECT_THROW(layer->set_weights({Tensor::zeros({4})}), ValueError);
  // get_weights copies: changing the copy leaves the layer alone.
  Tensor copy = layer->get_weights()[0];
  copy[0] = 100.f;
  EXPECT_EQ(layer->get_weights()[0][0], 1.f);
}

TEST(LayerWeights, ConstructionWeightsApplyAtBuild) {
  LayerOptions o;
  o.weights = {Tensor::from_data({2}, {7, 8})};
  auto layer = std::make_shared<ScaleImpl>(o);
  (*layer)(Input({2}));
  EXPECT_EQ(layer->get_weights()[0].to_vector(), (std::vector<float>{7, 8}));
}

TEST(LayerWeights, AddVariableIsAnAlias) {
  auto layer = scale();
  Variable v = layer->add_variable("extra", {2, 2}, "ones");
  EXPECT_EQ(v.shape(), (Shape{2, 2}));
  EXPECT_THROW(layer->add_weight("extra", {1}), ValueError);
}

TEST(LayerLosses, RegularizationIsUnconditionalAndActivityIsConditional) {
  LayerOptions o;
  o.activity_regularizer = L1(0.5);
  auto layer = std::make_shared<ScaleImpl>(o, L2(0.1));
  Variable x(Tensor::from_data({2, 2}, {1, -1, 2, 0}));
  Variable y = (*layer)(x);
  // L2: 0.1 * (1 + 1) = 0.2; activity: 0.5 * sum|y| / batch = 0.5 * 4 / 2 = 1.
  auto all = layer->losses();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_NEAR(all[0].value().item(), 0.2f, 1e-6);
  EXPECT_NEAR(all[1].value().item(), 1.0f, 1e-6);
  auto uncond = layer->get_losses_for(nullptr);
  ASSERT_EQ(uncond.size(), 1u);
  EXPECT_NEAR(uncond[0].value().item(), 0.2f, 1e-6);
  auto cond = layer->get_losses_for(&x);
  ASSERT_EQ(cond.size(), 1u);
  EXPECT_NEAR(cond[0].value().item(), 1.0f, 1e-6);
  // A new top-level call replaces the activity loss instead of piling up.
  (*layer)(x);
  EXPECT_EQ(layer->losses().size(), 2u);
  // add_loss adds an unconditional term.
  layer->add_loss(Variable(Tensor::scalar(3.f)));
  EXPECT_EQ(layer->get_losses_for(nullptr).size(), 2u);
  EXPECT_EQ(layer->activity_regularizer()->class_name(), "L1");
}

TEST(LayerUpdates, ConditionalAndUnconditionalUpdatesRunOnce) {
  auto layer = scale();
  Variable x(Tensor::ones({1, 1}));
  int a = 0, b = 0;
  layer->add_update([&] { ++a; });
  layer->add_update([&] { ++b; }, &x);
  EXPECT_EQ(layer->updates().size(), 2u);
  EXPECT_EQ(layer->get_updates_for(nullptr).size(), 1u);
  EXPECT_EQ(layer->get_updates_for(&x).size(), 1u);
  layer->run_updates();
  layer->run_updates();
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
  EXPECT_TRUE(layer->updates().empty());
}

TEST(LayerConfig, BaseConfigUsesKerasKeys) {
  LayerOptions o;
  o.name = "cfg";
  o.input_shape = Shape{28, 28, 1};
  o.trainable = false;
  auto layer = std::make_shared<ScaleImpl>(o);
  json c = layer->get_config();
  EXPECT_EQ(c["name"], "cfg");
  EXPECT_EQ(c["trainable"], false);
  EXPECT_EQ(c["dtype"], "float32");
  EXPECT_EQ(c["batch_input_shape"].dump(), "[null,28,28,1]");
}

TEST(LayerConfig, RegistryRoundTripAndUnknownClass) {
  minidl::testing::register_test_layers();
  auto layer = scale("round");
  auto copy = layer_from_config(serialize_layer(*layer));
  EXPECT_EQ(copy->class_name(), "TestScale");
  EXPECT_EQ(copy->get_config(), layer->get_config());
  try {
    layer_from_config({{"class_name", "NoSuchLayer"}, {"config", json::object()}});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("NoSuchLayer"), std::string::npos);
  }
  EXPECT_TRUE(LayerRegistry::instance().contains("InputLayer"));
}

TEST(LayerOptionsTest, InputShapeAndBatchSizeCombine) {
  LayerOptions o;
  o.input_shape = Shape{4};
  o.batch_size = 16;
  EXPECT_EQ(*std::make_shared<ScaleImpl>(o)->batch_input_shape(), (Shape{16, 4}));
  LayerOptions bad;
  bad.dtype = "float64";
  EXPECT_THROW(std::make_shared<ScaleImpl>(bad), ValueError);
}
