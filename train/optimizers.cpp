// train/optimizers.cpp — the Keras optimizers' update rules and configs (train/optimizers.h).
#include "train/optimizers.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/errors.h"
#include "layers/base/json_text.h"

namespace minidl {

// ---------------------------------------------------------------------------
// Base

static double checked_decay(double decay) {
  MINIDL_CHECK(std::isfinite(decay) && decay >= 0, ValueError,
               "decay cannot be less than 0 and must be finite: received {}", decay);
  return decay;
}

OptimizerBase::OptimizerBase(double learning_rate, double decay) : lr_(learning_rate), decay_(checked_decay(decay)) {}

OptimizerBase::OptimizerBase(std::shared_ptr<LearningRateSchedule> schedule, double decay)
    : decay_(checked_decay(decay)), schedule_(std::move(schedule)) {}

// tf.keras's _decayed_lr divides the (scheduled) rate by 1 + decay * iterations,
// iterations counting the updates already made (0 for the first).
double OptimizerBase::decayed_learning_rate() const {
  const double lr = learning_rate();
  return decay_ > 0 ? lr / (1.0 + decay_ * static_cast<double>(iterations_)) : lr;
}

void OptimizerBase::apply_gradients(const std::vector<Variable>& params) {
  const double lr = decayed_learning_rate();
  const int64_t t = iterations_ + 1;  // Keras's local_step: 1 for the first update
  for (const auto& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    Variable v = p;
    Tensor& w = v.mutable_value();
    const Tensor& g = p.grad();
    MINIDL_CHECK(g.numel() == w.numel(), ValueError, "{}: gradient of '{}' has shape {}, the weight has {}",
                 class_name(), p.name(), shape_str(g.shape()), shape_str(w.shape()));
    update(w.data(), g.data(), w.numel(), slots_of(p), lr, t);
  }
  ++iterations_;
}

json OptimizerBase::get_config() const {
  json c;
  c["name"] = class_name();
  if (schedule_) {
    c["learning_rate"] = class_and_config(schedule_.get());
  } else {
    c["learning_rate"] = static_cast<double>(static_cast<float>(lr_));  // Keras stores float32
  }
  c["decay"] = decay_;  // tf.keras writes the Python float it was given, not a float32
  // A named copy: items() of the temporary would dangle inside the range-for.
  const json extra = extra_config();
  for (const auto& [k, v] : extra.items()) c[k] = v;
  return c;
}

static double f32(double v) { return static_cast<double>(static_cast<float>(v)); }

// ---------------------------------------------------------------------------
// SGD: v = momentum * v - lr * g; w += v (nesterov: w += momentum * v - lr * g).

SGD::SGD(double lr, SGDOptions o) : OptimizerWith(lr, o) {
  MINIDL_CHECK(o.momentum >= 0 && o.momentum <= 1, ValueError, "SGD: momentum must be in [0, 1], received {}",
               o.momentum);
}

void SGD::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t) {
  const float a = static_cast<float>(lr);
  if (o_.momentum == 0) {
    for (int64_t i = 0; i < n; ++i) w[i] -= a * g[i];
    return;
  }
  const float m = static_cast<float>(o_.momentum);
  float* v = slots[0].data();
  for (int64_t i = 0; i < n; ++i) {
    v[i] = m * v[i] - a * g[i];
    w[i] += o_.nesterov ? m * v[i] - a * g[i] : v[i];
  }
}

json SGD::extra_config() const { return {{"momentum", f32(o_.momentum)}, {"nesterov", o_.nesterov}}; }

// ---------------------------------------------------------------------------
// Adam (TensorFlow's ApplyAdam): lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t);
// w -= lr_t * m / (sqrt(v) + epsilon). AMSGrad uses max(vhat, v).

