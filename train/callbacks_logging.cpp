// train/callbacks_logging.cpp — CSVLogger, TerminateOnNaN, LearningRateScheduler and LambdaCallback (tf.keras 2.4).
#include <cerrno>
#include <cmath>
#include <cstring>

#include "core/errors.h"
#include "train/callbacks.h"
#include "train/distributed.h"
#include "train/model.h"
#include "train/py_format.h"

namespace minidl {

// ---------------------------------------------------------------------------
// CSVLogger

CSVLoggerImpl::CSVLoggerImpl(std::string filename, CSVLoggerOptions o) : filename_(std::move(filename)), o_(std::move(o)) {
  MINIDL_CHECK(!filename_.empty(), ValueError, "CSVLogger: filename must not be empty");
  // Python's csv module accepts only a one-character delimiter.
  MINIDL_CHECK(o_.separator.size() == 1 && o_.separator != "\"" && o_.separator != "\r" && o_.separator != "\n",
               ValueError, "CSVLogger: separator must be a single character other than a quote or newline, received "
               "'{}'", o_.separator);
}

CSVLoggerImpl::~CSVLoggerImpl() {
  if (file_) std::fclose(file_);
}

void CSVLoggerImpl::on_train_begin(const Logs&) {
  if (file_) std::fclose(file_);
  file_ = nullptr;
  // In data-parallel training every rank sees the same averaged logs; rank 0 alone writes them.
  if (distributed::rank() != 0) return;
  write_header_ = true;
  if (o_.append) {
    // Keras keeps the existing header when the file already has a first line.
    if (std::FILE* f = std::fopen(filename_.c_str(), "rb")) {
      write_header_ = std::fgetc(f) == EOF;
      std::fclose(f);
    }
  }
  file_ = std::fopen(filename_.c_str(), o_.append ? "ab" : "wb");
  if (!file_) raise<IOError>("CSVLogger: cannot open '{}' for writing: {}", filename_, std::strerror(errno));
  keys_.reset();
}

void CSVLoggerImpl::write_row(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) line += o_.separator;
    const std::string& f = fields[i];
    // Python's csv QUOTE_MINIMAL: quote fields holding the separator, a quote or a line break.
    if (f.find_first_of(o_.separator + "\"\r\n") == std::string::npos) {
      line += f;
    } else {
      line += '"';
      for (char c : f) line += c == '"' ? std::string("\"\"") : std::string(1, c);
      line += '"';
    }
  }
  line += "\r\n";  // the csv module's excel dialect ends lines with CRLF
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
    raise<IOError>("CSVLogger: cannot write to '{}': {}", filename_, std::strerror(errno));
}

void CSVLoggerImpl::on_epoch_end(int epoch, const Logs& logs) {
  if (distributed::rank() != 0) return;
  MINIDL_CHECK(file_ != nullptr, RuntimeError, "CSVLogger '{}': on_epoch_end before on_train_begin", filename_);
  if (!keys_) {
    keys_.emplace();
    for (const auto& [k, _] : logs) keys_->push_back(k);  // std::map: already sorted, as Keras sorts
    if (write_header_) {
      std::vector<std::string> header{"epoch"};
      header.insert(header.end(), keys_->begin(), keys_->end());
      write_row(header);
    }
  }
  std::vector<std::string> row{std::to_string(epoch)};
  for (const auto& k : *keys_) {
    auto it = logs.find(k);
    row.push_back(it == logs.end() ? "NA" : py_float_repr(it->second));
  }
  write_row(row);
}

void CSVLoggerImpl::on_train_end(const Logs&) {
  if (file_) std::fclose(file_);
  file_ = nullptr;
}

std::shared_ptr<CSVLoggerImpl> CSVLogger(std::string filename, CSVLoggerOptions o) {
  return std::make_shared<CSVLoggerImpl>(std::move(filename), std::move(o));
}

// ---------------------------------------------------------------------------
// TerminateOnNaN

void TerminateOnNaNImpl::on_train_batch_end(int batch, const Logs& logs) {
  auto it = logs.find("batch_loss");
  if (it == logs.end()) it = logs.find("loss");
  if (it == logs.end() || std::isfinite(it->second)) return;
  std::printf("Batch %d: Invalid loss, terminating training\n", batch);
  std::fflush(stdout);
  checked_model("TerminateOnNaN").stop_training = true;
}

std::shared_ptr<TerminateOnNaNImpl> TerminateOnNaN() { return std::make_shared<TerminateOnNaNImpl>(); }

// ---------------------------------------------------------------------------
// LearningRateScheduler

LearningRateSchedulerImpl::LearningRateSchedulerImpl(EpochSchedule schedule, int verbose)
    : schedule_(std::move(schedule)), verbose_(verbose) {
  MINIDL_CHECK(static_cast<bool>(schedule_), ValueError, "LearningRateScheduler: the schedule function is empty");
}

void LearningRateSchedulerImpl::on_epoch_begin(int epoch, const Logs&) {
  ModelImpl& model = checked_model("LearningRateScheduler");
  MINIDL_CHECK(model.compiled(), RuntimeError,
               "LearningRateScheduler: model '{}' has no optimizer (compile it first)", model.name());
  // Keras hands the schedule the rate as float(K.get_value(lr)), a float32 value.
  const double lr = schedule_(epoch, static_cast<float>(model.optimizer()->learning_rate()));
  MINIDL_CHECK(std::isfinite(lr), ValueError,
               "The output of the \"schedule\" function should be a finite float, received {} at epoch {}", lr, epoch);
  model.optimizer()->set_learning_rate(lr);
  if (verbose_ > 0)
    std::printf("\nEpoch %05d: LearningRateScheduler reducing learning rate to %s.\n", epoch + 1,
                py_float_repr(lr).c_str());
}

void LearningRateSchedulerImpl::add_epoch_logs(int, Logs& logs) {
  logs["lr"] = logged_learning_rate("LearningRateScheduler");
}

std::shared_ptr<LearningRateSchedulerImpl> LearningRateScheduler(EpochSchedule schedule, int verbose) {
  return std::make_shared<LearningRateSchedulerImpl>(std::move(schedule), verbose);
}

// ---------------------------------------------------------------------------

std::shared_ptr<LambdaCallbackImpl> LambdaCallback(LambdaCallbackOptions o) {
  return std::make_shared<LambdaCallbackImpl>(std::move(o));
}

}  // namespace minidl
