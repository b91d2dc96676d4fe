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
// LearningRateScheduler change it through set_learning_rate.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "autograd/variable.h"

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

  // The learning rate used by the next step (a schedule evaluated at iterations()).
  virtual double learning_rate() const = 0;
  // Replaces the learning rate by a constant (drops a schedule).
  virtual void set_learning_rate(double lr) = 0;
  virtual int64_t iterations() const = 0;
};

using OptimizerPtr = std::shared_ptr<Optimizer>;

// By Keras name ("sgd", "adam", "rmsprop", ...) with Keras defaults; ValueError when unknown.
OptimizerPtr get_optimizer(const std::string& identifier);
// From a Keras {"class_name", "config"} object (training_config's optimizer_config).
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
