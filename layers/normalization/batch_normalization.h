// layers/normalization/batch_normalization.h — BatchNormalization, with tf.keras 2 semantics.
//
//   auto bn = BatchNormalization({.momentum = 0.9, .epsilon = 1e-5});
//   KerasTensor y = bn(Input({28, 28, 16}));          // weights gamma, beta, moving_mean, moving_variance: (16,)
//   Variable z = bn(x, {.training = true});           // batch statistics; queues the moving-average update
//   bn->run_updates();                                // applies it
//
// Normalizes each feature (the entries along `axis`, default -1) with
//   y = gamma * (x - mean) / sqrt(var + epsilon) + beta,
// the statistics taken over every other axis:
//  * training (CallArgs::training and the layer trainable): the batch mean and
//    biased batch variance; the call registers (add_update, keyed by the input)
//      moving <- moving - (moving - batch_stat) * (1 - momentum)
//    for moving_mean and moving_variance. The variance fed to that update is
//    Bessel-corrected (times n / (n - 1), n = values per feature) when the
//    input is 4-D and axis is 1 or 3 — tf.keras 2 runs TensorFlow's fused
//    kernel there — and the biased one otherwise (e.g. after Dense). Gradients
//    flow to x, gamma and beta through the batch statistics (one fused kernel).
//  * inference, or a frozen layer (trainable = false) even when training (the
//    tf.keras 2 rule): moving_mean and moving_variance; no update.
// Where tf.keras uses the fused kernel (4-D, axis 1 or 3) epsilon is raised to
// at least 1.001e-5 as TensorFlow does; get_config still reports the value given.
//
// Weights, in Keras order: gamma (if scale), beta (if center), moving_mean,
// moving_variance (the last two never trainable). Their shape is (d,) for one
// axis of size d, and for several axes the input rank with 1 on the other axes
// (Keras's rule), e.g. axis [1, 3] on (N, H, W, C) gives (1, H, 1, C).
//
// Config: Keras 2 writes "axis" as a list after build ([3]); before build the
// value given (an int or a list). Keras 3's int axis and "synchronized" key
// read fine; renorm and virtual_batch_size are not supported (ValueError).
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "layers/base/layer.h"
#include "layers/normalization/gamma_beta.h"

namespace minidl {

// BatchNormalization's `axis`: one int or a list, kept in the form given.
class BatchNormAxis {
 public:
  BatchNormAxis(int axis) : axes_{axis}, is_list_(false) {}  // NOLINT: implicit, as Keras takes an int
  BatchNormAxis(std::initializer_list<int> axes) : axes_(axes), is_list_(true) {}
  BatchNormAxis(std::vector<int> axes) : axes_(std::move(axes)), is_list_(true) {}  // NOLINT
  const std::vector<int>& axes() const { return axes_; }
  bool is_list() const { return is_list_; }
  json to_json() const;  // the int, or the list, as given
  // An int or a non-empty list of ints; ValueError naming `owner` otherwise.
  static BatchNormAxis from_json(const json& j, const std::string& owner);

 private:
  std::vector<int> axes_;
  bool is_list_;
};

struct BatchNormalizationOptions {
  BatchNormAxis axis = -1;
  double momentum = 0.99;
  double epsilon = 1e-3;
  MINIDL_GAMMA_BETA_OPTIONS;
  // Keras lists these two between gamma_initializer and beta_regularizer; designated
  // initializers name them after any of the gamma/beta fields.
  InitializerArg moving_mean_initializer = "zeros";
  InitializerArg moving_variance_initializer = "ones";
  MINIDL_COMMON_LAYER_OPTIONS;
};

class BatchNormalizationImpl : public Layer {
 public:
  // ValueError naming the layer for an empty axis list, a non-finite momentum,
  // a negative or non-finite epsilon, or an unknown initializer/regularizer/
  // constraint name.
  explicit BatchNormalizationImpl(BatchNormalizationOptions o = {});

  std::string class_name() const override { return "BatchNormalization"; }
  // The axes as given before build; normalized (non-negative) after.
  std::vector<int> axis() const;
  double momentum() const { return momentum_; }
  double epsilon() const { return epsilon_; }
  bool center() const { return gamma_beta_.center(); }
  bool scale() const { return gamma_beta_.scale(); }

  json get_config() const override;
  // ValueError for unknown keys, wrong value types, renorm = true or a virtual_batch_size.
  static std::shared_ptr<BatchNormalizationImpl> from_config(const json& config);
  // The input shape itself; ValueError for an axis outside the rank, duplicate
  // axes, an unknown (None) size on an axis, or (once built) a shape whose
  // rank or axis sizes differ from the built ones.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

 protected:
  void build(const std::vector<Shape>& input_shapes) override;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  // The normalized axes for `shape`, checked as compute_output_shape describes.
  std::vector<int> resolve_axes(const Shape& shape) const;
  // Moves the moving statistics toward the batch statistics registered as
  // update `id`, once; an unknown or already applied id (a stale copy of the
  // update from updates()) does nothing.
  void apply_moving_average(uint64_t id);

  // Batch statistics of the training calls whose updates have not run yet.
  // The update each call registers holds only `this` and the entry's id, a
  // capture std::function keeps inline, so registering it allocates nothing.
  // (Like every layer's updates, it must run while the layer is alive.)
  struct PendingStatistics {
    uint64_t id = 0;
    Tensor mean, variance;
    bool applied = false;
  };
  std::vector<PendingStatistics> pending_;
  uint64_t next_update_id_ = 1;
  BatchNormAxis axis_given_;
  std::vector<int> axes_;  // normalized, in the given order; set by build
  int built_rank_ = -1;
  double momentum_, epsilon_;
  detail::GammaBeta gamma_beta_;
  std::shared_ptr<Initializer> moving_mean_init_, moving_variance_init_;
  Variable gamma_, beta_, moving_mean_, moving_variance_;
};

class BatchNormalization : public LayerHolder<BatchNormalizationImpl> {
 public:
  BatchNormalization(BatchNormalizationOptions o = {})
      : LayerHolder(std::make_shared<BatchNormalizationImpl>(std::move(o))) {}
  explicit BatchNormalization(std::shared_ptr<BatchNormalizationImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
