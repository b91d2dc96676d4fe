// Keras 2's legacy `decay` option: step t (0-based) uses lr / (1 + decay * t),
// on top of a schedule; checked against the update rules written out here in
// double precision. Nadam's `decay` is its momentum schedule's decay instead.
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
const std::vector<Vec> kGrads = {{0.5, -1.0, 2.0}, {0.25, 0.5, -1.5}, {-0.75, 0.0, 1.0}, {1.0, -0.5, 0.25}};

// ref(t (0-based updates made so far), w, g) updates w in double, keeping its own state.
using RefStep = std::function<void(int t, Vec& w, const Vec& g)>;

// Runs `opt` over kGrads from kW0 and compares the weights after every step with `ref`.
void expect_matches(Optimizer& opt, const RefStep& ref, double rtol = 2e-5) {
  Variable w(Tensor::from_data({3}, {float(kW0[0]), float(kW0[1]), float(kW0[2])}), true);
  Vec want = kW0;
  for (size_t s = 0; s < kGrads.size(); ++s) {
    const Vec& g = kGrads[s];
    w.set_grad(Tensor::from_data({3}, {float(g[0]), float(g[1]), float(g[2])}));
    opt.apply_gradients({w});
    ref(static_cast<int>(s), want, g);
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(w.value()[static_cast<int64_t>(i)], want[i], rtol * std::max(1.0, std::fabs(want[i])))
          << opt.class_name() << " step " << s << " element " << i;
  }
}

}  // namespace

TEST(OptimizerDecay, SgdStepTUsesLrOverOnePlusDecayTimesT) {
  SGD opt(0.1, {.decay = 0.5});
  expect_matches(opt, [](int t, Vec& w, const Vec& g) {
    const double lr = 0.1 / (1 + 0.5 * t);  // 0.1, 0.0667, 0.05, 0.04
    for (size_t i = 0; i < w.size(); ++i) w[i] -= lr * g[i];
  });
}

TEST(OptimizerDecay, SgdMomentumUsesTheDecayedRateInTheVelocity) {
  SGD opt(0.1, {.momentum = 0.9, .decay = 0.25});
  Vec v(3, 0.0);
  expect_matches(opt, [&v](int t, Vec& w, const Vec& g) {
    const double lr = 0.1 / (1 + 0.25 * t);
    for (size_t i = 0; i < w.size(); ++i) {
      v[i] = 0.9 * v[i] - lr * g[i];
      w[i] += v[i];
    }
  });
}

TEST(OptimizerDecay, AdamDecaysTheRateBeforeItsBiasCorrection) {
  Adam opt(0.01, {.decay = 0.1});
  Vec m(3, 0.0), v(3, 0.0);
  expect_matches(opt, [&](int t, Vec& w, const Vec& g) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-7;
    const int step = t + 1;  // the bias correction counts from 1, the decay from 0
    const double lr = 0.01 / (1 + 0.1 * t) * std::sqrt(1 - std::pow(b2, step)) / (1 - std::pow(b1, step));
    for (size_t i = 0; i < w.size(); ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      w[i] -= lr * m[i] / (std::sqrt(v[i]) + eps);
    }
  });
}

TEST(OptimizerDecay, RmspropAdagradAdadeltaAdamaxTakeTheDecayedRate) {
  // Each with decay against the same optimizer whose rate is set by hand to lr / (1 + decay * t).
  struct Case {
    OptimizerPtr decayed, manual;
    double lr;
  };
  const std::vector<Case> cases = {
      {std::make_shared<RMSprop>(0.01, RMSpropOptions{.decay = 0.3}), std::make_shared<RMSprop>(0.01), 0.01},
      {std::make_shared<Adagrad>(0.01, AdagradOptions{.decay = 0.3}), std::make_shared<Adagrad>(0.01), 0.01},
      {std::make_shared<Adadelta>(1.0, AdadeltaOptions{.decay = 0.3}), std::make_shared<Adadelta>(1.0), 1.0},
      {std::make_shared<Adamax>(0.01, AdamaxOptions{.decay = 0.3}), std::make_shared<Adamax>(0.01), 0.01}};
  for (const Case& c : cases) {
    Variable a(Tensor::from_data({3}, {1.f, -2.f, 0.5f}), true), b(Tensor::from_data({3}, {1.f, -2.f, 0.5f}), true);
    for (size_t s = 0; s < kGrads.size(); ++s) {
      const Vec& g = kGrads[s];
      a.set_grad(Tensor::from_data({3}, {float(g[0]), float(g[1]), float(g[2])}));
      b.set_grad(Tensor::from_data({3}, {float(g[0]), float(g[1]), float(g[2])}));
      c.manual->set_learning_rate(c.lr / (1 + 0.3 * static_cast<double>(s)));
      c.decayed->apply_gradients({a});
      c.manual->apply_gradients({b});
    }
    EXPECT_EQ(a.value().to_vector(), b.value().to_vector()) << c.decayed->class_name();
    EXPECT_NE(a.value().to_vector(), (std::vector<float>{1.f, -2.f, 0.5f})) << c.decayed->class_name();
  }
}

