// train/callbacks.h — hooks into the fit loop, as Keras's callbacks.
//
// fit() calls, in Keras's order: on_train_begin; per epoch on_epoch_begin, per
// batch on_train_batch_begin / on_train_batch_end, then (with validation) the
// test hooks on_test_begin, on_test_batch_begin / _end per validation batch,
// on_test_end, then on_epoch_end with the epoch's logs ("loss", metrics,
// "val_loss", "val_<metric>"); finally on_train_end with the last epoch's logs.
// evaluate() and predict() call the test/predict hooks. A callback may stop
// training by setting model->stop_training = true: it is checked after every
// batch and every epoch, and, as in Keras, an epoch stopped mid-way still runs
// its validation and on_epoch_end.
//
// Keras callbacks may write into the epoch's logs dict, and the callbacks after
// them see the entries: here a callback does that in add_epoch_logs, which fit
// calls just before its on_epoch_end. ReduceLROnPlateau and
// LearningRateScheduler add "lr" (the optimizer's learning rate), so History
// (always last) and a CSVLogger placed after them record it; the progress bar
// (always first) does not print it, as in tf.keras 2.4.
//
// The built-in callbacks follow tf.keras 2.4 (arguments, defaults, decisions,
// printed messages). Each is a `...Impl` class built by a factory named as the
// Keras class, so a fit call reads like Keras:
//
//   auto stop = EarlyStopping({.monitor = "val_loss", .patience = 3, .restore_best_weights = true});
//   model->fit(x, y, {.epochs = 50, .validation_split = 0.1,
//                     .callbacks = {stop, ModelCheckpoint("best.h5", {.save_best_only = true}),
//                                   CSVLogger("log.csv"), TerminateOnNaN()}});
//   stop->stopped_epoch();
//
// Messages (verbose > 0, TerminateOnNaN) go to stdout as in Keras; warnings
// (a monitored value missing from the logs, an unknown mode) go to the minidl
// logger (core/logging.h).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace minidl {

class ModelImpl;
using Logs = std::map<std::string, double>;

class Callback {
 public:
  virtual ~Callback() = default;
  // Set by the fit loop before on_train_begin.
  void set_model(ModelImpl* model) { model_ = model; }
  ModelImpl* model() const { return model_; }
  void set_params(const std::map<std::string, double>& params) { params_ = params; }  // epochs, steps, verbose

  virtual void on_train_begin(const Logs&) {}
  virtual void on_train_end(const Logs&) {}
  virtual void on_epoch_begin(int /*epoch*/, const Logs&) {}
  // Lets a callback add entries to the epoch's logs before its own
  // on_epoch_end; the callbacks after it (and on_train_end) see them.
  virtual void add_epoch_logs(int /*epoch*/, Logs& /*logs*/) {}
  virtual void on_epoch_end(int /*epoch*/, const Logs&) {}
  virtual void on_train_batch_begin(int /*batch*/, const Logs&) {}
  virtual void on_train_batch_end(int /*batch*/, const Logs&) {}
  virtual void on_test_begin(const Logs&) {}
  virtual void on_test_end(const Logs&) {}
  virtual void on_test_batch_begin(int /*batch*/, const Logs&) {}
  virtual void on_test_batch_end(int /*batch*/, const Logs&) {}
  virtual void on_predict_begin(const Logs&) {}
  virtual void on_predict_end(const Logs&) {}
  virtual void on_predict_batch_begin(int /*batch*/, const Logs&) {}
  virtual void on_predict_batch_end(int /*batch*/, const Logs&) {}

 protected:
  // The model, or RuntimeError naming `who` when set_model was never called.
  ModelImpl& checked_model(const char* who) const;
  // The optimizer's learning_rate() as Keras logs it (a float32, kept as the
  // double its shortest repr reads back to, so 0.001f logs as 0.001).
  // RuntimeError naming `who` when the model is not compiled.
  double logged_learning_rate(const char* who) const;

  ModelImpl* model_ = nullptr;
  std::map<std::string, double> params_;
};

using CallbackPtr = std::shared_ptr<Callback>;

