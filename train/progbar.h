// train/progbar.h — Keras's progress bar (the ProgbarLogger callback).
//
// verbose 1 on a terminal redraws one line per batch ("Epoch i/n" only when n > 1):
//   Epoch 1/3
//   469/469 [==============================] - 12s 25ms/step - loss: 0.4523 - accuracy: 0.8391
// verbose 1 on a pipe or file prints only the finished line of each epoch;
// verbose 2 prints one short line per epoch: "469/469 - 12s - loss: 0.4523 - accuracy: 0.8391".
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "train/callbacks.h"

namespace minidl {

class ProgbarLogger : public Callback {
 public:
  // `out` defaults to stdout; `interactive` defaults to isatty(out).
  explicit ProgbarLogger(int verbose = 1, std::FILE* out = nullptr, int interactive = -1);

  void on_train_begin(const Logs&) override;
  void on_epoch_begin(int epoch, const Logs&) override;
  void on_train_batch_end(int batch, const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;

  // The bar line for `current` of `target` steps (exposed for tests).
  static std::string bar_line(int64_t current, int64_t target, double seconds, const Logs& logs, bool finished,
                              int verbose);

 private:
  // Writes "\r" + line (padded over a longer previous line) + end.
  void draw(std::string line, const char* end);

  int verbose_;
  std::FILE* out_;
  bool interactive_;
  int64_t steps_ = 0;
  int64_t last_batch_ = 0;
  bool drawn_ = false;      // a bar was drawn in this epoch
  size_t last_width_ = 0;   // length of the last drawn line
  std::chrono::steady_clock::time_point start_, last_draw_;
  Logs last_logs_;
};

CallbackPtr make_progbar_logger(int verbose);

// Keras's number format in the bar: "%.4f" when |v| > 1e-3, else "%.4e" (so
// 0 is "0.0000e+00"); with verbose 2 Keras tests v > 1e-3 without the abs.
std::string format_log_value(double v, int verbose = 1);

}  // namespace minidl
