// examples/05_custom_layer.cpp — write your own Layer: weights, a regularizer, an update; check its gradient.
//
// ScaledTanh computes y = gain * tanh(x . kernel). It shows the three things a
// Keras layer can own besides its computation:
//   * weights made with add_weight in build() (the kernel, the per-unit gain),
//   * a weight regularizer (L2 on the kernel): its penalty appears in
//     layer->losses() and fit adds it to the loss,
//   * an update (add_update): in training mode the layer records a moving
//     average of its output's batch mean, a non-trainable weight, as
//     BatchNormalization does; fit runs the updates after the optimizer step.
// call() uses autograd ops only, so backward comes for free; gradcheck
// (autograd/gradcheck.h) compares it with central finite differences. A wrong
// result exits 1.
//
// Read next: layers/base/layer.h (the subclass contract, first section),
// layers/base/losses_and_updates.h, layers/parts/regularizers.h,
// layers/base/registry.h (MINIDL_REGISTER_LAYER makes a layer loadable from
// a Keras file), then examples/06_custom_training_loop.cpp.
//
//   build/examples/05_custom_layer
#include <minidl/minidl.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "example_checks.h"

using namespace minidl;
namespace ag = minidl::autograd;

namespace {

class ScaledTanhImpl : public Layer {
 public:
  explicit ScaledTanhImpl(int64_t units, float momentum = 0.9f, LayerOptions o = {})
      : Layer(std::move(o), "scaled_tanh"), units_(units), momentum_(momentum) {}
  std::string class_name() const override { return "ScaledTanh"; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) override {
    return {Shape{single_shape(in)[0], units_}};
  }
  const Variable& kernel() const { return kernel_; }
  const Variable& moving_mean() const { return moving_mean_; }

 protected:
  void check_input(const std::vector<Shape>& in) const override {
    if (single_shape(in).size() != 2) fail("expected input of rank 2, received shape {}", shape_str(in[0]));
  }
  void build(const std::vector<Shape>& in) override {
    kernel_ = add_weight("kernel", {in[0][1], units_}, "glorot_uniform", L2(0.01));
    gain_ = add_weight("gain", {units_}, "ones");
    moving_mean_ = add_weight("moving_mean", {units_}, "zeros", {}, /*trainable=*/false);
  }
  VariableList call(const std::vector<Variable>& in, const CallArgs& args) override {
    Variable y = ag::tanh(ag::matmul(single_input(in), kernel_)) * gain_;
    if (args.training) {
      const Tensor batch_mean = ag::mean(y.detach(), {0}).value().clone();  // [units], no tape
      add_update([this, batch_mean] {
        Tensor& m = moving_mean_.mutable_value();
        for (int64_t j = 0; j < units_; ++j) m[j] = momentum_ * m[j] + (1 - momentum_) * batch_mean[j];
      });
    }
    return {y};
  }

 private:
  int64_t units_;
  float momentum_;
  Variable kernel_, gain_, moving_mean_;
};

}  // namespace

int main() {
  examples::Checks check("05_custom_layer");
  set_random_seed(5);
  auto layer = std::make_shared<ScaledTanhImpl>(3);
  Variable x(Tensor::normal({4, 5}), /*requires_grad=*/true, "x");
  const Tensor y = (*layer)(x.value());  // the first call builds the weights
  std::printf("ScaledTanh: x %s -> y %s; weights:", shape_str(x.shape()).c_str(), shape_str(y.shape()).c_str());
  for (const Weight& w : layer->own_weights())
    std::printf(" %s%s%s", w.name.c_str(), shape_str(w.variable.shape()).c_str(),
                w.trainable ? "" : " (non-trainable)");
  std::printf("\n");
  check(layer->trainable_weights().size() == 2 && layer->non_trainable_weights().size() == 1,
        "two trainable weights, one non-trainable");

  // The regularizer's penalty, by hand: 0.01 * sum(kernel^2).
  double by_hand = 0;
  for (float k : layer->kernel().value().span()) by_hand += 0.01 * k * k;
  const float penalty = layer->losses().at(0).value().item();
  std::printf("L2 penalty: layer->losses() %.6f, by hand %.6f\n", penalty, by_hand);
  check(std::fabs(penalty - by_hand) < 1e-6, "losses() holds 0.01 * sum(kernel^2)");

  // Gradient check of sum(y^2) + penalty with respect to x, kernel and gain.
  std::vector<Variable> inputs{x};
  for (const Variable& w : layer->trainable_weights()) inputs.push_back(w);
  auto f = [&](const std::vector<Variable>& v) {
    Variable total = ag::sum(ag::square((*layer)(v[0])));
    for (const Variable& l : layer->losses()) total = total + ag::sum(l);
    return total;
  };
  const ag::GradcheckResult r = ag::gradcheck(f, inputs);
  std::printf("gradcheck: max abs error %.2e, max rel error %.2e %s\n", r.max_abs_error, r.max_rel_error,
              r.message.c_str());
  check(r.ok, "backward matches finite differences (x, kernel, gain)");

  // The update: recorded by a training call, applied by run_updates().
  const Variable y_train = (*layer)(x, CallArgs{.training = true});
  check(layer->has_pending_updates(), "a training call leaves an update pending");
  check(layer->moving_mean().value()[0] == 0.f, "... and nothing moved yet");
  layer->run_updates();
  bool moved_as_expected = true;
  for (int64_t j = 0; j < 3; ++j) {
    double mean = 0;
    for (int64_t n = 0; n < 4; ++n) mean += y_train.value()[n * 3 + j] / 4.0;
    const double expected = 0.1 * mean;  // 0.9 * 0 + (1 - 0.9) * mean
    std::printf("moving_mean[%ld] = %.6f, expected %.6f\n", static_cast<long>(j), layer->moving_mean().value()[j],
                expected);
    moved_as_expected = moved_as_expected && std::fabs(layer->moving_mean().value()[j] - expected) < 1e-6;
  }
  check(moved_as_expected && !layer->has_pending_updates(), "run_updates() applied the moving average once");

  // Inside a model, fit runs the same machinery: penalty in the loss, update after the step.
  auto in_model = std::make_shared<ScaledTanhImpl>(3, 0.9f, LayerOptions{.input_shape = Shape{5}});
  Sequential model({in_model, Dense(1)});
  model->compile("sgd", "mse");
  const Tensor kernel_before = in_model->kernel().value().clone();
  model->fit(x.value(), Tensor::ones({4, 1}), {.batch_size = 4, .epochs = 1, .verbose = 0});
  check(in_model->kernel().value().to_vector() != kernel_before.to_vector(), "fit trained the kernel");
  check(in_model->moving_mean().value()[0] != 0.f, "fit ran the layer's update");

  return check.finish();
}
