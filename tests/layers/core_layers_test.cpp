// The core layers inside functional graphs (layers/base/functional.h): a graph run
// must equal the layers applied by hand, masks must flow through the layers
// that support them, and a graph's config must rebuild the same network.
#include <cmath>

#include "autograd/functions.h"
#include "layers/activations/activation_layers.h"
#include "layers/base/functional.h"
#include "layers/base/input_layer.h"
#include "layers/core/dense.h"
#include "layers/core/masking.h"
#include "layers/merge/merge.h"
#include "layers/regularization/dropout.h"
#include "layers/reshaping/reshaping.h"
#include "support/assertions.h"
#include "support/tensors.h"

namespace minidl {
namespace {

using testing::random_tensor;

TEST(CoreLayersGraph, SequentialChainEqualsLayersAppliedByHand) {
  auto d1 = Dense(12, {.activation = "relu"});
  auto drop = Dropout(0.5);
  auto reshape = Reshape({3, 4});
  auto permute = Permute({2, 1});
  auto flat = Flatten();
  auto leaky = LeakyReLU();
  auto d2 = Dense(5);
  auto soft = Softmax();
  KerasTensor in = Input({6});
  KerasTensor out = soft(d2(leaky(flat(permute(reshape(drop(d1(in))))))));
  EXPECT_EQ(out.shape(), (Shape{kNone, 5}));
  auto net = std::make_shared<FunctionalImpl>(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{out});

  const Tensor x = random_tensor({4, 6}, 1);
  const Tensor got = net->run({Variable(x)}, {})[0].value();  // inference: Dropout is the identity
  const Tensor want = soft(d2(leaky(flat(permute(reshape(d1(x)))))));
  EXPECT_TRUE(testing::AllClose(got, want));
  double row = 0;
  for (int64_t j = 0; j < 5; ++j) row += got.at({0, j});
  EXPECT_NEAR(row, 1.0, 1e-5);
}

TEST(CoreLayersGraph, TrainingRunDropsAndBackpropagatesToEveryWeight) {
  auto d1 = Dense(8);
  auto d2 = Dense(3);
  KerasTensor in = Input({5});
  KerasTensor out = d2(Dropout(0.5)(d1(in)));
  auto net = std::make_shared<FunctionalImpl>(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{out});
  const Variable x(random_tensor({6, 5}, 2));
  CallArgs train;
  train.training = true;
  const Tensor a = net->run({x}, train)[0].value();
  const Tensor b = net->run({x}, {})[0].value();
  EXPECT_GT(max_abs_diff(a, b), 0.f);  // dropout changed something while training
  autograd::sum(net->run({x}, train)[0]).backward();
  for (const Variable& w : net->trainable_weights()) EXPECT_TRUE(w.grad().defined()) << w.name();
}

TEST(CoreLayersGraph, TwoBranchesMergeWithAddAndConcatenate) {
  auto da = Dense(4, {.name = "a"});
  auto db = Dense(4, {.name = "b"});
  auto add = Add();
  auto cat = Concatenate();
  KerasTensor in = Input({3});
  KerasTensor ya = da(in), yb = db(in);
  KerasTensor s = add({ya, yb});
  KerasTensor out = cat({s, ya});
  EXPECT_EQ(out.shape(), (Shape{kNone, 8}));
  auto net = std::make_shared<FunctionalImpl>(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{out});

  const Tensor x = random_tensor({2, 3}, 3);
  const Tensor got = net->run({Variable(x)}, {})[0].value();
  const Tensor ta = da(x), tb = db(x);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t j = 0; j < 4; ++j) {
      EXPECT_NEAR(got.at({n, j}), double(ta.at({n, j})) + tb.at({n, j}), 1e-5);
      EXPECT_EQ(got.at({n, 4 + j}), ta.at({n, j}));
    }
}

TEST(CoreLayersGraph, MaskFlowsThroughMaskingLayersToTheOutput) {
  auto masking = Masking();
  KerasTensor in = Input({4, 3});
  KerasTensor h = ActivationLayer("tanh")(Dropout(0.2)(Dense(2)(masking(in))));
  KerasTensor out = Add()({h, ReLU()(h)});
  auto net = std::make_shared<FunctionalImpl>(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{out});

  Tensor x = random_tensor({2, 4, 3}, 4);
  for (int64_t f = 0; f < 3; ++f) x.at({1, 2, f}) = 0.f;
  std::vector<Tensor> masks;
  net->run({Variable(x)}, {}, &masks);
  ASSERT_EQ(masks.size(), 1u);
  ASSERT_TRUE(masks[0].defined());
  EXPECT_EQ(masks[0].to_vector(), (std::vector<float>{1, 1, 1, 1, 1, 1, 0, 1}));
}

TEST(CoreLayersGraph, SymbolicMasksHaveTimestepShapes) {
  KerasTensor in = Input({4, 3});
  KerasTensor m = Masking()(in);
  auto cat = Concatenate({.axis = 1});
  cat({m, Input({2, 3})});
  ASSERT_TRUE(cat->output_mask().has_value());
  EXPECT_EQ(cat->output_mask()->shape(), (Shape{kNone, 6}));
  auto add = Add();
  add({m, m});
  ASSERT_TRUE(add->output_mask().has_value());
  EXPECT_EQ(add->output_mask()->shape(), (Shape{kNone, 4}));
}

TEST(CoreLayersGraph, ConfigRebuildsAnEquivalentNetwork) {
  KerasTensor in = Input({2, 3});
  KerasTensor h = Permute({2, 1})(in);
  KerasTensor a = Dense(4, {.activation = "sigmoid"})(Flatten()(h));
  KerasTensor b = Dense(4)(Reshape({6})(in));
  KerasTensor out = Softmax()(Subtract()({Maximum()({a, b}), Minimum()({a, b})}));
  auto net = std::make_shared<FunctionalImpl>(std::vector<KerasTensor>{in}, std::vector<KerasTensor>{out});

  auto [ins, outs] = FunctionalImpl::graph_from_config(net->get_config());
  auto copy = std::make_shared<FunctionalImpl>(ins, outs);
  EXPECT_EQ(copy->get_config()["layers"], net->get_config()["layers"]);
  copy->set_weights(net->get_weights());
  const Variable x(random_tensor({3, 2, 3}, 5));
  EXPECT_TRUE(testing::AllClose(copy->run({x}, {})[0].value(), net->run({x}, {})[0].value()));
}

}  // namespace
}  // namespace minidl
