// tests/support/keras_files.h — helpers for the Keras file tests: numbers from
// the golden text files, a small Sequential model, weight comparison, config
// trimming, log capture.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/logging.h"
#include "core/tensor.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/reshaping/reshaping.h"
#include "support/assertions.h"
#include "support/files.h"
#include "support/tensors.h"
#include "train/model.h"

namespace minidl::testing {

// Input((side, side, 2)) -> Conv2D(3, 3) -> BatchNormalization -> Flatten ->
// Dense(units), built by Sequential.add with Keras's default layer names.
inline std::shared_ptr<SequentialImpl> conv_bn_sequential(int64_t side, int64_t units) {
  reset_layer_names();
  auto s = std::make_shared<SequentialImpl>();
  s->add(Input({side, side, 2}));
  s->add(Conv2D(3, 3));
  s->add(BatchNormalization());
  s->add(Flatten());
  s->add(Dense(units));
  return s;
}

// Every number in a text, skipping brackets, commas, quotes and '#' comment lines.
// Numbers may be decimal or C99 hex floats ("0x1.8c43f8p-1"), as strtod reads them.
inline std::vector<double> numbers_in(const std::string& text) {
  std::vector<double> out;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '#' && (i == 0 || text[i - 1] == '\n')) {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')) {
      char* end = nullptr;
      const double v = std::strtod(text.c_str() + i, &end);
      if (end != text.c_str() + i) {
        out.push_back(v);
        i = static_cast<size_t>(end - text.c_str());
        continue;
      }
    }
    ++i;
  }
  return out;
}

// Largest |a - b| / max(1, |b|) over all elements (the relative error reported per file).
inline double max_rel_error(const Tensor& a, const Tensor& b) {
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])) / std::max(1.0, std::fabs(double(b[i]))));
  return worst;
}

// A model config without the batch_input_shape of its non-input layers: what survives a
// `.keras` file, whose Keras 3 layer configs cannot carry that argument (the InputLayer does).
inline nlohmann::json without_layer_input_shapes(nlohmann::json c) {
  if (c.is_object() && c.contains("layers") && c["layers"].is_array())
    for (auto& e : c["layers"]) {
      if (!e.is_object() || !e.contains("config")) continue;
      if (e["class_name"] != "InputLayer" && e["config"].is_object()) e["config"].erase("batch_input_shape");
      e["config"] = without_layer_input_shapes(e["config"]);
    }
  return c;
}

// True when every weight of both models is bitwise equal (same count and shapes).
inline ::testing::AssertionResult SameWeights(const Layer& a, const Layer& b) {
  const auto wa = a.get_weights(), wb = b.get_weights();
  if (wa.size() != wb.size()) return ::testing::AssertionFailure() << wa.size() << " vs " << wb.size() << " weights";
  for (size_t i = 0; i < wa.size(); ++i) {
    if (wa[i].shape() != wb[i].shape())
      return ::testing::AssertionFailure() << "weight " << i << ": " << shape_str(wa[i].shape()) << " vs "
                                           << shape_str(wb[i].shape());
    for (int64_t k = 0; k < wa[i].numel(); ++k)
      if (std::memcmp(&wa[i].data()[k], &wb[i].data()[k], sizeof(float)) != 0)
        return ::testing::AssertionFailure() << "weight " << i << " differs at " << k << ": " << wa[i][k] << " vs "
                                             << wb[i][k];
  }
  return ::testing::AssertionSuccess();
}

// Collects what minidl's logger writes while it lives (warnings the loaders emit), instead
// of printing it; restores the logger's sinks afterwards.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    saved_ = logger()->sinks();
    logger()->sinks() = {sink_};
  }
  ~LogCapture() { logger()->sinks() = saved_; }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::vector<spdlog::sink_ptr> saved_;
};

}  // namespace minidl::testing
