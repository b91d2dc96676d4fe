// Optimizers: the first steps of every tf.keras update rule against the same
// rule written out here in double precision; schedules; configs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "core/errors.h"
#include "train/optimizers.h"
#include "train/schedules.h"

using namespace minidl;

namespace {

using Vec = std::vector<double>;

const Vec kW0 = {1.0, -2.0, 0.5};
// Fixed gradients of three steps (a sign change and a zero exercise the state).
const std::vector<Vec> kGrads = {{0.5, -1.0, 2.0}, {0.25, 0.5, -1.5}, {-0.75, 0.0, 1.0}};

// Runs `opt` for kGrads.size() steps from kW0 and returns the weights after each step.
std::vector<std::vector<float>> run(Optimizer& opt) {
  Variable w(Tensor::from_data({3}, {float(kW0[0]), float(kW0[1]), float(kW0[2])}), true);
  std::vector<std::vector<float>> out;
  for (const Vec& g : kGrads) {
    w.set_grad(Tensor::from_data({3}, {float(g[0]), float(g[1]), float(g[2])}));
    opt.apply_gradients({w});
    out.push_back(w.value().to_vector());
  }
  return out;
}

// The reference: step(t (1-based), w, g) updates w in double, keeping its own state.
using RefStep = std::function<void(int t, Vec& w, const Vec& g)>;

void expect_matches(Optimizer& opt, const RefStep& ref, double rtol = 2e-5) {
  auto got = run(opt);
  Vec w = kW0;
  for (size_t s = 0; s < kGrads.size(); ++s) {
    ref(static_cast<int>(s) + 1, w, kGrads[s]);
    for (size_t i = 0; i < w.size(); ++i)
      EXPECT_NEAR(got[s][i], w[i], rtol * std::max(1.0, std::fabs(w[i]))) << opt.class_name() << " step " << s + 1
                                                                          << " element " << i;
  }
  EXPECT_EQ(opt.iterations(), static_cast<int64_t>(kGrads.size()));
}

}  // namespace

TEST(Optimizers, SgdIsPlainGradientDescent) {
  SGD opt(0.1);
  expect_matches(opt, [](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) w[i] -= 0.1 * g[i];
  });
}

TEST(Optimizers, SgdMomentumAccumulatesVelocity) {
  SGD opt(0.1, {.momentum = 0.9});
  Vec v(3, 0.0);
  expect_matches(opt, [&](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      v[i] = 0.9 * v[i] - 0.1 * g[i];
      w[i] += v[i];
    }
  });
}

TEST(Optimizers, SgdNesterovLooksAhead) {
  SGD opt(0.1, {.momentum = 0.9, .nesterov = true});
  Vec v(3, 0.0);
  expect_matches(opt, [&](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      v[i] = 0.9 * v[i] - 0.1 * g[i];
      w[i] += 0.9 * v[i] - 0.1 * g[i];
    }
  });
}

TEST(Optimizers, AdamUsesBiasCorrectedStepSize) {
  Adam opt(0.1);
  Vec m(3, 0.0), v(3, 0.0);
  expect_matches(opt, [&](int t, Vec& w, const Vec& g) {
    const double lr_t = 0.1 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    for (size_t i = 0; i < w.size(); ++i) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      w[i] -= lr_t * m[i] / (std::sqrt(v[i]) + 1e-7);
    }
  });
}

TEST(Optimizers, AdamAmsgradKeepsTheLargestSecondMoment) {
  Adam opt(0.05, {.beta_1 = 0.8, .beta_2 = 0.9, .epsilon = 1e-3, .amsgrad = true});
  Vec m(3, 0.0), v(3, 0.0), vhat(3, 0.0);
  expect_matches(opt, [&](int t, Vec& w, const Vec& g) {
    const double lr_t = 0.05 * std::sqrt(1 - std::pow(0.9, t)) / (1 - std::pow(0.8, t));
    for (size_t i = 0; i < w.size(); ++i) {
      m[i] = 0.8 * m[i] + 0.2 * g[i];
      v[i] = 0.9 * v[i] + 0.1 * g[i] * g[i];
      vhat[i] = std::max(vhat[i], v[i]);
      w[i] -= lr_t * m[i] / (std::sqrt(vhat[i]) + 1e-3);
    }
  });
}

