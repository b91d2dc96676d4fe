// train/schedules.h — learning-rate schedules: the rate as a function of the step count.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layers/parts/keras_object.h"

namespace minidl {

// class_name() is e.g. "ExponentialDecay"; get_config() has Keras's keys.
class LearningRateSchedule : public KerasObject {
 public:
  // The rate at optimizer step `step` (0 for the first update).
  virtual double operator()(int64_t step) const = 0;
};

// initial * rate^(step / decay_steps), the exponent floored when staircase (Keras formula).
class ExponentialDecay : public LearningRateSchedule {
 public:
  ExponentialDecay(double initial_learning_rate, int64_t decay_steps, double decay_rate, bool staircase = false);
  double operator()(int64_t step) const override;
  std::string class_name() const override { return "ExponentialDecay"; }
  json get_config() const override;

 private:
  double initial_, rate_;
  int64_t steps_;
  bool staircase_;
};

// values[0] while step <= boundaries[0], values[1] while step <= boundaries[1], ..., values.back() after.
class PiecewiseConstantDecay : public LearningRateSchedule {
 public:
  PiecewiseConstantDecay(std::vector<int64_t> boundaries, std::vector<double> values);
  double operator()(int64_t step) const override;
  std::string class_name() const override { return "PiecewiseConstantDecay"; }
  json get_config() const override;

 private:
  std::vector<int64_t> boundaries_;
  std::vector<double> values_;
};

std::shared_ptr<LearningRateSchedule> schedule_from_config(const json& class_and_config);

}  // namespace minidl
