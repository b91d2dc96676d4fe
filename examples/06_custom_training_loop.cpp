// examples/06_custom_training_loop.cpp — the step of fit() written out by hand, and checked equal to fit.
//
// fit() is a loop over batches; each step (FitLoop::train_step in train/fit.cpp) is
//   1. forward in training mode, recording the tape:  y_pred = model(x, training)
//   2. the loss: the compiled loss averaged over the batch, plus sum(model->losses())
//      (weight regularizers, activity regularizers, add_loss terms)
//   3. backward: every trainable weight gets its .grad()
//   4. the optimizer step: optimizer->apply_gradients(trainable weights)
//   5. constraints on the updated weights: model->apply_constraints()
//   6. the layers' updates (BatchNormalization's moving statistics): model->run_updates()
// Here two copies of one model start from the same weights; one is trained by
// fit, the other by this loop, and every weight (trainable or not) must agree.
// A difference beyond float rounding exits 1.
//
// Read next: train/fit.cpp (FitLoop), train/losses.h, train/optimizers.h,
// autograd/engine.cpp, then examples/07_regularizers_and_constraints.cpp.
//
//   build/examples/06_custom_training_loop
#include <minidl/minidl.h>

#include <cmath>
#include <cstdio>

#include "example_checks.h"

using namespace minidl;
namespace ag = minidl::autograd;

namespace {

// Dense with an L2 kernel penalty and a MaxNorm constraint, BatchNormalization
// (updates), and a softmax head with an activity penalty: every part of a step.
Sequential make_model() {
  return Sequential({
      Dense(8, {.activation = "relu", .kernel_regularizer = L2(1e-3), .kernel_constraint = MaxNorm(0.5),
                .input_shape = Shape{6}}),
      BatchNormalization(),
      Dense(3, {.activation = "softmax", .activity_regularizer = L1(1e-3)}),
  });
}

}  // namespace

int main() {
  examples::Checks check("06_custom_training_loop");
  set_random_seed(6);
  const int64_t samples = 32, batch = 8;
  const int epochs = 2;
  const Tensor x = Tensor::normal({samples, 6});
  Tensor y({samples});
  for (int64_t i = 0; i < samples; ++i) y[i] = static_cast<float>(i % 3);

  Sequential by_fit = make_model(), by_hand = make_model();
  by_hand->set_weights(by_fit->get_weights());  // the same start

  // fit: batches in order (shuffle off), so the loop below sees the same ones.
  by_fit->compile(std::make_shared<Adam>(0.01), "sparse_categorical_crossentropy");
  History h = by_fit->fit(x, y, {.batch_size = batch, .epochs = epochs, .verbose = 0, .shuffle = false});

  // The same training, step by step.
  auto optimizer = std::make_shared<Adam>(0.01);
  LossPtr loss_fn = get_loss("sparse_categorical_crossentropy");
  double loss_gap = 0;  // between this loop's epoch losses and fit's
  for (int epoch = 0; epoch < epochs; ++epoch) {
    double loss_sum = 0;
    for (int64_t b = 0; b < samples; b += batch) {
      const Tensor xb = x.slice_rows(b, b + batch), yb = y.slice_rows(b, b + batch);
      std::vector<Variable> params = by_hand->trainable_weights();
      for (Variable& p : params) p.zero_grad();
      // 1. forward, training mode (BatchNormalization uses the batch's statistics).
      Variable y_pred = by_hand(Variable(xb), CallArgs{.training = true});
      // 2. loss: the batch mean of the per-sample loss, plus every penalty.
      Variable loss = ag::mean(loss_fn->per_sample(Variable(yb), y_pred));
      const std::vector<Variable> penalties = by_hand->losses();
      for (const Variable& l : penalties) loss = loss + ag::sum(l);
      if (epoch == 0 && b == 0) {
        std::printf("step 0: y_pred %s, %zu penalty terms in model->losses():", shape_str(y_pred.shape()).c_str(),
                    penalties.size());
        for (const Variable& l : penalties) std::printf(" %.5f", l.value().item());
        std::printf("\n");
      }
      loss_sum += loss.value().item() * batch;
      loss.backward();                     // 3. gradients into .grad()
      optimizer->apply_gradients(params);  // 4. Adam's update
      by_hand->apply_constraints();        // 5. MaxNorm on the first kernel
      by_hand->run_updates();              // 6. moving mean and variance
    }
    const double fit_loss = h.history["loss"].at(epoch);
    std::printf("epoch %d: loss by hand %.6f, fit's %.6f\n", epoch + 1, loss_sum / samples, fit_loss);
    loss_gap = std::max(loss_gap, std::fabs(loss_sum / samples - fit_loss));
  }

  // Every weight, trainable or not, must agree.
  const std::vector<Tensor> a = by_fit->get_weights(), b = by_hand->get_weights();
  double worst = a.size() == b.size() ? 0 : INFINITY;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, double{max_abs_diff(a[i], b[i])});
  std::printf("%zu weight tensors; max |fit - by hand| = %.2e\n", a.size(), worst);

  // The constraint held: no column of the first kernel is longer than 0.5.
  const Tensor k = b[0];
  double longest = 0;
  for (int64_t col = 0; col < k.dim(1); ++col) {
    double norm2 = 0;
    for (int64_t row = 0; row < k.dim(0); ++row) norm2 += k[row * k.dim(1) + col] * k[row * k.dim(1) + col];
    longest = std::max(longest, std::sqrt(norm2));
  }
  std::printf("longest column of the constrained kernel: %.6f (MaxNorm 0.5)\n", longest);

  check(loss_gap < 1e-5, "each epoch's loss equals fit's");
  check(worst < 1e-5, "every weight, trainable or not, equals fit's");
  check(longest <= 0.5 + 1e-5, "MaxNorm held after every step");
  return check.finish();
}
