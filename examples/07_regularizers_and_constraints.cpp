// examples/07_regularizers_and_constraints.cpp — how penalties enter the loss; how constraints act after the step.
//
// One Dense layer, 3 inputs -> 2 units, with
//   kernel_regularizer L1(0.01)    0.01 * sum |kernel|
//   bias_regularizer   L2(0.1)     0.1 * sum bias^2
//   activity_regularizer L2(0.05)  0.05 * sum y^2 / batch size (on the layer's output)
//   kernel_constraint  MaxNorm(0.5)  each unit's column of the kernel scaled to norm <= 0.5
//   bias_constraint    NonNeg        negative biases set to 0
// The example computes every term of the loss by hand and checks that
// train_on_batch reports their sum; then it takes the gradient by hand, makes
// the SGD step w - lr * grad itself, applies the constraints' formulas, and
// checks that train_on_batch left exactly those weights. A wrong number exits 1.
//
// Read next: layers/parts/regularizers.h, layers/parts/constraints.h,
// layers/base/layer.h (losses(), apply_constraints()), train/fit.cpp
// (FitLoop::batch_loss), then examples/08_fine_tune.cpp.
//
//   build/examples/07_regularizers_and_constraints
#include <minidl/minidl.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "example_checks.h"

using namespace minidl;
namespace ag = minidl::autograd;

int main() {
  examples::Checks check("07_regularizers_and_constraints");
  Dense dense(2, {.kernel_regularizer = L1(0.01), .bias_regularizer = L2(0.1), .activity_regularizer = L2(0.05),
                  .kernel_constraint = MaxNorm(0.5), .bias_constraint = NonNeg(), .input_shape = Shape{3}});
  Sequential model(std::vector<LayerPtr>{dense});
  const float lr = 0.1f;
  model->compile(std::make_shared<SGD>(lr), "mse");
  // Column 0 of the kernel has norm 1.03 (MaxNorm will scale it); the targets
  // of unit 1 are far below its output, so the step pushes bias[1] below 0.
  model->set_weights({Tensor::from_data({3, 2}, {0.9f, -0.2f, 0.3f, 0.1f, -0.4f, 0.2f}),
                      Tensor::from_data({2}, {0.5f, 0.02f})});
  const Tensor x = Tensor::from_data({4, 3}, {1, 0, 2, -1, 1, 0, 0.5f, 0.5f, 0.5f, 2, -1, 1});
  const Tensor y = Tensor::from_data({4, 2}, {0.5f, -2, 0, -2, 1, -2, 0.2f, -2});
  const Tensor K = dense->kernel().value().clone(), b = dense->bias().value().clone();

  // --- The loss, term by term --------------------------------------------------------
  Tensor yp = model->predict(x);
  double mse = 0, activity = 0, l1 = 0, l2 = 0;
  for (int64_t i = 0; i < 8; ++i) mse += (yp[i] - y[i]) * (yp[i] - y[i]) / 8.0;  // mean over units, then batch
  for (int64_t i = 0; i < 8; ++i) activity += 0.05 * yp[i] * yp[i] / 4.0;        // divided by the batch size
  for (float k : K.span()) l1 += 0.01 * std::fabs(k);
  for (float v : b.span()) l2 += 0.1 * v * v;
  const double total = mse + l1 + l2 + activity;
  std::printf("loss terms by hand: mse %.6f + L1(kernel) %.6f + L2(bias) %.6f + activity %.6f = %.6f\n", mse, l1, l2,
              activity, total);

  // The same terms through the tape: model->losses() after a training-mode call.
  std::vector<Variable> params = model->trainable_weights();
  Variable y_pred = model(Variable(x), CallArgs{.training = true});
  Variable loss = ag::mean(get_loss("mse")->per_sample(Variable(y), y_pred));
  std::printf("model->losses():");
  for (const Variable& l : model->losses()) {
    std::printf(" %.6f", l.value().item());
    loss = loss + ag::sum(l);
  }
  std::printf("  (kernel, bias, activity)\n");
  check(model->losses().size() == 3, "three penalty terms");
  check(std::fabs(loss.value().item() - total) < 1e-5, "mse + penalties from the tape equal the sum by hand");

  // --- The step, by hand: SGD, then the constraints -----------------------------------
  loss.backward();
  const Tensor gK = params[0].grad().clone(), gb = params[1].grad().clone();
  Tensor K_new = K.clone(), b_new = b.clone();
  for (int64_t i = 0; i < 6; ++i) K_new[i] -= lr * gK[i];
  for (int64_t i = 0; i < 2; ++i) b_new[i] -= lr * gb[i];
  std::printf("\nafter SGD, before constraints: bias [%.4f, %.4f], kernel column norms", b_new[0], b_new[1]);
  for (int64_t u = 0; u < 2; ++u) {  // MaxNorm(0.5) over axis 0: w *= clip(norm, 0, 0.5) / (1e-7 + norm)
    double n2 = 0;
    for (int64_t r = 0; r < 3; ++r) n2 += K_new[r * 2 + u] * K_new[r * 2 + u];
    const double norm = std::sqrt(n2), scale = std::min(norm, 0.5) / (1e-7 + norm);
    std::printf(" %.4f", norm);
    for (int64_t r = 0; r < 3; ++r) K_new[r * 2 + u] = static_cast<float>(K_new[r * 2 + u] * scale);
  }
  std::printf("\n");
  for (int64_t i = 0; i < 2; ++i) b_new[i] = std::max(b_new[i], 0.f);  // NonNeg

  // --- The library's step ----------------------------------------------------------
  const double reported = model->train_on_batch(x, y).at("loss");
  std::printf("train_on_batch loss %.6f (by hand %.6f)\n", reported, total);
  check(std::fabs(reported - total) < 1e-5, "train_on_batch's loss includes every penalty");
  const Tensor K_after = dense->kernel().value(), b_after = dense->bias().value();
  const double dk = max_abs_diff(K_after, K_new), db = max_abs_diff(b_after, b_new);
  // NonNeg multiplies by (w >= 0), which leaves -0 for a negative weight; + 0.f prints it as 0.
  std::printf("after constraints: bias [%.4f, %.4f]; max |library - by hand| kernel %.2e, bias %.2e\n",
              b_after[0] + 0.f, b_after[1] + 0.f, dk, db);
  check(dk < 1e-6 && db < 1e-6, "the step and the constraints match the formulas");
  check(b_after[1] == 0.f, "NonNeg set the negative bias to 0");
  double norm0 = 0;
  for (int64_t r = 0; r < 3; ++r) norm0 += K_after[r * 2] * K_after[r * 2];
  check(std::fabs(std::sqrt(norm0) - 0.5) < 1e-5, "MaxNorm scaled column 0 to norm 0.5");

  return check.finish();
}
