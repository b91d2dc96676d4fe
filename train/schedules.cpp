// train/schedules.cpp — the learning-rate schedules (train/schedules.h).
#include "train/schedules.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "core/errors.h"
#include "layers/base/json_text.h"

namespace minidl {

ExponentialDecay::ExponentialDecay(double initial, int64_t decay_steps, double decay_rate, bool staircase)
    : initial_(initial), rate_(decay_rate), steps_(decay_steps), staircase_(staircase) {
  MINIDL_CHECK(decay_steps > 0, ValueError, "ExponentialDecay: decay_steps must be positive, received {}", decay_steps);
}

double ExponentialDecay::operator()(int64_t step) const {
  double p = static_cast<double>(step) / static_cast<double>(steps_);
  if (staircase_) p = std::floor(p);
  return initial_ * std::pow(rate_, p);
}

json ExponentialDecay::get_config() const {
  return {{"initial_learning_rate", initial_},
          {"decay_steps", steps_},
          {"decay_rate", rate_},
          {"staircase", staircase_},
          {"name", nullptr}};
}

PiecewiseConstantDecay::PiecewiseConstantDecay(std::vector<int64_t> boundaries, std::vector<double> values)
    : boundaries_(std::move(boundaries)), values_(std::move(values)) {
  MINIDL_CHECK(values_.size() == boundaries_.size() + 1, ValueError,
               "PiecewiseConstantDecay: expected {} values for {} boundaries, received {}", boundaries_.size() + 1,
               boundaries_.size(), values_.size());
}

double PiecewiseConstantDecay::operator()(int64_t step) const {
  for (size_t i = 0; i < boundaries_.size(); ++i)
    if (step <= boundaries_[i]) return values_[i];
  return values_.back();
}

json PiecewiseConstantDecay::get_config() const {
  return {{"boundaries", boundaries_}, {"values", values_}, {"name", nullptr}};
}

std::shared_ptr<LearningRateSchedule> schedule_from_config(const json& cc) {
  MINIDL_CHECK(cc.is_object() && cc.contains("class_name") && cc.contains("config") && cc["config"].is_object(),
               ValueError, "learning-rate schedule: expected {{class_name, config}}, received {}",
               json_preview(cc));
  const auto& c = cc["config"];
  const std::string cls = cc["class_name"].get<std::string>();
  try {
    if (cls == "ExponentialDecay")
      return std::make_shared<ExponentialDecay>(c.at("initial_learning_rate").get<double>(),
                                                c.at("decay_steps").get<int64_t>(), c.at("decay_rate").get<double>(),
                                                c.value("staircase", false));
    if (cls == "PiecewiseConstantDecay")
      return std::make_shared<PiecewiseConstantDecay>(c.at("boundaries").get<std::vector<int64_t>>(),
                                                      c.at("values").get<std::vector<double>>());
  } catch (const nlohmann::json::exception& e) {
    raise<ValueError>("learning-rate schedule {}: bad config {}: {}", cls, json_preview(c), e.what());
  }
  raise<ValueError>("Unknown learning-rate schedule: '{}' (known: ExponentialDecay, PiecewiseConstantDecay)", cls);
}

}  // namespace minidl