void Adam::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) {
  const double b1 = o_.beta_1, b2 = o_.beta_2;
  const float lr_t = static_cast<float>(lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t)));
  const float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2), eps = static_cast<float>(o_.epsilon);
  float* m = slots[0].data();
  float* v = slots[1].data();
  float* vhat = o_.amsgrad ? slots[2].data() : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    m[i] = fb1 * m[i] + (1 - fb1) * g[i];
    v[i] = fb2 * v[i] + (1 - fb2) * g[i] * g[i];
    float denom = v[i];
    if (vhat) denom = vhat[i] = std::max(vhat[i], v[i]);
    w[i] -= lr_t * m[i] / (std::sqrt(denom) + eps);
  }
}

json Adam::extra_config() const {
  return {{"beta_1", f32(o_.beta_1)}, {"beta_2", f32(o_.beta_2)}, {"epsilon", o_.epsilon}, {"amsgrad", o_.amsgrad}};
}

// ---------------------------------------------------------------------------
// RMSprop. Without momentum (tf.keras): w -= lr * g / (sqrt(ms) + eps).
// With momentum (TensorFlow's ApplyRMSProp kernel): mom = momentum * mom + lr * g / sqrt(ms + eps); w -= mom.
// Centered subtracts mg^2 from ms in the denominator.

void RMSprop::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t) {
  const float rho = static_cast<float>(o_.rho), eps = static_cast<float>(o_.epsilon), a = static_cast<float>(lr);
  const float mom_c = static_cast<float>(o_.momentum);
  float* ms = slots[0].data();
  float* mom = slots[1].data();
  float* mg = slots[2].data();
  for (int64_t i = 0; i < n; ++i) {
    ms[i] = rho * ms[i] + (1 - rho) * g[i] * g[i];
    float denom = ms[i];
    if (o_.centered) {
      mg[i] = rho * mg[i] + (1 - rho) * g[i];
      denom = ms[i] - mg[i] * mg[i];
    }
    if (o_.momentum != 0) {
      mom[i] = mom_c * mom[i] + a * g[i] / std::sqrt(denom + eps);
      w[i] -= mom[i];
    } else {
      w[i] -= a * g[i] / (std::sqrt(denom) + eps);
    }
  }
}

json RMSprop::extra_config() const {
  return {{"rho", f32(o_.rho)}, {"momentum", f32(o_.momentum)}, {"epsilon", o_.epsilon}, {"centered", o_.centered}};
}

// ---------------------------------------------------------------------------
// Adagrad: acc += g^2; w -= lr * g / (sqrt(acc) + eps).

void Adagrad::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t) {
  const float a = static_cast<float>(lr), eps = static_cast<float>(o_.epsilon);
  float* acc = slots[0].data();
  for (int64_t i = 0; i < n; ++i) {
    acc[i] += g[i] * g[i];
    w[i] -= a * g[i] / (std::sqrt(acc[i]) + eps);
  }
}

json Adagrad::extra_config() const {
  return {{"initial_accumulator_value", f32(o_.initial_accumulator_value)}, {"epsilon", o_.epsilon}};
}

// ---------------------------------------------------------------------------
// Adadelta: acc = rho acc + (1 - rho) g^2; u = sqrt(acc_u + eps) / sqrt(acc + eps) * g;
// acc_u = rho acc_u + (1 - rho) u^2; w -= lr * u.

void Adadelta::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t) {
  const float rho = static_cast<float>(o_.rho), eps = static_cast<float>(o_.epsilon), a = static_cast<float>(lr);
  float* acc = slots[0].data();
  float* acc_u = slots[1].data();
  for (int64_t i = 0; i < n; ++i) {
    acc[i] = rho * acc[i] + (1 - rho) * g[i] * g[i];
    const float u = std::sqrt(acc_u[i] + eps) / std::sqrt(acc[i] + eps) * g[i];
    acc_u[i] = rho * acc_u[i] + (1 - rho) * u * u;
    w[i] -= a * u;
  }
}

json Adadelta::extra_config() const { return {{"rho", f32(o_.rho)}, {"epsilon", o_.epsilon}}; }

// ---------------------------------------------------------------------------
// Adamax: m = b1 m + (1 - b1) g; u = max(b2 u, |g|); w -= lr / (1 - b1^t) * m / (u + eps).

