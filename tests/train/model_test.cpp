// Model and Sequential as graphs: construction, layers, get_layer, nesting,
// config round trips, predict — with the tiny test layers only.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "layers/base/input_layer.h"
#include "support/assertions.h"
#include "support/toy_layers.h"
#include "train/model.h"

using namespace minidl;
using namespace minidl::testing;

namespace {
std::shared_ptr<ScaleImpl> scale(const std::string& name = "", std::optional<Shape> input_shape = std::nullopt) {
  LayerOptions o;
  o.name = name;
  o.input_shape = input_shape;
  return std::make_shared<ScaleImpl>(o);
}
}  // namespace

TEST(FunctionalModel, MultipleInputsAndOutputsRunInTopologicalOrder) {
  KerasTensor a = Input({2}), b = Input({2});
  auto sa = scale("sa"), sb = scale("sb");
  KerasTensor ha = (*sa)(a), hb = (*sb)(b);
  KerasTensor sum = (*std::make_shared<PairSumImpl>(LayerOptions{.name = "sum"}))({ha, hb});
  Model model({a, b}, {sum, ha}, "two_heads");
  EXPECT_EQ(model->name(), "two_heads");
  EXPECT_EQ(model->inputs().size(), 2u);
  EXPECT_EQ(model->outputs().size(), 2u);
  sa->set_weights({Tensor::from_data({2}, {2, 2})});
  auto out = model->predict(std::vector<Tensor>{Tensor::from_data({1, 2}, {1, 2}), Tensor::from_data({1, 2}, {3, 4})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].to_vector(), (std::vector<float>{5, 8}));  // 2*[1,2] + [3,4]
  EXPECT_EQ(out[1].to_vector(), (std::vector<float>{2, 4}));
  // Layers: inputs first (depth order), each once.
  auto layers = model->layers();
  ASSERT_EQ(layers.size(), 5u);
  EXPECT_EQ(layers[0]->class_name(), "InputLayer");
  EXPECT_EQ(layers.back()->name(), "sum");
  EXPECT_EQ(model->get_layer("sb").get(), sb.get());
  EXPECT_EQ(model->get_layer(4)->name(), "sum");
  EXPECT_THROW(model->get_layer("nope"), ValueError);
  EXPECT_THROW(model->get_layer(9), ValueError);
  EXPECT_EQ(model->count_params(), 4);
}

TEST(FunctionalModel, SharedLayerWeightsCountOnce) {
  KerasTensor a = Input({3}), b = Input({3});
  auto shared = scale("shared");
  KerasTensor y = (*std::make_shared<PairSumImpl>())({(*shared)(a), (*shared)(b)});
  Model model({a, b}, {y});
  EXPECT_EQ(model->weights().size(), 1u);
  EXPECT_EQ(shared->inbound_nodes().size(), 2u);
  EXPECT_EQ(shared->get_input_shape_at(0), (Shape{kNone, 3}));
  EXPECT_EQ(shared->get_input_shape_at(1), (Shape{kNone, 3}));
  // Gradients from both uses accumulate into the one weight.
  Variable xa(Tensor::ones({1, 3})), xb(Tensor::full({1, 3}, 2.f));
  auto out = (*model)(std::vector<Variable>{xa, xb});
  autograd::sum(out[0]).backward();
  EXPECT_EQ(shared->trainable_weights()[0].grad().to_vector(), (std::vector<float>{3, 3, 3}));
}

TEST(FunctionalModel, DuplicateNamesAreAValueError) {
  KerasTensor x = Input({2});
  KerasTensor h = (*scale("dup"))(x);
  KerasTensor y = (*scale("dup"))(h);
  try {
    Model m(x, y);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("\"dup\" is used 2 times"), std::string::npos);
  }
}

TEST(FunctionalModel, InputsMustBeInputTensorsAndConnected) {
  KerasTensor x = Input({2});
  KerasTensor h = (*scale())(x);
  EXPECT_THROW(Model(h, (*scale())(h)), ValueError);
  KerasTensor other = Input({2});
  EXPECT_THROW(Model(other, h), ValueError);  // h does not depend on `other`
}