TEST(OptimizerDecay, LearningRateStaysTheBaseAndDecayedRateFollowsIterations) {
  SGD opt(0.2, {.decay = 0.5});
  Variable w(Tensor::from_data({1}, {0.f}), true);
  for (int s = 0; s < 3; ++s) {
    EXPECT_DOUBLE_EQ(opt.learning_rate(), 0.2);
    EXPECT_DOUBLE_EQ(opt.decayed_learning_rate(), 0.2 / (1 + 0.5 * s));
    w.set_grad(Tensor::from_data({1}, {1.f}));
    opt.apply_gradients({w});
  }
  // A new base rate (ReduceLROnPlateau, LearningRateScheduler) is still decayed by the step count.
  opt.set_learning_rate(0.1);
  EXPECT_DOUBLE_EQ(opt.decayed_learning_rate(), 0.1 / (1 + 0.5 * 3));
  EXPECT_DOUBLE_EQ(SGD(0.2).decayed_learning_rate(), 0.2);
}

TEST(OptimizerDecay, AppliesOnTopOfASchedule) {
  SGD opt(std::make_shared<ExponentialDecay>(0.1, 1, 0.5), {.decay = 1.0});
  Variable w(Tensor::from_data({1}, {0.f}), true);
  double want = 0;
  for (int s = 0; s < 3; ++s) {
    const double lr = 0.1 * std::pow(0.5, s) / (1 + s);  // schedule value, then divided
    EXPECT_DOUBLE_EQ(opt.decayed_learning_rate(), lr);
    w.set_grad(Tensor::from_data({1}, {1.f}));
    opt.apply_gradients({w});
    want -= lr;
  }
  EXPECT_NEAR(w.value()[0], want, 1e-7);
}

TEST(OptimizerDecay, NegativeOrNonFiniteDecayIsAValueError) {
  EXPECT_THROW(SGD(0.1, {.decay = -0.1}), ValueError);
  EXPECT_THROW(Adam(0.1, {.decay = std::nan("")}), ValueError);
  EXPECT_THROW(RMSprop(std::make_shared<ExponentialDecay>(0.1, 1, 0.5), {.decay = -1}), ValueError);
  EXPECT_THROW(optimizer_from_config({{"class_name", "Adam"}, {"config", {{"decay", -0.5}}}}), ValueError);
  EXPECT_THROW(optimizer_from_config({{"class_name", "SGD"}, {"config", {{"decay", "1e-3"}}}}), ValueError);
}

// ---------------------------------------------------------------------------
// Configs

TEST(OptimizerDecayConfig, GetConfigWritesTheDecayAsGiven) {
  EXPECT_EQ(SGD(0.1, {.decay = 1e-3}).get_config()["decay"].get<double>(), 1e-3);  // not rounded to float32
  EXPECT_EQ(Adagrad().get_config()["decay"].get<double>(), 0.0);
}

