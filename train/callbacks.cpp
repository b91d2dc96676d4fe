// train/callbacks.cpp — the callbacks that watch a logged quantity: EarlyStopping, ReduceLROnPlateau,
// ModelCheckpoint (tf.keras 2.4 decisions and messages).
#include "train/callbacks.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>

#include "core/errors.h"
#include "core/logging.h"
#include "train/model.h"
#include "train/py_format.h"

namespace minidl {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Keras's mode resolution: true when larger values are better. An unknown
// mode warns and falls back to "auto", as Keras does.
bool maximizes(const char* who, const std::string& mode, const std::string& monitor, bool fmeasure_is_max) {
  std::string m = mode;
  if (m != "auto" && m != "min" && m != "max") {
    logger()->warn("{} mode {} is unknown, fallback to auto mode.", who, mode);
    m = "auto";
  }
  if (m != "auto") return m == "max";
  return monitor.find("acc") != std::string::npos || (fmeasure_is_max && monitor.rfind("fmeasure", 0) == 0);
}

// The monitored value, or nullopt with Keras's warning when absent.
std::optional<double> monitored(const char* who, const std::string& monitor, const Logs& logs) {
  auto it = logs.find(monitor);
  if (it != logs.end()) return it->second;
  std::string keys;
  for (const auto& [k, _] : logs) keys += (keys.empty() ? "" : ",") + k;
  logger()->warn("{} conditioned on metric `{}` which is not available. Available metrics are: {}", who, monitor,
                 keys);
  return std::nullopt;
}

}  // namespace

ModelImpl& Callback::checked_model(const char* who) const {
  MINIDL_CHECK(model_ != nullptr, RuntimeError, "{}: no model set (the fit loop calls set_model before training)",
               who);
  return *model_;
}

double Callback::logged_learning_rate(const char* who) const {
  ModelImpl& model = checked_model(who);
  MINIDL_CHECK(model.compiled(), RuntimeError, "{}: model '{}' has no optimizer (compile it first)", who,
               model.name());
  // Keras logs K.get_value(optimizer.lr), a numpy float32 that History shows and
  // CSVLogger writes as "0.001", not as the double 0.0010000000474974513.
  const std::string shortest = fmt::format("{}", static_cast<float>(model.optimizer()->learning_rate()));
  double value = 0;
  std::from_chars(shortest.data(), shortest.data() + shortest.size(), value);  // locale-free, like fmt
  return value;
}

// ---------------------------------------------------------------------------
// EarlyStopping

EarlyStoppingImpl::EarlyStoppingImpl(EarlyStoppingOptions o) : o_(std::move(o)) {
  o_.min_delta = std::fabs(o_.min_delta);
  maximize_ = maximizes("EarlyStopping", o_.mode, o_.monitor, false);
  on_train_begin({});
}

void EarlyStoppingImpl::on_train_begin(const Logs&) {
  wait_ = 0;
  stopped_epoch_ = 0;
  best_ = o_.baseline ? *o_.baseline : (maximize_ ? -kInf : kInf);
  best_weights_.clear();
}

bool EarlyStoppingImpl::improved(double current) const {
  return maximize_ ? current - o_.min_delta > best_ : current + o_.min_delta < best_;
}

void EarlyStoppingImpl::on_epoch_end(int epoch, const Logs& logs) {
  const auto current = monitored("Early stopping", o_.monitor, logs);
  if (!current) return;
  // Without any improvement there would be nothing to restore; keep the first epoch's weights.
  if (o_.restore_best_weights && best_weights_.empty()) best_weights_ = checked_model("EarlyStopping").get_weights();
  if (improved(*current)) {
    best_ = *current;
    wait_ = 0;
    if (o_.restore_best_weights) best_weights_ = checked_model("EarlyStopping").get_weights();
    return;
  }
  if (++wait_ < o_.patience) return;
  ModelImpl& model = checked_model("EarlyStopping");
  stopped_epoch_ = epoch;
  model.stop_training = true;
  if (o_.restore_best_weights) {
    if (o_.verbose > 0) std::printf("Restoring model weights from the end of the best epoch.\n");
    model.set_weights(best_weights_);
  }
}

void EarlyStoppingImpl::on_train_end(const Logs&) {
  if (stopped_epoch_ > 0 && o_.verbose > 0) std::printf("Epoch %05d: early stopping\n", stopped_epoch_ + 1);
}

std::shared_ptr<EarlyStoppingImpl> EarlyStopping(EarlyStoppingOptions o) {
  return std::make_shared<EarlyStoppingImpl>(std::move(o));
}

// ---------------------------------------------------------------------------
// ReduceLROnPlateau

ReduceLROnPlateauImpl::ReduceLROnPlateauImpl(ReduceLROnPlateauOptions o) : o_(std::move(o)) {
  MINIDL_CHECK(o_.factor < 1.0, ValueError, "ReduceLROnPlateau does not support a factor >= 1.0 (received {})",
               o_.factor);
  reset();
}

void ReduceLROnPlateauImpl::reset() {
  maximize_ = maximizes("Learning rate reduction", o_.mode, o_.monitor, false);
  best_ = maximize_ ? -kInf : kInf;
  cooldown_counter_ = 0;
  wait_ = 0;
}

void ReduceLROnPlateauImpl::on_train_begin(const Logs&) { reset(); }

void ReduceLROnPlateauImpl::add_epoch_logs(int, Logs& logs) { logs["lr"] = logged_learning_rate("ReduceLROnPlateau"); }