void Adamax::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) {
  const float b1 = static_cast<float>(o_.beta_1), b2 = static_cast<float>(o_.beta_2);
  const float eps = static_cast<float>(o_.epsilon);
  const float lr_t = static_cast<float>(lr / (1 - std::pow(o_.beta_1, t)));
  float* m = slots[0].data();
  float* u = slots[1].data();
  for (int64_t i = 0; i < n; ++i) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    u[i] = std::max(b2 * u[i], std::fabs(g[i]));
    w[i] -= lr_t * m[i] / (u[i] + eps);
  }
}

json Adamax::extra_config() const {
  return {{"beta_1", f32(o_.beta_1)}, {"beta_2", f32(o_.beta_2)}, {"epsilon", o_.epsilon}};
}

// ---------------------------------------------------------------------------
// Nadam (tf.keras 2): Adam with a Nesterov momentum schedule
//   mu_t = b1 (1 - 0.5 * 0.96^(schedule_decay t)), mu_{t+1} likewise, m_schedule = prod mu.
// tf.keras turns Keras's schedule_decay into Nadam's `decay` and never decays
// Nadam's learning rate, so the base gets no time-based decay here.

// tf.keras checks it as the base's decay, so the same rule applies.
static double checked_schedule_decay(double d) {
  MINIDL_CHECK(std::isfinite(d) && d >= 0, ValueError,
               "Nadam: schedule_decay (the config's decay) cannot be less than 0 and must be finite: received {}", d);
  return d;
}

Nadam::Nadam(double lr, NadamOptions o) : OptimizerWith(lr, o) { checked_schedule_decay(o.schedule_decay); }
Nadam::Nadam(std::shared_ptr<LearningRateSchedule> s, NadamOptions o) : OptimizerWith(std::move(s), o) {
  checked_schedule_decay(o.schedule_decay);
}

void Nadam::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) {
  const double b1 = o_.beta_1, b2 = o_.beta_2;
  const double sd = o_.schedule_decay;
  const double mu_t = b1 * (1 - 0.5 * std::pow(0.96, sd * static_cast<double>(t)));
  const double mu_t1 = b1 * (1 - 0.5 * std::pow(0.96, sd * static_cast<double>(t + 1)));
  if (m_cache_step_ != t) {  // the schedule product advances once per step, not per parameter
    m_cache_ *= mu_t;
    m_cache_step_ = t;
  }
  const double m_sched_new = m_cache_;
  const double m_sched_next = m_sched_new * mu_t1;
  const float eps = static_cast<float>(o_.epsilon), a = static_cast<float>(lr);
  const float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
  const float c_g = static_cast<float>(1.0 / (1 - m_sched_new));
  const float c_m = static_cast<float>(1.0 / (1 - m_sched_next));
  const float c_v = static_cast<float>(1.0 / (1 - std::pow(b2, t)));
  const float fmu_t = static_cast<float>(mu_t), fmu_t1 = static_cast<float>(mu_t1);
  float* m = slots[0].data();
  float* v = slots[1].data();
  for (int64_t i = 0; i < n; ++i) {
    const float g_prime = g[i] * c_g;
    m[i] = fb1 * m[i] + (1 - fb1) * g[i];
    v[i] = fb2 * v[i] + (1 - fb2) * g[i] * g[i];
    const float m_bar = (1 - fmu_t) * g_prime + fmu_t1 * m[i] * c_m;
    w[i] -= a * m_bar / (std::sqrt(v[i] * c_v) + eps);
  }
}

// "decay" overrides the base's 0: tf.keras's Nadam config stores schedule_decay under that key.
json Nadam::extra_config() const {
  return {{"beta_1", f32(o_.beta_1)},
          {"beta_2", f32(o_.beta_2)},
          {"epsilon", o_.epsilon},
          {"decay", o_.schedule_decay}};
}

// ---------------------------------------------------------------------------
// Lookup

namespace {

// Opt with options o, from the config's schedule when it has one, else from
// its learning rate `lr` (negative: none given, so Keras's default).
template <class Opt, class O>
OptimizerPtr make_optimizer(const std::shared_ptr<LearningRateSchedule>& schedule, double lr, const O& o) {
  if (schedule) return std::make_shared<Opt>(schedule, o);
  return std::make_shared<Opt>(lr < 0 ? O::kDefaultLearningRate : lr, o);
}

}  // namespace