// Per-epoch logs returned by fit: history["loss"][epoch], history["val_accuracy"][epoch], ...
class History : public Callback {
 public:
  void on_train_begin(const Logs&) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  std::map<std::string, std::vector<double>> history;
  std::vector<int> epoch;
};

// ---------------------------------------------------------------------------
// Monitoring a logged quantity.
//
// `mode` decides whether smaller ("min") or larger ("max") is better; "auto"
// picks max when the monitored name contains "acc" (ModelCheckpoint also for a
// name starting with "fmeasure"), else min. An unknown mode logs a warning and
// falls back to "auto", as Keras does. A NaN value never counts as better.

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0;  // an improvement must exceed |min_delta|
  int patience = 0;      // epochs without improvement before stopping
  int verbose = 0;
  std::string mode = "auto";
  std::optional<double> baseline{};  // the value to beat from the start
  bool restore_best_weights = false;
};

// Stops training when the monitored quantity has not improved for `patience`
// epochs: at epoch end it improved when current < best - |min_delta| (mode
// min) or current > best + |min_delta| (mode max). With restore_best_weights the model's weights
// at the best epoch (or, if no epoch ever improved, after the first epoch)
// are put back when it stops. on_train_begin resets the state, so an instance
// can be reused. A monitored key missing from the logs is skipped with a warning.
class EarlyStoppingImpl : public Callback {
 public:
  explicit EarlyStoppingImpl(EarlyStoppingOptions o = {});
  void on_train_begin(const Logs&) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const Logs&) override;  // verbose: "Epoch 00005: early stopping"

  int wait() const { return wait_; }
  int stopped_epoch() const { return stopped_epoch_; }  // 0-based; 0 when it never stopped
  double best() const { return best_; }
  const EarlyStoppingOptions& options() const { return o_; }

 private:
  bool improved(double current) const;

  EarlyStoppingOptions o_;
  bool maximize_ = false;
  int wait_ = 0;
  int stopped_epoch_ = 0;
  double best_ = 0;
  std::vector<Tensor> best_weights_;  // model->get_weights() at the best epoch; empty until then
};
std::shared_ptr<EarlyStoppingImpl> EarlyStopping(EarlyStoppingOptions o = {});

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;  // new_lr = lr * factor; must be < 1
  int patience = 10;
  int verbose = 0;
  std::string mode = "auto";
  double min_delta = 1e-4;  // improvement threshold (absolute)
  int cooldown = 0;         // epochs to wait after a reduction before counting again
  double min_lr = 0;
};

// Multiplies the optimizer's learning rate by `factor` (not below min_lr) when
// the monitored quantity has not improved by more than min_delta for
// `patience` epochs, then waits `cooldown` epochs. ValueError when factor >= 1.
// Adds "lr" to the epoch logs (the rate before any reduction at that epoch).
// At epoch end RuntimeError if the model is not compiled.
class ReduceLROnPlateauImpl : public Callback {
 public:
  explicit ReduceLROnPlateauImpl(ReduceLROnPlateauOptions o = {});
  void on_train_begin(const Logs&) override;
  void add_epoch_logs(int epoch, Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;

  int wait() const { return wait_; }
  int cooldown_counter() const { return cooldown_counter_; }
  double best() const { return best_; }
  bool in_cooldown() const { return cooldown_counter_ > 0; }

 private:
  void reset();

  ReduceLROnPlateauOptions o_;
  bool maximize_ = false;
  int wait_ = 0;
  int cooldown_counter_ = 0;
  double best_ = 0;
};
std::shared_ptr<ReduceLROnPlateauImpl> ReduceLROnPlateau(ReduceLROnPlateauOptions o = {});

// ModelCheckpoint's save_freq: "epoch", or a number of batches.
class SaveFreq {
 public:
  SaveFreq(const char* s) : SaveFreq(std::string(s)) {}  // NOLINT: implicit, reads like Keras
  SaveFreq(std::string s);                                // NOLINT; ValueError unless "epoch"
  SaveFreq(int64_t batches);                              // NOLINT; ValueError unless >= 1
  SaveFreq(int batches) : SaveFreq(static_cast<int64_t>(batches)) {}  // NOLINT
  bool per_epoch() const { return batches_ == 0; }
  int64_t batches() const { return batches_; }

