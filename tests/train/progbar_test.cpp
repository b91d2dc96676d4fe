// ProgbarLogger: the exact line formats of Keras's Progbar, and what reaches a
// terminal versus a file.
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>

#include "support/files.h"
#include "train/progbar.h"

using namespace minidl;
using minidl::testing::read_all;

namespace {
const Logs kLogs = {{"loss", 0.4523}, {"accuracy", 0.8391}};

int count(const std::string& s, char c) { return static_cast<int>(std::count(s.begin(), s.end(), c)); }

// Drives a logger through `epochs` epochs of `steps` batches, as fit does.
void drive(ProgbarLogger& bar, int epochs, int steps) {
  bar.set_params({{"epochs", epochs}, {"steps", steps}, {"verbose", 1}});
  bar.on_train_begin({});
  for (int e = 0; e < epochs; ++e) {
    bar.on_epoch_begin(e, {});
    for (int b = 0; b < steps; ++b) bar.on_train_batch_end(b, {{"loss", 0.5}, {"batch_loss", 0.5}});
    bar.on_epoch_end(e, {{"loss", 0.5}, {"val_loss", 0.25}});
  }
}

// What a ProgbarLogger(verbose, a temporary file, interactive) prints for `epochs`
// epochs of `steps` batches (drive).
std::string progbar_output(int verbose, int interactive, int epochs, int steps) {
  std::FILE* f = std::tmpfile();
  EXPECT_NE(f, nullptr);
  if (f == nullptr) return "";
  ProgbarLogger bar(verbose, f, interactive);
  drive(bar, epochs, steps);
  const std::string out = read_all(f);
  std::fclose(f);
  return out;
}
}  // namespace

TEST(Progbar, FinishedLineMatchesKeras) {
  EXPECT_EQ(ProgbarLogger::bar_line(469, 469, 11.725, kLogs, true, 1),
            "469/469 [==============================] - 12s 25ms/step - loss: 0.4523 - accuracy: 0.8391");
}

TEST(Progbar, InProgressLineShowsAnArrowAndATruncatedEta) {
  // 100/469: int(30 * 100 / 469) = 6 cells, the last an arrow; ETA 10 / 100 * 369 = 36.9 -> "36s".
  EXPECT_EQ(ProgbarLogger::bar_line(100, 469, 10.0, kLogs, false, 1),
            "100/469 [=====>........................] - ETA: 36s - loss: 0.4523 - accuracy: 0.8391");
  // The count is right-aligned to the target's width.
  EXPECT_EQ(ProgbarLogger::bar_line(7, 469, 0.0, {}, false, 1), "  7/469 [..............................] - ETA: 0s");
}

TEST(Progbar, CountsBeyondTheTargetKeepTheBarWidth) {
  EXPECT_EQ(ProgbarLogger::bar_line(5, 4, 1.0, {}, true, 1), "5/4 [==============================] - 1s 200ms/step");
}

TEST(Progbar, EtaUsesMinutesAndHours) {
  EXPECT_NE(ProgbarLogger::bar_line(1, 2, 125.5, {}, false, 1).find(" - ETA: 2:05"), std::string::npos);
  EXPECT_NE(ProgbarLogger::bar_line(1, 2, 3725.9, {}, false, 1).find(" - ETA: 1:02:05"), std::string::npos);
}

TEST(Progbar, PerStepUnitsFollowKeras) {
  EXPECT_EQ(ProgbarLogger::bar_line(2, 2, 3.0, {}, true, 1), "2/2 [==============================] - 3s 2s/step");
  EXPECT_EQ(ProgbarLogger::bar_line(4, 4, 0.002, {}, true, 1), "4/4 [==============================] - 0s 500us/step");
  EXPECT_EQ(ProgbarLogger::bar_line(3, 3, 0.0, {}, true, 1), "3/3 [==============================] - 0s 0s/step");
}

TEST(Progbar, VerboseTwoIsOneShortLine) {
  EXPECT_EQ(ProgbarLogger::bar_line(469, 469, 11.725, kLogs, true, 2), "469/469 - 12s - loss: 0.4523 - accuracy: 0.8391");
}

TEST(Progbar, ValuesUseFourDecimalsOrExponents) {
  EXPECT_EQ(format_log_value(0.4523), "0.4523");
  EXPECT_EQ(format_log_value(5e-4), "5.0000e-04");
  EXPECT_EQ(format_log_value(0.0), "0.0000e+00");  // abs(0) > 1e-3 is false in Keras too
  EXPECT_EQ(format_log_value(-0.5), "-0.5000");
  EXPECT_EQ(format_log_value(-0.5, 2), "-5.0000e-01");  // Keras's verbose-2 test has no abs
  EXPECT_EQ(format_log_value(1234.56789), "1234.5679");
}

TEST(Progbar, LogsShowLossFirstAndValidationLast) {
  Logs logs = {{"accuracy", 0.5}, {"loss", 1.0}, {"val_accuracy", 0.25}, {"val_loss", 2.0}, {"batch_loss", 3.0}};
  EXPECT_EQ(ProgbarLogger::bar_line(1, 1, 1.0, logs, true, 2),
            "1/1 - 1s - loss: 1.0000 - accuracy: 0.5000 - val_loss: 2.0000 - val_accuracy: 0.2500");
}

TEST(Progbar, NonInteractiveOutputIsOneLinePerEpoch) {
  const std::string out = progbar_output(1, /*interactive=*/0, 2, 5);
  EXPECT_EQ(count(out, '\r'), 0) << out;
  EXPECT_EQ(count(out, '\n'), 4) << out;
  const std::regex want(
      "Epoch 1/2\n5/5 \\[=+\\] - \\d+s \\d+(us|ms|s)/step - loss: 0\\.5000 - val_loss: 0\\.2500\n"
      "Epoch 2/2\n5/5 \\[=+\\] - \\d+s \\d+(us|ms|s)/step - loss: 0\\.5000 - val_loss: 0\\.2500\n");
  EXPECT_TRUE(std::regex_match(out, want)) << out;
}

TEST(Progbar, OneEpochPrintsNoEpochHeader) {
  const std::string out = progbar_output(2, /*interactive=*/0, 1, 3);
  EXPECT_TRUE(std::regex_match(out, std::regex("3/3 - \\d+s - loss: 0\\.5000 - val_loss: 0\\.2500\n"))) << out;
}

TEST(Progbar, InteractiveOutputRedrawsInPlace) {
  const std::string out = progbar_output(1, /*interactive=*/1, 1, 4);
  // The first batch always draws (an in-progress line with an ETA); the epoch
  // end redraws the same line finished, then ends it.
  EXPECT_EQ(out.rfind("\r1/4 [======>.......................] - ETA: ", 0), 0u) << out;
  EXPECT_EQ(count(out, '\n'), 1);
  EXPECT_EQ(out.back(), '\n');
  const size_t last = out.rfind('\r');
  const std::string finished = "\r4/4 [==============================] - ";
  EXPECT_EQ(out.compare(last, finished.size(), finished), 0) << out;
  EXPECT_EQ(out.find("batch_loss"), std::string::npos);
}
