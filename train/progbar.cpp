#include "train/progbar.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <memory>

namespace minidl {

std::string format_log_value(double v) {
  return std::fabs(v) > 1e-3 || v == 0 ? fmt::format("{:.4f}", v) : fmt::format("{:.4e}", v);
}

namespace {

// Keras shows "loss" first, then the other logs in name order, without batch-only keys.
std::string log_suffix(const Logs& logs) {
  std::string s;
  auto add = [&](const std::string& k, double v) { s += fmt::format(" - {}: {}", k, format_log_value(v)); };
  if (auto it = logs.find("loss"); it != logs.end()) add("loss", it->second);
  for (const auto& [k, v] : logs)
    if (k != "loss" && k != "batch_loss" && k.rfind("val_", 0) != 0) add(k, v);
  for (const auto& [k, v] : logs)
    if (k.rfind("val_", 0) == 0) add(k, v);
  return s;
}

std::string per_step(double seconds_per_step) {
  if (seconds_per_step >= 1) return fmt::format("{:.0f}s/step", seconds_per_step);
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
  if (verbose == 2) return line + fmt::format(" - {:.0f}s", seconds) + log_suffix(logs);
  const int width = 30;
  const int filled = target > 0 ? static_cast<int>(width * current / target) : width;
  std::string bar = "[";
  if (filled > 0) bar += std::string(filled - 1, '=') + (current < target ? ">" : "=");
  bar += std::string(width - filled, '.') + "]";
  line += " " + bar;
  if (finished) {
    const double per = current > 0 ? seconds / static_cast<double>(current) : 0.0;
    line += fmt::format(" - {:.0f}s {}", seconds, per_step(per));
  } else {
    const double eta = current > 0 ? seconds / static_cast<double>(current) * static_cast<double>(target - current) : 0;
    line += eta > 3600   ? fmt::format(" - ETA: {}:{:02}:{:02}", int(eta) / 3600, (int(eta) % 3600) / 60, int(eta) % 60)
            : eta > 60 ? fmt::format(" - ETA: {}:{:02}", int(eta) / 60, int(eta) % 60)
                       : fmt::format(" - ETA: {:.0f}s", eta);
  }
  return line + log_suffix(logs);
}

void ProgbarLogger::on_train_begin(const Logs&) {
  auto it = params_.find("steps");
  steps_ = it == params_.end() ? 0 : static_cast<int64_t>(it->second);
}

void ProgbarLogger::on_epoch_begin(int epoch, const Logs&) {
  auto it = params_.find("epochs");
  if (verbose_) std::fprintf(out_, "Epoch %d/%d\n", epoch + 1, it == params_.end() ? 0 : int(it->second));
  std::fflush(out_);
  start_ = last_draw_ = std::chrono::steady_clock::now();
  last_batch_ = 0;
}

void ProgbarLogger::on_train_batch_end(int batch, const Logs& logs) {
  last_batch_ = batch + 1;
  last_logs_ = logs;
  if (verbose_ != 1 || !interactive_) return;
  const auto now = std::chrono::steady_clock::now();
  // Redraw at most every 50 ms (Keras's stateful interval), and always on the last step.
  if (last_batch_ < steps_ && now - last_draw_ < std::chrono::milliseconds(50)) return;
  last_draw_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  std::fprintf(out_, "\r%s", bar_line(last_batch_, steps_, secs, logs, false, 1).c_str());
  std::fflush(out_);
}

void ProgbarLogger::on_epoch_end(int, const Logs& logs) {
  if (!verbose_) return;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::string line = bar_line(last_batch_, steps_, secs, logs, true, verbose_);
  std::fprintf(out_, "%s%s\n", verbose_ == 1 && interactive_ ? "\r" : "", line.c_str());
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