TEST(Optimizers, RmspropDividesByRootMeanSquare) {
  RMSprop opt(0.01);
  Vec ms(3, 0.0);
  expect_matches(opt, [&](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      ms[i] = 0.9 * ms[i] + 0.1 * g[i] * g[i];
      w[i] -= 0.01 * g[i] / (std::sqrt(ms[i]) + 1e-7);
    }
  });
}

TEST(Optimizers, RmspropCenteredSubtractsTheMeanGradient) {
  RMSprop opt(0.01, {.rho = 0.8, .centered = true});
  Vec ms(3, 0.0), mg(3, 0.0);
  expect_matches(opt, [&](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      ms[i] = 0.8 * ms[i] + 0.2 * g[i] * g[i];
      mg[i] = 0.8 * mg[i] + 0.2 * g[i];
      w[i] -= 0.01 * g[i] / (std::sqrt(ms[i] - mg[i] * mg[i]) + 1e-7);
    }
  });
}

TEST(Optimizers, RmspropMomentumFollowsTheTensorFlowKernel) {
  // ApplyRMSProp: epsilon inside the square root, the step accumulated in mom.
  RMSprop opt(0.01, {.momentum = 0.5});
  Vec ms(3, 0.0), mom(3, 0.0);
  expect_matches(opt, [&](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      ms[i] = 0.9 * ms[i] + 0.1 * g[i] * g[i];
      mom[i] = 0.5 * mom[i] + 0.01 * g[i] / std::sqrt(ms[i] + 1e-7);
      w[i] -= mom[i];
    }
  });
}

TEST(Optimizers, AdagradStartsFromTheInitialAccumulator) {
  Adagrad opt(0.1);
  Vec acc(3, 0.1);
  expect_matches(opt, [&](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      acc[i] += g[i] * g[i];
      w[i] -= 0.1 * g[i] / (std::sqrt(acc[i]) + 1e-7);
    }
  });
}

TEST(Optimizers, AdadeltaScalesByTheRatioOfRunningRoots) {
  Adadelta opt(1.0, {.rho = 0.9, .epsilon = 1e-4});
  Vec acc(3, 0.0), acc_u(3, 0.0);
  expect_matches(opt, [&](int, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      acc[i] = 0.9 * acc[i] + 0.1 * g[i] * g[i];
      const double u = std::sqrt(acc_u[i] + 1e-4) / std::sqrt(acc[i] + 1e-4) * g[i];
      acc_u[i] = 0.9 * acc_u[i] + 0.1 * u * u;
      w[i] -= 1.0 * u;
    }
  });
}

TEST(Optimizers, AdamaxUsesTheInfinityNorm) {
  Adamax opt(0.1);
  Vec m(3, 0.0), u(3, 0.0);
  expect_matches(opt, [&](int t, Vec& w, const Vec& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      u[i] = std::max(0.999 * u[i], std::fabs(g[i]));
      w[i] -= 0.1 / (1 - std::pow(0.9, t)) * m[i] / (u[i] + 1e-7);
    }
  });
}

TEST(Optimizers, NadamUsesTheMomentumSchedule) {
  Nadam opt(0.1);
  Vec m(3, 0.0), v(3, 0.0);
  double m_schedule = 1.0;
  expect_matches(opt, [&](int t, Vec& w, const Vec& g) {
    const double mu_t = 0.9 * (1 - 0.5 * std::pow(0.96, 0.004 * t));
    const double mu_t1 = 0.9 * (1 - 0.5 * std::pow(0.96, 0.004 * (t + 1)));
    m_schedule *= mu_t;
    const double m_schedule_next = m_schedule * mu_t1;
    for (size_t i = 0; i < w.size(); ++i) {
      const double g_prime = g[i] / (1 - m_schedule);
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      const double m_prime = m[i] / (1 - m_schedule_next);
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      const double v_prime = v[i] / (1 - std::pow(0.999, t));
      const double m_bar = (1 - mu_t) * g_prime + mu_t1 * m_prime;
      w[i] -= 0.1 * m_bar / (std::sqrt(v_prime) + 1e-7);
    }
  });
}

TEST(Optimizers, NadamScheduleAdvancesOncePerStepWithSeveralParameters) {
  // Two parameters updated in one step must see the same momentum schedule as one alone.
  Nadam one(0.1), two(0.1);
  Variable a(Tensor::from_data({1}, {1.f}), true), b(Tensor::from_data({1}, {1.f}), true),
      c(Tensor::from_data({1}, {1.f}), true);
  for (int s = 0; s < 3; ++s) {
    for (Variable* v : {&a, &b, &c}) v->set_grad(Tensor::from_data({1}, {0.5f}));
    one.apply_gradients({a});
    two.apply_gradients({b, c});
  }
  EXPECT_EQ(a.value()[0], b.value()[0]);
  EXPECT_EQ(b.value()[0], c.value()[0]);
}

