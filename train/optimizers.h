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

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include <unordered_map>

#include "autograd/variable.h"
#include "train/schedules.h"

namespace minidl {

using json = nlohmann::json;

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string class_name() const = 0;  // "Adam"
  virtual json get_config() const = 0;         // Keras keys: {"name", "learning_rate", ...}

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
// options struct ends with Keras 2's `decay` (0: none), except Nadam, whose
// `decay` in Keras 2 is the momentum schedule's `schedule_decay` instead.
#define MINIDL_OPTIMIZER_COMMON(Name)                                           \
  std::string class_name() const override { return #Name; }                     \
                                                                                \
 protected:                                                                     \
  void update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, \
              double lr, int64_t t) override;                                   \
  json extra_config() const override;                                           \
                                                                                \
 public:

struct SGDOptions {
  double momentum = 0.0;
  bool nesterov = false;
  double decay = 0.0;  // time-based: step t uses lr / (1 + decay * t)
};
class SGD : public OptimizerBase {
 public:
  explicit SGD(double learning_rate = 0.01, SGDOptions o = {});
  explicit SGD(std::shared_ptr<LearningRateSchedule> s, SGDOptions o = {});
  MINIDL_OPTIMIZER_COMMON(SGD)
  int num_slots() const override { return o_.momentum != 0 ? 1 : 0; }

 private:
  SGDOptions o_;
};

struct AdamOptions {
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;
  bool amsgrad = false;
  double decay = 0.0;  // time-based: step t uses lr / (1 + decay * t)
};
class Adam : public OptimizerBase {
 public:
  explicit Adam(double learning_rate = 0.001, AdamOptions o = {});
  explicit Adam(std::shared_ptr<LearningRateSchedule> s, AdamOptions o = {});
  MINIDL_OPTIMIZER_COMMON(Adam)
  int num_slots() const override { return o_.amsgrad ? 3 : 2; }

 private:
  AdamOptions o_;
};

struct RMSpropOptions {
  double rho = 0.9, momentum = 0.0, epsilon = 1e-7;
  bool centered = false;
  double decay = 0.0;  // time-based: step t uses lr / (1 + decay * t)
};
class RMSprop : public OptimizerBase {
 public:
  explicit RMSprop(double learning_rate = 0.001, RMSpropOptions o = {});
  explicit RMSprop(std::shared_ptr<LearningRateSchedule> s, RMSpropOptions o = {});
  MINIDL_OPTIMIZER_COMMON(RMSprop)
  int num_slots() const override { return 3; }  // ms, mom, mg

 private:
  RMSpropOptions o_;
};

struct AdagradOptions {
  double initial_accumulator_value = 0.1, epsilon = 1e-7;
  double decay = 0.0;  // time-based: step t uses lr / (1 + decay * t)
};
class Adagrad : public OptimizerBase {
 public:
  explicit Adagrad(double learning_rate = 0.001, AdagradOptions o = {});
  explicit Adagrad(std::shared_ptr<LearningRateSchedule> s, AdagradOptions o = {});
  MINIDL_OPTIMIZER_COMMON(Adagrad)
  int num_slots() const override { return 1; }
  float init_slot(int) const override { return static_cast<float>(o_.initial_accumulator_value); }

 private:
  AdagradOptions o_;
};

struct AdadeltaOptions {
  double rho = 0.95, epsilon = 1e-7;
  double decay = 0.0;  // time-based: step t uses lr / (1 + decay * t)
};
class Adadelta : public OptimizerBase {
 public:
  explicit Adadelta(double learning_rate = 0.001, AdadeltaOptions o = {});
  explicit Adadelta(std::shared_ptr<LearningRateSchedule> s, AdadeltaOptions o = {});
  MINIDL_OPTIMIZER_COMMON(Adadelta)
  int num_slots() const override { return 2; }

 private:
  AdadeltaOptions o_;
};

struct AdamaxOptions {
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;
  double decay = 0.0;  // time-based: step t uses lr / (1 + decay * t)
};
class Adamax : public OptimizerBase {
 public:
  explicit Adamax(double learning_rate = 0.001, AdamaxOptions o = {});
  explicit Adamax(std::shared_ptr<LearningRateSchedule> s, AdamaxOptions o = {});
  MINIDL_OPTIMIZER_COMMON(Adamax)
  int num_slots() const override { return 2; }

 private:
  AdamaxOptions o_;
};

struct NadamOptions {
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;
  // mu_t = beta_1 * (1 - 0.5 * 0.96^(schedule_decay * t)); the config's "decay" key.
  double schedule_decay = 0.004;
};
class Nadam : public OptimizerBase {
 public:
  explicit Nadam(double learning_rate = 0.001, NadamOptions o = {});
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
  NadamOptions o_;
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

class OptimizerArg {
 public:
  OptimizerArg(const char* name) : name_(name) {}
  OptimizerArg(std::string name) : name_(std::move(name)) {}
  template <class T>
    requires std::derived_from<T, Optimizer>
  OptimizerArg(std::shared_ptr<T> opt) : ptr_(std::move(opt)) {}
  OptimizerPtr resolve() const { return ptr_ ? ptr_ : get_optimizer(name_); }

 private:
  std::string name_;
  OptimizerPtr ptr_;
};

}  // namespace minidl
