// tests/layers/batch_split_test.cpp — weight gradients of a batch are exactly the sum of its halves'.
//
// Dense's kernel and bias gradients and BatchNormalization's gamma and beta
// gradients sum over the batch in fixed groups of samples added pairwise
// (ops/batch_sum.h), so two data-parallel replicas holding half a batch each
// and adding their gradients get the bits of one process holding all of it
// (the end-to-end check, 50 Adam steps over MPI, is tests/mpi's same_numbers).
// The halves and the whole make the same sgemm calls per group, so this holds
// with any BLAS kernel.
#include <gtest/gtest.h>

#include <vector>

#include "autograd/functions.h"
#include "layers/core/dense.h"
#include "layers/normalization/batch_normalization.h"
#include "support/tensors.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// The gradients of sum(layer(x) * r) with respect to the layer's trainable weights.
std::vector<Tensor> weight_grads(Layer& layer, const Tensor& x, const Tensor& r, bool training) {
  CallArgs args;
  args.training = training;
  const Variable y = layer(std::vector<Variable>{Variable(x)}, args).at(0);  // builds the layer on first use
  std::vector<Variable> weights = layer.trainable_weights();
  for (Variable& w : weights) w.zero_grad();
  autograd::sum(y * Variable(r)).backward();
  std::vector<Tensor> out;
  for (const Variable& w : weights) {
    Tensor g(w.grad().shape());
    g.copy_from(w.grad());
    out.push_back(g);
  }
  return out;
}

// Whole batch against its halves: every weight gradient element equal to the halves' sum.
void expect_sum_of_halves(Layer& layer, const Shape& x_shape, const Shape& y_shape, bool training) {
  const Tensor x = random_tensor(x_shape, 21), r = random_tensor(y_shape, 22);
  const int64_t n = x_shape[0], h = n / 2;
  const auto whole = weight_grads(layer, x, r, training);
  const auto a = weight_grads(layer, x.slice_rows(0, h), r.slice_rows(0, h), training);
  const auto b = weight_grads(layer, x.slice_rows(h, n), r.slice_rows(h, n), training);
  ASSERT_EQ(whole.size(), a.size());
  for (size_t w = 0; w < whole.size(); ++w)
    for (int64_t i = 0; i < whole[w].numel(); ++i)
      ASSERT_EQ(whole[w][i], a[w][i] + b[w][i]) << layer.name() << " weight " << w << " element " << i;
}

}  // namespace

TEST(BatchSplit, DenseKernelAndBiasGradientsOfABatchAreTheSumOfItsHalves) {
  auto d = Dense(48, {.activation = "relu"});
  expect_sum_of_halves(*d, {256, 300}, {256, 48}, true);  // 4 groups of 64 rows
  auto seq = Dense(5);  // rows per sample 3: groups of 16 samples
  expect_sum_of_halves(*seq, {64, 3, 7}, {64, 3, 5}, true);
}

TEST(BatchSplit, BatchNormalizationGammaAndBetaGradientsAreTheSumOfTheHalves) {
  // Inference mode: the statistics are the moving ones, the same for the whole
  // batch and its halves (in training mode replicas share the statistics of
  // the global batch over MPI; tests/mpi checks that case).
  auto bn = BatchNormalization();
  expect_sum_of_halves(*bn, {64, 6, 6, 12}, {64, 6, 6, 12}, false);
  auto dense_bn = BatchNormalization();
  expect_sum_of_halves(*dense_bn, {128, 40}, {128, 40}, false);  // 4 groups of 32
}