TEST(Optimizers, ParametersWithoutGradientsAreSkipped) {
  Adam opt;
  Variable w(Tensor::from_data({2}, {1.f, 2.f}), true);
  opt.apply_gradients({w});
  EXPECT_EQ(w.value().to_vector(), (std::vector<float>{1.f, 2.f}));
  EXPECT_EQ(opt.iterations(), 1);
}

TEST(Optimizers, SgdMomentumOutsideZeroOneIsAValueError) {
  EXPECT_THROW(SGD(0.1, {.momentum = 1.5}), ValueError);
  EXPECT_THROW(SGD(0.1, {.momentum = -0.1}), ValueError);
}

TEST(Schedules, ExponentialDecayFollowsKerasFormula) {
  ExponentialDecay smooth(0.1, 10, 0.5), stairs(0.1, 10, 0.5, true);
  EXPECT_DOUBLE_EQ(smooth(0), 0.1);
  EXPECT_NEAR(smooth(5), 0.1 * std::pow(0.5, 0.5), 1e-15);
  EXPECT_NEAR(smooth(25), 0.1 * std::pow(0.5, 2.5), 1e-15);
  EXPECT_DOUBLE_EQ(stairs(9), 0.1);
  EXPECT_DOUBLE_EQ(stairs(25), 0.1 * 0.25);
  EXPECT_THROW(ExponentialDecay(0.1, 0, 0.5), ValueError);
}

TEST(Schedules, PiecewiseConstantDecayIncludesTheBoundaryInTheEarlierPiece) {
  PiecewiseConstantDecay pw({10, 20}, {1.0, 0.5, 0.1});
  EXPECT_DOUBLE_EQ(pw(0), 1.0);
  EXPECT_DOUBLE_EQ(pw(10), 1.0);
  EXPECT_DOUBLE_EQ(pw(11), 0.5);
  EXPECT_DOUBLE_EQ(pw(20), 0.5);
  EXPECT_DOUBLE_EQ(pw(21), 0.1);
  EXPECT_THROW(PiecewiseConstantDecay({10}, {1.0}), ValueError);
}

TEST(Schedules, OptimizerEvaluatesTheScheduleAtItsStepCount) {
  SGD opt(std::make_shared<ExponentialDecay>(0.1, 1, 0.5));
  Variable w(Tensor::from_data({1}, {0.f}), true);
  std::vector<float> seen;
  for (int s = 0; s < 3; ++s) {
    w.set_grad(Tensor::from_data({1}, {1.f}));
    EXPECT_DOUBLE_EQ(opt.learning_rate(), 0.1 * std::pow(0.5, s));
    opt.apply_gradients({w});
  }
  EXPECT_NEAR(w.value()[0], -(0.1 + 0.05 + 0.025), 1e-7);
  // A constant replaces the schedule.
  opt.set_learning_rate(0.3);
  EXPECT_DOUBLE_EQ(opt.learning_rate(), 0.3);
  EXPECT_TRUE(opt.get_config()["learning_rate"].is_number());
}

TEST(Schedules, ConfigRoundTrips) {
  auto s = schedule_from_config({{"class_name", "ExponentialDecay"}, {"config", ExponentialDecay(0.1, 7, 0.9, true).get_config()}});
  EXPECT_EQ(s->class_name(), "ExponentialDecay");
  EXPECT_DOUBLE_EQ((*s)(14), 0.1 * 0.81);
  auto p = schedule_from_config(
      {{"class_name", "PiecewiseConstantDecay"}, {"config", PiecewiseConstantDecay({3}, {1.0, 2.0}).get_config()}});
  EXPECT_DOUBLE_EQ((*p)(4), 2.0);
  EXPECT_THROW(schedule_from_config({{"class_name", "CosineDecay"}, {"config", json::object()}}), ValueError);
  EXPECT_THROW(schedule_from_config({{"class_name", "ExponentialDecay"}, {"config", {{"decay_steps", 1}}}}),
               ValueError);
}