TEST(FunctionalModel, NestedModelIsALayerWithNodes) {
  KerasTensor x = Input({2});
  Model inner(x, (*scale("inner_scale"))(x), "inner");
  KerasTensor y = Input({2});
  KerasTensor z = inner(y);
  KerasTensor w = inner(z);  // the inner model used twice
  Model outer(y, w, "outer");
  EXPECT_EQ(inner->inbound_nodes().size(), 3u);  // its own InputLayer call is not a node of the model itself
  EXPECT_EQ(inner->get_output_shape_at(1), (Shape{kNone, 2}));
  inner->get_layer("inner_scale")->set_weights({Tensor::from_data({2}, {2, 3})});
  Tensor out = outer->predict(Tensor::from_data({1, 2}, {1, 1}));
  EXPECT_EQ(out.to_vector(), (std::vector<float>{4, 9}));
  EXPECT_EQ(outer->weights().size(), 1u);
}

// A layer (or model) applied to its own output records a node holding that
// output; the node must not own the layer, or neither is ever freed
// (LeakSanitizer caught this in the test above).
TEST(FunctionalModel, LayersAppliedToTheirOwnOutputAreFreed) {
  std::weak_ptr<Layer> weak_layer, weak_model;
  {
    auto shared = scale("chained");
    KerasTensor x = Input({2});
    KerasTensor y = (*shared)((*shared)(x));
    Model inner(x, y, "inner_chain");
    KerasTensor z = Input({2});
    KerasTensor w = inner(inner(z));
    EXPECT_EQ(w.layer().get(), inner.ptr().get());
    weak_layer = shared;
    weak_model = inner.ptr();
  }
  EXPECT_TRUE(weak_layer.expired());
  EXPECT_TRUE(weak_model.expired());
}

TEST(FunctionalModel, ConfigRoundTripRebuildsTheGraph) {
  minidl::testing::register_test_layers();
  KerasTensor a = Input({3}, {.name = "in_a"});
  auto s1 = scale("s1");
  KerasTensor h = (*s1)(a);
  KerasTensor y = (*scale("s2"))(h);
  Model model(a, y, "round");
  json c = model->get_config();
  EXPECT_EQ(c["input_layers"].dump(), R"([["in_a",0,0]])");
  EXPECT_EQ(c["output_layers"].dump(), R"([["s2",0,0]])");
  EXPECT_EQ(c["layers"][1]["inbound_nodes"].dump(), R"([[["in_a",0,0,{}]]])");
  auto copy = ModelImpl::from_config(c);
  EXPECT_EQ(copy->get_config(), c);
  auto via_registry = layer_from_config({{"class_name", "Functional"}, {"config", c}});
  EXPECT_EQ(via_registry->class_name(), "Functional");
  auto legacy = layer_from_config({{"class_name", "Model"}, {"config", c}});
  EXPECT_EQ(legacy->name(), "round");
}

TEST(Sequential, BuildsFromTheFirstLayersInputShape) {
  reset_layer_names();
  Sequential model({scale("", Shape{4}), scale()});
  ASSERT_EQ(model->layers().size(), 2u);
  EXPECT_EQ(model->inputs()[0].shape(), (Shape{kNone, 4}));
  EXPECT_EQ(model->inputs()[0].layer()->name(), "scale_input");  // Keras names it after the first layer
  EXPECT_EQ(model->outputs()[0].shape(), (Shape{kNone, 4}));
  EXPECT_EQ(model->count_params(), 8);
  EXPECT_EQ(model->class_name(), "Sequential");
}

TEST(Sequential, DefersBuildWithoutAnInputShape) {
  Sequential model;
  model->add(scale());
  EXPECT_FALSE(model->built());
  EXPECT_THROW(model->summary(), ValueError);
  Tensor y = model->predict(Tensor::ones({2, 3}));
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_TRUE(model->built());
  EXPECT_EQ(model->inputs()[0].shape(), (Shape{kNone, 3}));
}