OptimizerPtr get_optimizer(const std::string& id) {
  std::string k;
  for (char c : id) k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (k == "sgd") return std::make_shared<SGD>();
  if (k == "adam") return std::make_shared<Adam>();
  if (k == "rmsprop") return std::make_shared<RMSprop>();
  if (k == "adagrad") return std::make_shared<Adagrad>();
  if (k == "adadelta") return std::make_shared<Adadelta>();
  if (k == "adamax") return std::make_shared<Adamax>();
  if (k == "nadam") return std::make_shared<Nadam>();
  raise<ValueError>("Unknown optimizer: '{}'. Known optimizers: sgd, adam, rmsprop, adagrad, adadelta, adamax, nadam",
                    id);
}

OptimizerPtr optimizer_from_config(const json& cc) {
  MINIDL_CHECK(cc.is_object() && cc.contains("class_name") && cc["class_name"].is_string(), ValueError,
               "optimizer config: expected {{class_name, config}}, received {}", json_preview(cc));
  const json c = cc.contains("config") && cc["config"].is_object() ? cc["config"] : json::object();
  auto num = [&](const char* key, double fallback) {
    if (!c.contains(key) || c[key].is_null()) return fallback;
    if (std::string(key) == "learning_rate" && c[key].is_object()) return fallback;  // a schedule, read below
    MINIDL_CHECK(c[key].is_number(), ValueError, "optimizer config: '{}' must be a number, received {}", key,
                 json_preview(c[key]));
    return c[key].get<double>();
  };
  // "lr" is the Keras 1/2.0-2.2 name of learning_rate.
  double lr_default = -1;
  std::shared_ptr<LearningRateSchedule> schedule;
  if (c.contains("learning_rate") && c["learning_rate"].is_object()) {
    schedule = schedule_from_config(c["learning_rate"]);
  }
  const double lr = num("learning_rate", num("lr", lr_default));
  // Keras 2's time-based decay (Nadam reads the key as its schedule_decay instead).
  const double decay = num("decay", 0.0);
  std::string cls = cc["class_name"].get<std::string>();
  std::string k;
  for (char ch : cls) k += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (k == "sgd")
    return make_optimizer<SGD>(schedule, lr, SGDOptions{num("momentum", 0), c.value("nesterov", false), decay});
  if (k == "adam")
    return make_optimizer<Adam>(schedule, lr,
                                AdamOptions{num("beta_1", 0.9), num("beta_2", 0.999), num("epsilon", 1e-7),
                                            c.value("amsgrad", false), decay});
  if (k == "rmsprop")
    return make_optimizer<RMSprop>(schedule, lr,
                                   RMSpropOptions{num("rho", 0.9), num("momentum", 0), num("epsilon", 1e-7),
                                                  c.value("centered", false), decay});
  if (k == "adagrad")
    return make_optimizer<Adagrad>(schedule, lr,
                                   AdagradOptions{num("initial_accumulator_value", 0.1), num("epsilon", 1e-7), decay});
  if (k == "adadelta")
    return make_optimizer<Adadelta>(schedule, lr, AdadeltaOptions{num("rho", 0.95), num("epsilon", 1e-7), decay});
  if (k == "adamax")
    return make_optimizer<Adamax>(schedule, lr,
                                  AdamaxOptions{num("beta_1", 0.9), num("beta_2", 0.999), num("epsilon", 1e-7), decay});
  if (k == "nadam")
    // Keras 2.0-2.2 writes schedule_decay; tf.keras writes the same value as "decay".
    return make_optimizer<Nadam>(schedule, lr,
                                 NadamOptions{num("beta_1", 0.9), num("beta_2", 0.999), num("epsilon", 1e-7),
                                              num("schedule_decay", num("decay", 0.004))});
  raise<ValueError>("Unknown optimizer class '{}' in config", cls);
}

}  // namespace minidl