TEST(OptimizerConfig, GetConfigHasKerasKeys) {
  auto keys = [](const json& c) {
    std::vector<std::string> k;
    for (auto& [key, _] : c.items()) k.push_back(key);
    return k;
  };
  using K = std::vector<std::string>;  // json objects iterate in sorted key order
  EXPECT_EQ(keys(SGD().get_config()), (K{"decay", "learning_rate", "momentum", "name", "nesterov"}));
  EXPECT_EQ(keys(Adam().get_config()), (K{"amsgrad", "beta_1", "beta_2", "decay", "epsilon", "learning_rate", "name"}));
  EXPECT_EQ(keys(RMSprop().get_config()), (K{"centered", "decay", "epsilon", "learning_rate", "momentum", "name", "rho"}));
  EXPECT_EQ(keys(Adagrad().get_config()), (K{"decay", "epsilon", "initial_accumulator_value", "learning_rate", "name"}));
  EXPECT_EQ(keys(Adadelta().get_config()), (K{"decay", "epsilon", "learning_rate", "name", "rho"}));
  EXPECT_EQ(keys(Adamax().get_config()), (K{"beta_1", "beta_2", "decay", "epsilon", "learning_rate", "name"}));
  EXPECT_EQ(keys(Nadam().get_config()), (K{"beta_1", "beta_2", "decay", "epsilon", "learning_rate", "name"}));
  auto c = Adam().get_config();
  EXPECT_EQ(c["name"], "Adam");
  // Keras stores hyperparameters as float32.
  EXPECT_DOUBLE_EQ(c["learning_rate"].get<double>(), double(0.001f));
  EXPECT_DOUBLE_EQ(c["beta_1"].get<double>(), double(0.9f));
}

TEST(OptimizerConfig, DefaultsAreKeras) {
  EXPECT_DOUBLE_EQ(get_optimizer("sgd")->learning_rate(), 0.01);
  for (const char* name : {"adam", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"})
    EXPECT_DOUBLE_EQ(get_optimizer(name)->learning_rate(), 0.001) << name;
  EXPECT_EQ(get_optimizer("Adam")->class_name(), "Adam");
  EXPECT_EQ(get_optimizer("RMSprop")->class_name(), "RMSprop");
  EXPECT_THROW(get_optimizer("adamw2"), ValueError);
}

TEST(OptimizerConfig, FromConfigReadsLegacyLrKey) {
  auto opt = optimizer_from_config(
      {{"class_name", "SGD"}, {"config", {{"lr", 0.05}, {"momentum", 0.9}, {"decay", 0.0}, {"nesterov", true}}}});
  EXPECT_EQ(opt->class_name(), "SGD");
  EXPECT_DOUBLE_EQ(opt->learning_rate(), 0.05);
  EXPECT_EQ(opt->get_config()["nesterov"], true);
  EXPECT_DOUBLE_EQ(opt->get_config()["momentum"].get<double>(), double(0.9f));
  // learning_rate wins over lr when both are present.
  auto adam = optimizer_from_config({{"class_name", "Adam"}, {"config", {{"lr", 0.5}, {"learning_rate", 0.02}}}});
  EXPECT_DOUBLE_EQ(adam->learning_rate(), 0.02);
}

TEST(OptimizerConfig, FromConfigRoundTripsEveryOptimizer) {
  for (const char* name : {"sgd", "adam", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"}) {
    auto a = get_optimizer(name);
    auto b = optimizer_from_config({{"class_name", a->class_name()}, {"config", a->get_config()}});
    EXPECT_EQ(b->class_name(), a->class_name());
    EXPECT_EQ(b->get_config(), a->get_config()) << name;
  }
}

TEST(OptimizerConfig, FromConfigReadsAScheduleAndRejectsBadInput) {
  json lr = {{"class_name", "ExponentialDecay"}, {"config", ExponentialDecay(0.1, 2, 0.5).get_config()}};
  auto opt = optimizer_from_config({{"class_name", "Adam"}, {"config", {{"learning_rate", lr}}}});
  EXPECT_DOUBLE_EQ(opt->learning_rate(), 0.1);
  EXPECT_EQ(opt->get_config()["learning_rate"]["class_name"], "ExponentialDecay");
  EXPECT_THROW(optimizer_from_config({{"class_name", "Ftrl"}, {"config", json::object()}}), ValueError);
  EXPECT_THROW(optimizer_from_config({{"config", json::object()}}), ValueError);
  EXPECT_THROW(optimizer_from_config({{"class_name", "SGD"}, {"config", {{"lr", "fast"}}}}), ValueError);
}
