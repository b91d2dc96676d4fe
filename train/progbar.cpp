// train/progbar.cpp — Keras's progress bar (train/progbar.h).
#include "train/progbar.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace minidl {

std::string format_log_value(double v, int verbose) {
  // Keras's Progbar tests abs(v) > 1e-3 for the bar but v > 1e-3 for verbose 2,
  // so 0 prints as 0.0000e+00 and verbose 2 prints negatives in e-notation.
  const bool fixed = verbose == 2 ? v > 1e-3 : std::fabs(v) > 1e-3;
  return fixed ? fmt::format("{:.4f}", v) : fmt::format("{:.4e}", v);
}

namespace {

// Keras shows the logs in insertion order: "loss", the metrics, "val_loss", the
// validation metrics. Logs is sorted by name, so loss keys go first by hand;
// batch-only keys are not shown.
std::string log_suffix(const Logs& logs, int verbose) {
  std::string s;
  auto add = [&](const std::string& k, double v) { s += fmt::format(" - {}: {}", k, format_log_value(v, verbose)); };
  if (auto it = logs.find("loss"); it != logs.end()) add("loss", it->second);
  for (const auto& [k, v] : logs)
    if (k != "loss" && k != "batch_loss" && k.rfind("val_", 0) != 0) add(k, v);
  if (auto it = logs.find("val_loss"); it != logs.end()) add("val_loss", it->second);
  for (const auto& [k, v] : logs)
    if (k != "val_loss" && k.rfind("val_", 0) == 0) add(k, v);
  return s;
}

std::string per_step(double seconds_per_step) {
  if (seconds_per_step >= 1 || seconds_per_step == 0) return fmt::format("{:.0f}s/step", seconds_per_step);
  if (seconds_per_step >= 1e-3) return fmt::format("{:.0f}ms/step", seconds_per_step * 1e3);
  return fmt::format("{:.0f}us/step", seconds_per_step * 1e6);
}

}  // namespace

ProgbarLogger::ProgbarLogger(int verbose, std::FILE* out, int interactive)
    : verbose_(verbose), out_(out ? out : stdout) {
  interactive_ = interactive < 0 ? ::isatty(::fileno(out_)) != 0 : interactive != 0;
}

std::string ProgbarLogger::bar_line(int64_t current, int64_t target, double seconds, const Logs& logs, bool finished,
                                    int verbose) {
  const int digits = static_cast<int>(std::to_string(target).size());
  std::string line = fmt::format("{:>{}}/{}", current, digits, target);
  if (verbose == 2) return line + fmt::format(" - {:.0f}s", seconds) + log_suffix(logs, 2);
  const int width = 30;
  const int filled = target > 0 ? static_cast<int>(std::clamp<int64_t>(width * current / target, 0, width)) : width;
  std::string bar = "[";
  if (filled > 0) bar += std::string(filled - 1, '=') + (current < target ? ">" : "=");
  bar += std::string(width - filled, '.') + "]";
  line += " " + bar;
  if (finished) {
    const double per = current > 0 ? seconds / static_cast<double>(current) : 0.0;
    line += fmt::format(" - {:.0f}s {}", seconds, per_step(per));
  } else {
    // Keras prints the ETA with %d: truncated, not rounded.
    const double eta = current > 0 ? seconds / static_cast<double>(current) * static_cast<double>(target - current) : 0;
    const int64_t e = static_cast<int64_t>(eta);
    line += eta > 3600 ? fmt::format(" - ETA: {}:{:02}:{:02}", e / 3600, (e % 3600) / 60, e % 60)
            : eta > 60 ? fmt::format(" - ETA: {}:{:02}", e / 60, e % 60)
                       : fmt::format(" - ETA: {}s", e);
  }
  return line + log_suffix(logs, 1);
}

void ProgbarLogger::on_train_begin(const Logs&) {
  auto it = params_.find("steps");
  steps_ = it == params_.end() ? 0 : static_cast<int64_t>(it->second);
}

void ProgbarLogger::on_epoch_begin(int epoch, const Logs&) {
  auto it = params_.find("epochs");
  const int epochs = it == params_.end() ? 0 : static_cast<int>(it->second);
  if (verbose_ && epochs > 1) std::fprintf(out_, "Epoch %d/%d\n", epoch + 1, epochs);  // Keras: only with epochs > 1
  std::fflush(out_);
  start_ = std::chrono::steady_clock::now();
  drawn_ = false;
  last_width_ = 0;
  last_batch_ = 0;
}

void ProgbarLogger::on_train_batch_end(int batch, const Logs& logs) {
  last_batch_ = batch + 1;
  last_logs_ = logs;
  if (verbose_ != 1 || !interactive_) return;
  const auto now = std::chrono::steady_clock::now();
  // Redraw at most every 50 ms (Keras's interval); the first batch always draws.
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(50)) return;
  drawn_ = true;
  last_draw_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  draw(bar_line(last_batch_, steps_, secs, logs, false, 1), "");
}

void ProgbarLogger::draw(std::string line, const char* end) {
  // Blank out the rest of a longer previous line, as Keras pads with spaces.
  const size_t width = line.size();
  if (width < last_width_) line.append(last_width_ - width, ' ');
  last_width_ = width;
  std::fprintf(out_, "\r%s%s", line.c_str(), end);
  std::fflush(out_);
}

void ProgbarLogger::on_epoch_end(int, const Logs& logs) {
  if (!verbose_) return;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::string line = bar_line(last_batch_, steps_, secs, logs, true, verbose_);
  if (verbose_ == 1 && interactive_) {
    draw(line, "\n");
    return;
  }
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

CallbackPtr make_progbar_logger(int verbose) { return std::make_shared<ProgbarLogger>(verbose); }

void History::on_train_begin(const Logs&) {
  history.clear();
  epoch.clear();
}

void History::on_epoch_end(int e, const Logs& logs) {
  epoch.push_back(e);
  for (const auto& [k, v] : logs)
    if (k != "batch_loss") history[k].push_back(v);
}

}  // namespace minidl