 private:
  int64_t batches_ = 0;
};

struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  int verbose = 0;
  bool save_best_only = false;
  bool save_weights_only = false;
  std::string mode = "auto";
  SaveFreq save_freq = "epoch";
};

// Saves the model (model->save) or its weights (model->save_weights) at the end
// of every epoch, or every save_freq batches. `filepath` is a Python format
// string filled with epoch (1-based) and the logs: "w.{epoch:02d}-{val_loss:.2f}.h5"
// (train/py_format.h). With save_best_only it saves only when the monitored
// value improved on the best so far (kept across fits, as Keras); a missing
// value skips with a warning. Without save_best_only it saves every time, as
// Keras does — except that, unlike Keras, it never saves while the monitored
// value is NaN (a warning instead), so a diverged model cannot overwrite a good
// file. A filepath naming an existing directory is an IOError; ValueError when
// the filepath cannot be formatted with the logs.
class ModelCheckpointImpl : public Callback {
 public:
  explicit ModelCheckpointImpl(std::string filepath, ModelCheckpointOptions o = {});
  void on_epoch_begin(int epoch, const Logs&) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_batch_end(int batch, const Logs& logs) override;

  // The path for `epoch` (0-based; formatted as epoch + 1) and `logs`.
  std::string file_path(int epoch, const Logs& logs) const;
  double best() const { return best_; }
  const std::string& filepath() const { return filepath_; }

 protected:
  // Writes the file. The default calls model->save_weights(path) or
  // model->save(path) (io/ registers the writer); tests override it.
  virtual void save(const std::string& path, bool weights_only);

 private:
  void save_model(int epoch, const Logs& logs);
  bool should_save_on_batch(int batch);

  std::string filepath_;
  ModelCheckpointOptions o_;
  bool maximize_ = false;
  double best_ = 0;
  int current_epoch_ = 0;
  int last_batch_seen_ = -1;
  int64_t batches_since_save_ = 0;
};
std::shared_ptr<ModelCheckpointImpl> ModelCheckpoint(std::string filepath, ModelCheckpointOptions o = {});

// ---------------------------------------------------------------------------
// Logging and control.

struct CSVLoggerOptions {
  std::string separator = ",";  // one character (ValueError otherwise)
  bool append = false;          // append to an existing file (its header is kept)
};

// Streams the epoch logs to a CSV file, as Keras writes it: the header
// "epoch<sep><sorted log keys>" (keys fixed by the first epoch; not repeated
// when appending to a non-empty file), then one row per epoch with the 0-based
// epoch and each value as Python prints a float ("0.6931471805599453", "nan"),
// "NA" for a key missing from that epoch's logs; lines end in "\r\n" like
// Python's csv module. The file is opened at train begin (IOError naming it if
// it cannot be) and closed at train end; each row is flushed.
class CSVLoggerImpl : public Callback {
 public:
  explicit CSVLoggerImpl(std::string filename, CSVLoggerOptions o = {});
  ~CSVLoggerImpl() override;
  CSVLoggerImpl(const CSVLoggerImpl&) = delete;
  CSVLoggerImpl& operator=(const CSVLoggerImpl&) = delete;

  void on_train_begin(const Logs&) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const Logs&) override;

 private:
  void write_row(const std::vector<std::string>& fields);

  std::string filename_;
  CSVLoggerOptions o_;
  std::FILE* file_ = nullptr;
  bool write_header_ = true;
  std::optional<std::vector<std::string>> keys_;
};
std::shared_ptr<CSVLoggerImpl> CSVLogger(std::string filename, CSVLoggerOptions o = {});

// Stops training after a batch whose loss ("batch_loss", else "loss") is NaN or
// infinite, printing "Batch N: Invalid loss, terminating training".
class TerminateOnNaNImpl : public Callback {
 public:
  void on_train_batch_end(int batch, const Logs& logs) override;
};
std::shared_ptr<TerminateOnNaNImpl> TerminateOnNaN();