TEST(OptimizerDecayConfig, RoundTripsEveryOptimizerWithDecay) {
  const std::vector<OptimizerPtr> opts = {
      std::make_shared<SGD>(0.1, SGDOptions{.momentum = 0.5, .decay = 0.01}),
      std::make_shared<Adam>(0.01, AdamOptions{.decay = 0.02}),
      std::make_shared<RMSprop>(0.01, RMSpropOptions{.decay = 0.03}),
      std::make_shared<Adagrad>(0.01, AdagradOptions{.decay = 0.04}),
      std::make_shared<Adadelta>(1.0, AdadeltaOptions{.decay = 0.05}),
      std::make_shared<Adamax>(0.01, AdamaxOptions{.decay = 0.06}),
      std::make_shared<Nadam>(0.01, NadamOptions{.schedule_decay = 0.07})};
  Variable w(Tensor::from_data({1}, {0.f}), true);
  for (const auto& a : opts) {
    auto b = optimizer_from_config({{"class_name", a->class_name()}, {"config", a->get_config()}});
    EXPECT_EQ(b->get_config(), a->get_config()) << a->class_name();
    for (int s = 0; s < 2; ++s) {  // the decay is applied, not only echoed
      w.set_grad(Tensor::from_data({1}, {1.f}));
      a->apply_gradients({w});
      b->apply_gradients({w});
    }
    // The config holds the rate as a float32, so compare relative to it.
    EXPECT_NEAR(b->decayed_learning_rate() / b->learning_rate(), a->decayed_learning_rate() / a->learning_rate(),
                1e-12)
        << a->class_name();
    if (a->class_name() != "Nadam") {
      EXPECT_LT(a->decayed_learning_rate(), a->learning_rate()) << a->class_name();
    }
  }
}

TEST(OptimizerDecayConfig, ReadsAKeras22ConfigWithLrAndDecay) {
  auto opt = optimizer_from_config(
      {{"class_name", "SGD"}, {"config", {{"lr", 0.1}, {"momentum", 0.0}, {"decay", 0.01}, {"nesterov", false}}}});
  Variable w(Tensor::from_data({1}, {0.f}), true);
  w.set_grad(Tensor::from_data({1}, {1.f}));
  opt->apply_gradients({w});
  EXPECT_DOUBLE_EQ(opt->learning_rate(), 0.1);
  EXPECT_DOUBLE_EQ(opt->decayed_learning_rate(), 0.1 / 1.01);
  EXPECT_EQ(opt->get_config()["decay"].get<double>(), 0.01);
}

// ---------------------------------------------------------------------------
// Nadam

TEST(NadamScheduleDecay, IsTheConfigDecayAndLeavesTheRateUndecayed) {
  Nadam opt;
  EXPECT_EQ(opt.get_config()["decay"].get<double>(), 0.004);  // tf.keras's Nadam config
  Variable w(Tensor::from_data({1}, {0.f}), true);
  w.set_grad(Tensor::from_data({1}, {1.f}));
  opt.apply_gradients({w});
  EXPECT_DOUBLE_EQ(opt.decayed_learning_rate(), 0.001);
  // Keras 2.0-2.2 name the key schedule_decay.
  auto k22 = optimizer_from_config({{"class_name", "Nadam"}, {"config", {{"lr", 0.002}, {"schedule_decay", 0.01}}}});
  EXPECT_EQ(k22->get_config()["decay"].get<double>(), 0.01);
  EXPECT_THROW(Nadam(0.001, {.schedule_decay = std::nan("")}), ValueError);
  EXPECT_THROW(optimizer_from_config({{"class_name", "Nadam"}, {"config", {{"decay", -0.004}}}}), ValueError);
}

TEST(NadamScheduleDecay, SetsTheMomentumScheduleDecay) {
  const double sd = 0.5;  // large enough to move mu_t visibly away from the default's
  Nadam opt(0.01, {.schedule_decay = sd});
  Vec m(3, 0.0), v(3, 0.0);
  double m_sched = 1.0;
  expect_matches(opt, [&](int t0, Vec& w, const Vec& g) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-7;
    const int t = t0 + 1;
    const double mu_t = b1 * (1 - 0.5 * std::pow(0.96, sd * t));
    const double mu_t1 = b1 * (1 - 0.5 * std::pow(0.96, sd * (t + 1)));
    m_sched *= mu_t;
    const double m_next = m_sched * mu_t1;
    for (size_t i = 0; i < w.size(); ++i) {
      const double g_prime = g[i] / (1 - m_sched);
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const double m_bar = (1 - mu_t) * g_prime + mu_t1 * m[i] / (1 - m_next);
      w[i] -= 0.01 * m_bar / (std::sqrt(v[i] / (1 - std::pow(b2, t))) + eps);
    }
  });
}