TEST(Sequential, AddAcceptsAnInputAndRejectsDuplicates) {
  Sequential model;
  model->add(Input({5}));
  model->add(scale("only"));
  EXPECT_THROW(model->add(scale("only")), ValueError);
  EXPECT_THROW(model->add(Input({5})), ValueError);
  EXPECT_EQ(model->outputs()[0].shape(), (Shape{kNone, 5}));
}

TEST(Sequential, PopRemovesTheLastLayer) {
  Sequential model({scale("a", Shape{2}), scale("b")});
  model->pop();
  EXPECT_EQ(model->layers().size(), 1u);
  EXPECT_EQ(model->outputs()[0].layer()->name(), "a");
  model->pop();
  EXPECT_THROW(model->pop(), TypeError);
}

TEST(Sequential, ConfigRoundTripKeepsInputLayerFirst) {
  minidl::testing::register_test_layers();
  Sequential model({scale("first", Shape{3}), scale("second")}, "seq");
  json c = model->get_config();
  EXPECT_EQ(c["name"], "seq");
  ASSERT_EQ(c["layers"].size(), 3u);
  EXPECT_EQ(c["layers"][0]["class_name"], "InputLayer");
  EXPECT_EQ(c["layers"][0]["config"]["name"], "first_input");
  auto copy = SequentialImpl::from_config(c);
  EXPECT_EQ(copy->get_config(), c);
  // The Keras 1 / 2.1 form: a bare list whose first layer carries batch_input_shape.
  json legacy = json::array({c["layers"][1], c["layers"][2]});
  auto old = SequentialImpl::from_config(legacy);
  EXPECT_EQ(old->layers().size(), 2u);
  EXPECT_EQ(old->inputs()[0].shape(), (Shape{kNone, 3}));
}

TEST(Sequential, TheRPagesThreeCompositionsAgree) {
  // 1. a standalone layer object called on a tensor; 2. the same kind of layer
  // added to a Sequential model; 3. applied to a symbolic tensor in a Model.
  Tensor x = Tensor::from_data({1, 2}, {3, 4});
  Tensor w = Tensor::from_data({2}, {0.5f, 2});
  auto standalone = scale();
  standalone->maybe_build({{kNone, 2}});
  standalone->set_weights({w});
  Tensor y1 = (*standalone)(x);

  auto in_seq = scale("", Shape{2});
  Sequential seq({in_seq});
  in_seq->set_weights({w});
  Tensor y2 = seq->predict(x);

  KerasTensor t = Input({2});
  auto applied = scale();
  Model m(t, (*applied)(t));
  applied->set_weights({w});
  Tensor y3 = m->predict(x);
  EXPECT_EQ(y1.to_vector(), y2.to_vector());
  EXPECT_EQ(y2.to_vector(), y3.to_vector());
  EXPECT_EQ(y1.to_vector(), (std::vector<float>{1.5f, 8}));
}

TEST(ModelSummary, SequentialTableAndParamCounts) {
  reset_layer_names();
  Sequential model({scale("", Shape{10}), scale()}, "sequential");
  const std::string s = model->summary();
  EXPECT_TRUE(ContainsAll(s, {"Model: \"sequential\"",
                              "Layer (type)                 Output Shape              Param #",
                              "scale (TestScale)            (None, 10)                10"}));
  EXPECT_TRUE(HasParamTotals(s, "20", "20", "0"));
}

TEST(ModelSummary, FunctionalTableHasConnectedTo) {
  KerasTensor a = Input({2}, {.name = "a"}), b = Input({2}, {.name = "b"});
  KerasTensor y = (*std::make_shared<PairSumImpl>(LayerOptions{.name = "add"}))({a, b});
  Model m({a, b}, {y});
  const std::string s = m->summary();
  // InputLayer rows show a list, as tf.keras 2.4.
  EXPECT_TRUE(ContainsAll(s, {"Connected to", "a[0][0]", "b[0][0]", "[(None, 2)]"}));
}
