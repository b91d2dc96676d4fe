// tests/layers/layer_structure_test.cpp — Layer's parts: the "how to write a layer" example of
// layers/base/layer.h, LossesAndUpdates, NodeHistory through Layer, and FunctionalImpl::get_layer.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "layers/base/functional.h"
#include "layers/base/input_layer.h"
#include "layers/base/layer.h"
#include "layers/base/losses_and_updates.h"
#include "train/model.h"

using namespace minidl;

namespace {

// The example of layers/base/layer.h's header comment, as written there.
class ScaleImpl : public Layer {
 public:
  explicit ScaleImpl(LayerOptions o = {}) : Layer(std::move(o), "scale") {}
  std::string class_name() const override { return "Scale"; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) override { return {single_shape(in)}; }

 protected:
  void check_input(const std::vector<Shape>& in) const override {  // real shapes, batch axis included
    if (single_shape(in).size() < 2) fail("expected input of rank >= 2, received shape {}", shape_str(in[0]));
  }
  void build(const std::vector<Shape>& in) override {  // once, batch axis None
    scale_ = add_weight("scale", {in[0].back()}, "ones");
  }
  VariableList call(const std::vector<Variable>& in, const CallArgs&) override {
    return {autograd::mul(single_input(in), scale_)};  // autograd ops: the gradient comes for free
  }

 private:
  Variable scale_;
};

std::shared_ptr<ScaleImpl> scale(const std::string& name = "") {
  LayerOptions o;
  o.name = name;
  return std::make_shared<ScaleImpl>(o);
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(WritingALayer, HeaderExampleCallsSymbolicallyAndConcretely) {
  auto layer = scale("s");
  KerasTensor y = (*layer)(Input({3}));
  EXPECT_EQ(y.shape(), (Shape{kNone, 3}));
  EXPECT_EQ(layer->get_output_shape_at(0), (Shape{kNone, 3}));
  ASSERT_EQ(layer->weights().size(), 1u);
  EXPECT_EQ(layer->weights()[0].name(), "s/scale:0");

  layer->set_weights({Tensor::from_data({3}, {1, 2, 3})});
  Variable x(Tensor::from_data({2, 3}, {1, 1, 1, 2, 2, 2}), true);
  Variable out = (*layer)(x);
  EXPECT_EQ(out.value().to_vector(), (std::vector<float>{1, 2, 3, 2, 4, 6}));
  autograd::sum(out).backward();
  EXPECT_EQ(layer->weights()[0].grad().to_vector(), (std::vector<float>{3, 3, 3}));
}

TEST(WritingALayer, HeaderExampleCheckInputSeesTheRealShape) {
  auto layer = scale("s");
  EXPECT_EQ(error_of([&] { (*layer)(Variable(Tensor::ones({5}))); }),
            "Scale 's': expected input of rank >= 2, received shape (5,)");
  EXPECT_FALSE(layer->built());
}

TEST(LossesAndUpdates, ConditionalEntriesAreSelectedByKey) {
  LossesAndUpdates book;
  int key = 0;
  book.add_loss(Variable(Tensor::scalar(1.f)), nullptr);
  book.add_loss(Variable(Tensor::scalar(2.f)), &key);
  book.add_activity_loss(Variable(Tensor::scalar(3.f)), &key);
  std::vector<Variable> all, keyed, unconditional;
  book.append_losses(all);
  book.append_losses_for(&key, keyed);
  book.append_losses_for(nullptr, unconditional);
  EXPECT_EQ(all.size(), 3u);
  ASSERT_EQ(keyed.size(), 2u);
  EXPECT_EQ(keyed[1].value().item(), 3.f);
  ASSERT_EQ(unconditional.size(), 1u);
  EXPECT_EQ(unconditional[0].value().item(), 1.f);

  book.clear_activity_losses();
  all.clear();
  book.append_losses(all);
  EXPECT_EQ(all.size(), 2u);
}

TEST(LossesAndUpdates, UpdatesAddedWhileRunningWaitForTheNextRun) {
  LossesAndUpdates book;
  std::vector<int> ran;
  book.add_update([&] {
    ran.push_back(1);
    book.add_update([&] { ran.push_back(2); }, nullptr);
  }, nullptr);
  EXPECT_TRUE(book.has_pending_updates());
  book.run_updates();
  EXPECT_EQ(ran, (std::vector<int>{1}));
  EXPECT_TRUE(book.has_pending_updates());
  book.run_updates();
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
  EXPECT_FALSE(book.has_pending_updates());
}

TEST(NodeHistory, ConcreteCallsRecordNoNodeAndTheErrorSaysSo) {
  auto layer = scale("s");
  EXPECT_EQ(error_of([&] { layer->get_input_at(0); }),
            "The layer s has never been called and thus has no defined input.");
  (*layer)(Variable(Tensor::ones({2, 3})));
  EXPECT_TRUE(layer->inbound_nodes().empty());
  EXPECT_EQ(error_of([&] { layer->get_output_shape_at(0); }),
            "Layer s has only been called on concrete tensors (eager mode), which records no nodes, and thus has "
            "no defined output");
}

TEST(NodeHistory, OutboundNodesAreTheConsumersCalls) {
  auto a = scale("a");
  auto b = scale("b");
  KerasTensor y = (*a)(Input({3}));
  (*b)(y);
  (*b)(y);
  ASSERT_EQ(a->outbound_nodes().size(), 2u);
  EXPECT_EQ(a->outbound_nodes()[1]->outbound_layer(), b.get());
  EXPECT_EQ(b->get_input_at(1).layer().get(), a.get());
  EXPECT_EQ(error_of([&] { b->input(); }),
            "Layer b has multiple inbound nodes, hence the notion of \"layer input\" is ill-defined. "
            "Use `get_input_at(node_index)` instead.");
  EXPECT_EQ(b->input_shape(), (Shape{kNone, 3}));  // every node agrees
}

TEST(FunctionalGetLayer, FindsEveryGraphLayerByNameIncludingInputs) {
  KerasTensor in = Input({3}, {.name = "in"});
  auto s = scale("s");
  FunctionalImpl net({in}, {(*s)(in)});
  EXPECT_EQ(net.get_layer("s").get(), s.get());
  EXPECT_EQ(net.get_layer("in").get(), in.layer().get());
  EXPECT_EQ(error_of([&] { net.get_layer("nope"); }), "No such layer: nope. Existing layers are: [in, s].");
}

TEST(FunctionalGetLayer, SequentialSearchesItsStackBeforeAndAfterTheGraphExists) {
  Sequential model;
  model->add(scale("first"));
  EXPECT_FALSE(model->built());
  EXPECT_EQ(model->get_layer("first")->name(), "first");  // no graph yet
  model->build(Shape{kNone, 3});
  EXPECT_EQ(model->get_layer("first")->name(), "first");
  // Sequential.layers has no InputLayer, so get_layer does not find it (as in Keras).
  const std::string input_name = model->inputs()[0].layer()->name();
  EXPECT_THROW(model->get_layer(input_name), ValueError);
}