void ReduceLROnPlateauImpl::on_epoch_end(int epoch, const Logs& logs) {
  ModelImpl& model = checked_model("ReduceLROnPlateau");
  MINIDL_CHECK(model.compiled(), RuntimeError, "ReduceLROnPlateau: model '{}' has no optimizer (compile it first)",
               model.name());
  const auto current = monitored("Learning rate reduction", o_.monitor, logs);
  if (!current) return;
  if (in_cooldown()) {
    --cooldown_counter_;
    wait_ = 0;
  }
  const bool better = maximize_ ? *current > best_ + o_.min_delta : *current < best_ - o_.min_delta;
  if (better) {
    best_ = *current;
    wait_ = 0;
    return;
  }
  if (in_cooldown() || ++wait_ < o_.patience) return;
  // Keras reads the rate back as float32 and compares it with float32(min_lr).
  const double old_lr = static_cast<float>(model.optimizer()->learning_rate());
  if (old_lr > static_cast<float>(o_.min_lr)) {
    const double new_lr = std::max(old_lr * o_.factor, o_.min_lr);
    model.optimizer()->set_learning_rate(new_lr);
    if (o_.verbose > 0)
      std::printf("\nEpoch %05d: ReduceLROnPlateau reducing learning rate to %s.\n", epoch + 1,
                  py_float_repr(new_lr).c_str());
    cooldown_counter_ = o_.cooldown;
    wait_ = 0;
  }
}

std::shared_ptr<ReduceLROnPlateauImpl> ReduceLROnPlateau(ReduceLROnPlateauOptions o) {
  return std::make_shared<ReduceLROnPlateauImpl>(std::move(o));
}

// ---------------------------------------------------------------------------
// ModelCheckpoint

SaveFreq::SaveFreq(std::string s) {
  MINIDL_CHECK(s == "epoch", ValueError, "Unrecognized save_freq: '{}' (expected \"epoch\" or a number of batches)",
               s);
}

SaveFreq::SaveFreq(int64_t batches) : batches_(batches) {
  MINIDL_CHECK(batches >= 1, ValueError, "save_freq must be \"epoch\" or a number of batches >= 1, received {}",
               batches);
}

ModelCheckpointImpl::ModelCheckpointImpl(std::string filepath, ModelCheckpointOptions o)
    : filepath_(std::move(filepath)), o_(std::move(o)) {
  MINIDL_CHECK(!filepath_.empty(), ValueError, "ModelCheckpoint: filepath must not be empty");
  maximize_ = maximizes("ModelCheckpoint", o_.mode, o_.monitor, true);
  best_ = maximize_ ? -kInf : kInf;
}

std::string ModelCheckpointImpl::file_path(int epoch, const Logs& logs) const {
  std::map<std::string, PyValue> kwargs;
  for (const auto& [k, v] : logs) kwargs[k] = v;
  kwargs["epoch"] = int64_t{epoch} + 1;
  return py_format(filepath_, kwargs);
}

void ModelCheckpointImpl::on_epoch_begin(int epoch, const Logs&) { current_epoch_ = epoch; }

void ModelCheckpointImpl::on_epoch_end(int epoch, const Logs& logs) {
  if (o_.save_freq.per_epoch()) save_model(epoch, logs);
}

void ModelCheckpointImpl::on_train_batch_end(int batch, const Logs& logs) {
  if (should_save_on_batch(batch)) save_model(current_epoch_, logs);
}

bool ModelCheckpointImpl::should_save_on_batch(int batch) {
  if (o_.save_freq.per_epoch()) return false;
  // Batch numbers restart each epoch; count the batches seen across epochs.
  batches_since_save_ += batch <= last_batch_seen_ ? batch + 1 : batch - last_batch_seen_;
  last_batch_seen_ = batch;
  if (batches_since_save_ < o_.save_freq.batches()) return false;
  batches_since_save_ = 0;
  return true;
}

void ModelCheckpointImpl::save_model(int epoch, const Logs& logs) {
  const std::string path = file_path(epoch, logs);
  // Keras would write a diverged model here when not save_best_only; a NaN
  // checkpoint is useless and may overwrite the last good file, so skip it.
  if (auto it = logs.find(o_.monitor); it != logs.end() && std::isnan(it->second)) {
    logger()->warn("ModelCheckpoint: {} is NaN at epoch {}, not saving {}", o_.monitor, epoch + 1, path);
    return;
  }
  if (o_.save_best_only) {
    auto it = logs.find(o_.monitor);
    if (it == logs.end()) {
      logger()->warn("Can save best model only with {} available, skipping.", o_.monitor);
      return;
    }
    const double current = it->second;
    if (!(maximize_ ? current > best_ : current < best_)) {
      if (o_.verbose > 0)
        std::printf("\nEpoch %05d: %s did not improve from %.5f\n", epoch + 1, o_.monitor.c_str(), best_);
      return;
    }
    if (o_.verbose > 0)
      std::printf("\nEpoch %05d: %s improved from %.5f to %.5f, saving model to %s\n", epoch + 1, o_.monitor.c_str(),
                  best_, current, path.c_str());
    best_ = current;
  } else if (o_.verbose > 0) {
    std::printf("\nEpoch %05d: saving model to %s\n", epoch + 1, path.c_str());
  }
  MINIDL_CHECK(!std::filesystem::is_directory(path), IOError,
               "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an existing "
               "directory: {}",
               path);
  save(path, o_.save_weights_only);
}

void ModelCheckpointImpl::save(const std::string& path, bool weights_only) {
  ModelImpl& model = checked_model("ModelCheckpoint");
  if (weights_only) {
    model.save_weights(path);
  } else {
    model.save(path);
  }
}

std::shared_ptr<ModelCheckpointImpl> ModelCheckpoint(std::string filepath, ModelCheckpointOptions o) {
  return std::make_shared<ModelCheckpointImpl>(std::move(filepath), std::move(o));
}

}  // namespace minidl
