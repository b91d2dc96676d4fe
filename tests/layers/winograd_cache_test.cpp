// tests/layers/winograd_cache_test.cpp — the Winograd kernel transform kept across Conv2D calls
// while the kernel's version (autograd/variable_version.h) is unchanged, and each way weights
// change (an optimizer step, set_weights, load_weights) giving a new version, so the next call
// sees the new weights.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/variable.h"
#include "autograd/variable_version.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/conv2d_function.h"
#include "ops/winograd.h"
#include "support/assertions.h"
#include "support/conv_cases.h"
#include "support/files.h"
#include "support/tensors.h"
#include "train/model.h"
#include "train/optimizers.h"

namespace minidl {
namespace {

using namespace testing;

// A model of two 3x3 stride-1 Conv2D layers wide enough for Winograd (16 channels).
Sequential winograd_model() {
  Sequential model({Conv2D(16, 3, {.padding = "same", .input_shape = Shape{6, 7, 16}}), Conv2D(16, 3)});
  return model;
}

Tensor random_tensor(const Shape& s, std::mt19937& rng) {
  Tensor t(s);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  for (float& v : t.span()) v = d(rng);
  return t;
}

// The model's output computed by im2col, which keeps no kernel transform.
Tensor predict_im2col(Sequential& model, const Tensor& x) {
  ConvAlgorithmGuard guard("im2col");
  return model->predict(x);
}

// New random values for every weight of the model.
std::vector<Tensor> random_weights(Sequential& model, std::mt19937& rng) {
  std::vector<Tensor> w;
  for (const Variable& v : model->weights()) w.push_back(random_tensor(v.shape(), rng));
  return w;
}

::testing::AssertionResult same_values(const Tensor& got, const Tensor& want) { return AllClose(got, want, 1e-4, 1e-4); }

TEST(WeightVersion, ChangesOnEveryWritePathAndNeverRepeats) {
  Variable a(Tensor::ones({2, 3})), b(Tensor::ones({2, 3}));
  EXPECT_NE(weight_version(a), 0u);
  EXPECT_NE(weight_version(a), weight_version(b));
  const uint64_t v0 = weight_version(a);
  (void)a.value();  // reading changes nothing
  EXPECT_EQ(weight_version(a), v0);
  a.mutable_value()[0] = 2.f;
  const uint64_t v1 = weight_version(a);
  EXPECT_NE(v1, v0);
  a.assign(Tensor::zeros({2, 3}));
  EXPECT_NE(weight_version(a), v1);
  EXPECT_NE(weight_version(a), v0);
  EXPECT_THROW(weight_version(Variable()), RuntimeError);
}

// The transform is reused while the version stands: a write that bypasses the
// version (through an alias of the storage) is not seen until the version
// changes. That is how the reuse shows without timing anything.
TEST(WinogradKernelCache, TransformIsReusedUntilTheKernelVersionChanges) {
  ConvAlgorithmGuard guard("auto");
  std::mt19937 rng(1);
  Sequential model = winograd_model();
  const Tensor x = random_tensor({2, 6, 7, 16}, rng);
  const Tensor y0 = model->predict(x);
  ASSERT_TRUE(same_values(y0, predict_im2col(model, x)));

  Variable kernel = model->layers()[0]->weights()[0];
  Tensor alias = kernel.value();  // shares the storage; writing through it keeps the version
  for (float& v : alias.span()) v = -v;
  const Tensor stale = model->predict(x);
  EXPECT_TRUE(same_values(stale, y0)) << "the kept transform of the old kernel";
  const Tensor fresh = predict_im2col(model, x);
  EXPECT_FALSE(same_values(fresh, y0));

  kernel.mutable_value();  // a new version: the next call transforms the kernel again
  EXPECT_TRUE(same_values(model->predict(x), fresh));
}

// After `change` writes new weights, the next call of the model gives the
// output of the new weights (computed by im2col), not of the kept transform.
template <class Change>
void expect_seen_by_next_call(unsigned seed, Change change) {
  ConvAlgorithmGuard guard("auto");
  std::mt19937 rng(seed);
  Sequential model = winograd_model();
  const Tensor x = random_tensor({1, 6, 7, 16}, rng);
  const Tensor before = model->predict(x);
  change(model, rng);
  const Tensor after = model->predict(x);
  EXPECT_FALSE(same_values(after, before));
  EXPECT_TRUE(same_values(after, predict_im2col(model, x)));
}

TEST(WinogradKernelCache, SetWeightsIsSeenByTheNextCall) {
  expect_seen_by_next_call(2, [](Sequential& model, std::mt19937& rng) {
    model->set_weights(random_weights(model, rng));
  });
}

TEST(WinogradKernelCache, OptimizerStepIsSeenByTheNextCall) {
  expect_seen_by_next_call(3, [](Sequential& model, std::mt19937& rng) {
    std::vector<Variable> params = model->trainable_weights();
    for (Variable& p : params) p.set_grad(random_tensor(p.shape(), rng));
    SGD(0.5).apply_gradients(params);
  });
}

TEST(WinogradKernelCache, LoadWeightsIsSeenByTheNextCall) {
  ConvAlgorithmGuard guard("auto");
  std::mt19937 rng(4);
  Sequential model = winograd_model();
  const Tensor x = random_tensor({1, 6, 7, 16}, rng);
  const Tensor saved_output = model->predict(x);
  const std::string path = fresh_path("weights.h5");
  model->save_weights(path);
  model->set_weights(random_weights(model, rng));
  ASSERT_FALSE(same_values(model->predict(x), saved_output));  // the transform of the other weights is kept now
  model->load_weights(path);
  EXPECT_TRUE(same_values(model->predict(x), saved_output));
}

// A finite-difference check of the kernel gradient perturbs the kernel between
// calls: each perturbation must reach the Winograd path as a new kernel, or the
// numeric gradient is taken from the kept transform of the unperturbed kernel.
TEST(WinogradKernelCache, GradcheckOfTheKernelSeesEachPerturbation) {
  ConvAlgorithmGuard guard("auto");
  std::mt19937 rng(5);
  Variable x(random_tensor({1, 5, 5, 8}, rng));
  Variable kernel(random_tensor({3, 3, 8, 8}, rng), /*requires_grad=*/true);
  auto scratch = std::make_shared<ConvScratch>();
  auto f = [&](const std::vector<Variable>& in) {
    return conv2d_variable(in[0], in[1], nullptr, {.same_padding = true}, scratch);
  };
  const autograd::GradcheckResult r = autograd::gradcheck(f, {x, kernel});
  EXPECT_TRUE(r.ok) << r.message;
}

}  // namespace
}  // namespace minidl