// schedule(epoch (0-based), current learning rate) -> the learning rate for this epoch.
using EpochSchedule = std::function<double(int epoch, double lr)>;

// Sets the optimizer's learning rate from schedule(epoch, lr) at each epoch's
// start (dropping any step schedule, as Keras replaces optimizer.lr). verbose
// prints "Epoch 00001: LearningRateScheduler reducing learning rate to 0.01.".
// Adds "lr" to the epoch logs. ValueError for an empty schedule or a result
// that is not finite; RuntimeError at epoch begin or end if the model is not
// compiled.
class LearningRateSchedulerImpl : public Callback {
 public:
  explicit LearningRateSchedulerImpl(EpochSchedule schedule, int verbose = 0);
  void on_epoch_begin(int epoch, const Logs&) override;
  void add_epoch_logs(int epoch, Logs& logs) override;

 private:
  EpochSchedule schedule_;
  int verbose_ = 0;
};
std::shared_ptr<LearningRateSchedulerImpl> LearningRateScheduler(EpochSchedule schedule, int verbose = 0);

using EpochHook = std::function<void(int, const Logs&)>;
using LogsHook = std::function<void(const Logs&)>;

// Keras's LambdaCallback arguments (in its order), plus the other hooks Keras
// accepts as keyword arguments. on_batch_begin / on_batch_end run on training
// batches. Unset hooks do nothing.
struct LambdaCallbackOptions {
  EpochHook on_epoch_begin{};
  EpochHook on_epoch_end{};
  EpochHook on_batch_begin{};
  EpochHook on_batch_end{};
  LogsHook on_train_begin{};
  LogsHook on_train_end{};
  LogsHook on_test_begin{};
  LogsHook on_test_end{};
  EpochHook on_test_batch_begin{};
  EpochHook on_test_batch_end{};
  LogsHook on_predict_begin{};
  LogsHook on_predict_end{};
  EpochHook on_predict_batch_begin{};
  EpochHook on_predict_batch_end{};
};

// A callback made of std::functions:
//   LambdaCallback({.on_epoch_end = [](int epoch, const Logs& logs) { ... }})
class LambdaCallbackImpl : public Callback {
 public:
  explicit LambdaCallbackImpl(LambdaCallbackOptions o) : o_(std::move(o)) {}
  void on_train_begin(const Logs& l) override { call(o_.on_train_begin, l); }
  void on_train_end(const Logs& l) override { call(o_.on_train_end, l); }
  void on_epoch_begin(int e, const Logs& l) override { call(o_.on_epoch_begin, e, l); }
  void on_epoch_end(int e, const Logs& l) override { call(o_.on_epoch_end, e, l); }
  void on_train_batch_begin(int b, const Logs& l) override { call(o_.on_batch_begin, b, l); }
  void on_train_batch_end(int b, const Logs& l) override { call(o_.on_batch_end, b, l); }
  void on_test_begin(const Logs& l) override { call(o_.on_test_begin, l); }
  void on_test_end(const Logs& l) override { call(o_.on_test_end, l); }
  void on_test_batch_begin(int b, const Logs& l) override { call(o_.on_test_batch_begin, b, l); }
  void on_test_batch_end(int b, const Logs& l) override { call(o_.on_test_batch_end, b, l); }
  void on_predict_begin(const Logs& l) override { call(o_.on_predict_begin, l); }
  void on_predict_end(const Logs& l) override { call(o_.on_predict_end, l); }
  void on_predict_batch_begin(int b, const Logs& l) override { call(o_.on_predict_batch_begin, b, l); }
  void on_predict_batch_end(int b, const Logs& l) override { call(o_.on_predict_batch_end, b, l); }

 private:
  template <class F, class... A>
  static void call(const F& f, const A&... a) {
    if (f) f(a...);
  }
  LambdaCallbackOptions o_;
};
std::shared_ptr<LambdaCallbackImpl> LambdaCallback(LambdaCallbackOptions o = {});

}  // namespace minidl
