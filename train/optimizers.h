// train/optimizers.h — Keras optimizers.
//
// An Optimizer updates parameters in place from their accumulated gradients
// (Variable::grad()), with Keras's update rules and defaults. Per-parameter
// state (momenta, second moments) is kept in buffers allocated on the first
// step and reused afterwards: a training step allocates nothing.
//
//   auto opt = get_optimizer("adam");            // Adam(learning_rate = 0.001)
//   opt->apply_gradients(model->trainable_weights());
//
// The learning rate may be a constant or a schedule of the step count
// (ExponentialDecay, PiecewiseConstantDecay); ReduceLROnPlateau and
// LearningRateScheduler change it through set_learning_rate. The Keras 2
// (legacy optimizer) `decay` option then divides it by (1 + decay * iterations)
// at every step, on top of the constant or the schedule, as tf.keras's
// optimizer_v2 `_decayed_lr` does:
//
//   SGD opt(0.1, {.momentum = 0.9, .decay = 1e-3});  // step t uses 0.1 / (1 + 1e-3 * t)
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "autograd/variable.h"
#include "layers/parts/part_arg.h"
#include "train/schedules.h"

namespace minidl {

// class_name() is e.g. "Adam"; get_config() has Keras's keys: {"name", "learning_rate", ...}.
class Optimizer : public KerasObject {
 public:

  // One update of every parameter that has a gradient (parameters without one
  // are skipped), then iterations += 1.
  virtual void apply_gradients(const std::vector<Variable>& params) = 0;

  // The learning rate before `decay`: the constant, or the schedule evaluated at
  // iterations(). This is Keras's `optimizer.lr`, the value ReduceLROnPlateau
  // and LearningRateScheduler read and replace and log as "lr".
  virtual double learning_rate() const = 0;
  // The rate the next step uses: learning_rate() / (1 + decay * iterations())
  // (Keras's `_decayed_lr`); learning_rate() itself when there is no decay.
  virtual double decayed_learning_rate() const { return learning_rate(); }
  // Replaces the learning rate by a constant (drops a schedule); `decay` still applies.
  virtual void set_learning_rate(double lr) = 0;
  virtual int64_t iterations() const = 0;
};

using OptimizerPtr = std::shared_ptr<Optimizer>;

// The shared machinery of the built-in optimizers: a constant rate or a
// schedule, the time-based `decay`, the step count, and per-parameter slot
// buffers (allocated on a parameter's first update, reused afterwards).
// The constructors throw ValueError when decay is negative or not finite
// (Keras: "decay cannot be less than 0").
class OptimizerBase : public Optimizer {
 public:
  explicit OptimizerBase(double learning_rate, double decay = 0.0);
  explicit OptimizerBase(std::shared_ptr<LearningRateSchedule> schedule, double decay = 0.0);

  void apply_gradients(const std::vector<Variable>& params) override;
  double learning_rate() const override { return schedule_ ? (*schedule_)(iterations_) : lr_; }
  double decayed_learning_rate() const override;
  void set_learning_rate(double lr) override {
    schedule_.reset();
    lr_ = lr;
  }
  int64_t iterations() const override { return iterations_; }
  json get_config() const override;

  // --- Optimizer state accessors, for io's model files (optimizer_weights) ---
  // The slot buffers of `param`: num_slots() tensors of its shape, in the order
  // update() reads them. Allocated (filled with init_slot()) when the parameter
  // has none yet, so saved state can be restored before the first step.
  std::vector<Tensor>& slots_of(const Variable& param) {
    auto& s = slots_[param.id()];
    if (static_cast<int>(s.size()) != num_slots()) {
      s.clear();
      for (int i = 0; i < num_slots(); ++i) s.push_back(Tensor::full(param.value().shape(), init_slot(i)));
    }
    return s;
  }
  // Restores the step count (a learning-rate schedule resumes from it).
  void set_iterations(int64_t iterations) { iterations_ = iterations; }
  // --- end of optimizer state accessors ---

 protected:
  // Updates one parameter w (n floats) from gradient g; `slots` holds
  // num_slots() zero-initialised (or init_slot()-filled) buffers of n floats.
  virtual void update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) = 0;
  virtual int num_slots() const = 0;
  virtual float init_slot(int /*slot*/) const { return 0.f; }
  // The optimizer-specific config keys (learning_rate and name are added by the base).
  virtual json extra_config() const = 0;

 private:
  double lr_ = 0.01;
  double decay_ = 0.0;
  std::shared_ptr<LearningRateSchedule> schedule_;
  int64_t iterations_ = 0;
  std::unordered_map<const void*, std::vector<Tensor>> slots_;
};

// Keras's optimizers, same defaults and update rules as tf.keras 2. Each
// options struct holds the rule's hyper-parameters and Keras's default
// learning rate, and ends with Keras 2's `decay` (0: none), except Nadam,
// whose `decay` in Keras 2 is the momentum schedule's `schedule_decay` instead.
#define MINIDL_OPTIMIZER_COMMON(Name)                                           \
  std::string class_name() const override { return #Name; }                     \
                                                                                \
 protected:                                                                     \
  void update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, \
              double lr, int64_t t) override;                                   \
  json extra_config() const override;                                           \
                                                                                \
 public:

// An OptimizerBase with its options struct O, built from a constant learning
// rate (O::kDefaultLearningRate when not given) or a schedule; O::decay, when O
// has one, is the time-based decay.
template <class O>
class OptimizerWith : public OptimizerBase {
 public:
  explicit OptimizerWith(double learning_rate = O::kDefaultLearningRate, O o = {})
      : OptimizerBase(learning_rate, time_decay(o)), o_(o) {}
  explicit OptimizerWith(std::shared_ptr<LearningRateSchedule> s, O o = {})
      : OptimizerBase(std::move(s), time_decay(o)), o_(o) {}

  const O& options() const { return o_; }

 protected:
  O o_;

 private:
  static double time_decay(const O& o) {
    if constexpr (requires { o.decay; })
      return o.decay;
    else
      return 0.0;
  }
};

struct SGDOptions {
  static constexpr double kDefaultLearningRate = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  double decay = 0.0;  // time-based: step t uses lr / (1 + decay * t)
};
// ValueError when momentum is outside [0, 1] (checked for a constant learning rate).
class SGD : public OptimizerWith<SGDOptions> {
 public:
  explicit SGD(double learning_rate = SGDOptions::kDefaultLearningRate, SGDOptions o = {});
  using OptimizerWith::OptimizerWith;
  MINIDL_OPTIMIZER_COMMON(SGD)
  int num_slots() const override { return o_.momentum != 0 ? 1 : 0; }
};

struct AdamOptions {
  static constexpr double kDefaultLearningRate = 0.001;
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;
  bool amsgrad = false;
  double decay = 0.0;
};
class Adam : public OptimizerWith<AdamOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  MINIDL_OPTIMIZER_COMMON(Adam)
  int num_slots() const override { return o_.amsgrad ? 3 : 2; }
};

struct RMSpropOptions {
  static constexpr double kDefaultLearningRate = 0.001;
  double rho = 0.9, momentum = 0.0, epsilon = 1e-7;
  bool centered = false;
  double decay = 0.0;
};
class RMSprop : public OptimizerWith<RMSpropOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  MINIDL_OPTIMIZER_COMMON(RMSprop)
  int num_slots() const override { return 3; }  // ms, mom, mg
};

struct AdagradOptions {
  static constexpr double kDefaultLearningRate = 0.001;
  double initial_accumulator_value = 0.1, epsilon = 1e-7;
  double decay = 0.0;
};
class Adagrad : public OptimizerWith<AdagradOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  MINIDL_OPTIMIZER_COMMON(Adagrad)
  int num_slots() const override { return 1; }
  float init_slot(int) const override { return static_cast<float>(o_.initial_accumulator_value); }
};

struct AdadeltaOptions {
  static constexpr double kDefaultLearningRate = 0.001;
  double rho = 0.95, epsilon = 1e-7;
  double decay = 0.0;
};
class Adadelta : public OptimizerWith<AdadeltaOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  MINIDL_OPTIMIZER_COMMON(Adadelta)
  int num_slots() const override { return 2; }
};

struct AdamaxOptions {
  static constexpr double kDefaultLearningRate = 0.001;
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;
  double decay = 0.0;
};
class Adamax : public OptimizerWith<AdamaxOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  MINIDL_OPTIMIZER_COMMON(Adamax)
  int num_slots() const override { return 2; }
};

struct NadamOptions {
  static constexpr double kDefaultLearningRate = 0.001;
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;
  // mu_t = beta_1 * (1 - 0.5 * 0.96^(schedule_decay * t)); the config's "decay" key.
  double schedule_decay = 0.004;
};
// ValueError when schedule_decay is negative or not finite.
class Nadam : public OptimizerWith<NadamOptions> {
 public:
  explicit Nadam(double learning_rate = NadamOptions::kDefaultLearningRate, NadamOptions o = {});
  explicit Nadam(std::shared_ptr<LearningRateSchedule> s, NadamOptions o = {});
  MINIDL_OPTIMIZER_COMMON(Nadam)
  int num_slots() const override { return 2; }
  // --- Optimizer state accessors, for io's model files: Keras's momentum_cache,
  // the product of the momentum schedule so far (1 before the first step).
  double momentum_cache() const { return m_cache_; }
  // Restores it; call after set_iterations (the next step advances it once).
  void set_momentum_cache(double cache) {
    m_cache_ = cache;
    m_cache_step_ = iterations();
  }
  // --- end of optimizer state accessors ---

 private:
  double m_cache_ = 1.0;  // product of the momentum schedule so far
  int64_t m_cache_step_ = 0;
};

// By Keras name ("sgd", "adam", "rmsprop", ...) with Keras defaults; ValueError when unknown.
OptimizerPtr get_optimizer(const std::string& identifier);
// From a Keras {"class_name", "config"} object (training_config's optimizer_config).
// Reads "learning_rate" (a number or a schedule) or Keras 1/2's "lr", and
// "decay" (Nadam: "schedule_decay", else "decay", as its momentum schedule's
// decay). ValueError for an unknown class, a non-numeric value, or a negative decay.
OptimizerPtr optimizer_from_config(const json& class_and_config);

// A compile() argument: an optimizer name or an Optimizer object.
class OptimizerArg : public NameOrObject<Optimizer> {
 public:
  using NameOrObject::NameOrObject;
  OptimizerPtr resolve() const { return object_ ? object_ : get_optimizer(name_); }
};

}  // namespace minidl
