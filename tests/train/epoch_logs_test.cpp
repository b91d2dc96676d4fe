// Epoch logs as tf.keras 2.x fills them: "lr" added by ReduceLROnPlateau and
// LearningRateScheduler (seen by the callbacks after them), and validation of
// an epoch a callback stopped mid-way.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/files.h"
#include "support/models.h"
#include "train/callbacks.h"
#include "train/model.h"
#include "train/optimizers.h"
#include "train/py_format.h"

using namespace minidl;
using namespace minidl::testing;

// ---------------------------------------------------------------------------
// "lr"

TEST(EpochLogs, ReduceLROnPlateauLogsTheRateBeforeItsReduction) {
  Model model = linear_model(2, 1, 0.1);
  // A min_delta no loss can beat: every epoch after the first is a plateau.
  auto rlr = ReduceLROnPlateau({.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 1e9});
  Logs end_logs;
  auto probe = LambdaCallback({.on_train_end = [&](const Logs& l) { end_logs = l; }});
  History h = model->fit(ramp(4, 2), ramp(4, 1), {.epochs = 4, .verbose = 0, .callbacks = {rlr, probe}});
  // Epoch 1 logs 0.1, then reduces; the float32 rate is logged as its shortest repr (0.05, not 0.0500000007).
  EXPECT_EQ(h.history["lr"], (std::vector<double>{0.1, 0.1, 0.05, 0.025}));
  EXPECT_EQ(end_logs.at("lr"), 0.025);
}

TEST(EpochLogs, LearningRateSchedulerLogsTheEpochsRate) {
  Model model = linear_model(2, 1, 0.5);
  auto sched = LearningRateScheduler([](int epoch, double) { return 0.01 * (epoch + 1); });
  History h = model->fit(ramp(4, 2), ramp(4, 1), {.epochs = 3, .verbose = 0, .callbacks = {sched}});
  EXPECT_EQ(h.history["lr"], (std::vector<double>{0.01, 0.02, 0.03}));
}

TEST(EpochLogs, OnlyCallbacksAfterTheWriterSeeTheRate) {
  const auto dir = minidl::testing::temp_dir();
  Model model = linear_model(2, 1, 0.1);
  auto before = CSVLogger((dir / "before.csv").string());
  auto after = CSVLogger((dir / "after.csv").string());
  auto sched = LearningRateScheduler([](int, double lr) { return lr; });
  History h = model->fit(ramp(4, 2), ramp(4, 1), {.epochs = 2, .verbose = 0, .callbacks = {before, sched, after}});
  EXPECT_EQ(read_file((dir / "before.csv").string()).rfind("epoch,loss\r\n", 0), 0u);
  const std::string text = read_file((dir / "after.csv").string());
  EXPECT_EQ(text.rfind("epoch,loss,lr\r\n", 0), 0u) << text;
  EXPECT_NE(text.find("\r\n1," + py_float_repr(h.history["loss"][1]) + ",0.1\r\n"), std::string::npos) << text;
}

TEST(EpochLogs, LoggedRateIsTheBaseRateNotTheDecayedOne) {
  Model model = linear_model();
  model->compile(std::make_shared<SGD>(0.1, SGDOptions{.decay = 1.0}), "mse");
  auto keep = LearningRateScheduler([](int, double lr) { return lr; });
  History h = model->fit(ramp(4, 2), ramp(4, 1), {.batch_size = 2, .epochs = 2, .verbose = 0, .callbacks = {keep}});
  // Keras logs optimizer.lr; the decay stays inside the update.
  EXPECT_EQ(h.history["lr"], (std::vector<double>{0.1, 0.1}));
  EXPECT_NEAR(model->optimizer()->decayed_learning_rate(), 0.1 / (1 + 4), 1e-9);  // 4 updates made
}

TEST(EpochLogs, NoRateWithoutACallbackThatWritesIt) {
  Model model = linear_model();
  History h = model->fit(ramp(4, 2), ramp(4, 1), {.epochs = 1, .verbose = 0});
  EXPECT_EQ(h.history.count("lr"), 0u);
}

// ---------------------------------------------------------------------------
// Stopping mid-epoch

TEST(EpochLogs, AnEpochStoppedMidWayIsStillValidated) {
  Model model = linear_model();
  const Tensor xv = ramp(3, 2, 0.2f), yv = ramp(3, 1, 0.3f);
  int batches = 0, test_runs = 0;
  auto stop_at_1 = LambdaCallback({.on_batch_end =
                                       [&](int b, const Logs&) {
                                         ++batches;
                                         if (b == 1) model->stop_training = true;
                                       },
                                   .on_test_begin = [&](const Logs&) { ++test_runs; }});
  History h = model->fit(ramp(8, 2), ramp(8, 1),
                         {.batch_size = 2, .epochs = 3, .verbose = 0, .callbacks = {stop_at_1},
                          .validation_data = std::make_pair(xv, yv), .shuffle = false});
  EXPECT_EQ(batches, 2);  // the step loop breaks after batch 1 of 4
  EXPECT_EQ(test_runs, 1);
  ASSERT_EQ(h.epoch, (std::vector<int>{0}));
  ASSERT_EQ(h.history["val_loss"].size(), 1u);
  // The weights did not change after the stop, so evaluating now gives the same number.
  EXPECT_NEAR(h.history["val_loss"][0], model->evaluate(xv, yv).at("loss"), 1e-7);
}

TEST(EpochLogs, AStopRequestedAtEpochBeginStillRunsOneBatch) {
  Model model = linear_model();
  int batches = 0;
  auto cb = LambdaCallback({.on_epoch_begin = [&](int, const Logs&) { model->stop_training = true; },
                            .on_batch_end = [&](int, const Logs&) { ++batches; }});
  History h = model->fit(ramp(8, 2), ramp(8, 1), {.batch_size = 2, .epochs = 3, .verbose = 0, .callbacks = {cb}});
  // Keras reads stop_training only after a batch and after an epoch.
  EXPECT_EQ(batches, 1);
  EXPECT_EQ(h.epoch.size(), 1u);
}
