// tests/applications/built_model_checks.h — what the tests of the architectures built in C++ check
// the same way for each: the parameter count, a save to .h5 and .keras and a reload that predicts
// the same, and the layer entries of a Keras config compared field by field.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/keras_model.h"
#include "support/files.h"
#include "support/tensors.h"
#include "train/model.h"

namespace minidl::testing {

// Every weight of the model, trainable or not (Keras's count_params of a built model).
inline int64_t total_params(const ModelImpl& model) {
  int64_t n = 0;
  for (const Tensor& w : model.get_weights()) n += w.numel();
  return n;
}

// A batch of images with values in [lo, hi), reproducible from seed.
inline Tensor images(const Shape& shape, uint64_t seed, float lo = 0.f, float hi = 255.f) {
  std::mt19937_64 rng(seed);
  return random_tensor(shape, rng, lo, hi);
}

// Largest |a - b| / max|b| (1 when b is all zeros).
inline double rel_to_peak(const Tensor& a, const Tensor& b) {
  double err = 0, peak = 0;
  for (int64_t i = 0; i < b.numel(); ++i) {
    err = std::max(err, std::fabs(double(a[i]) - double(b[i])));
    peak = std::max(peak, std::fabs(double(b[i])));
  }
  return err / std::max(peak, 1e-30);
}

// Saves the model as `stem`.h5 and `stem`.keras in this test's scratch directory, loads both back
// and expects the same predictions for x (1e-6 of the largest output) and the same weights count.
inline void expect_save_load_predicts_same(const Model& model, const Tensor& x, const std::string& stem) {
  const Tensor expected = model->predict(x, x.dim(0));
  for (const char* ext : {".h5", ".keras"}) {
    const std::string path = (temp_dir() / (stem + ext)).string();
    model->save(path);
    auto loaded = load_model(path);
    ASSERT_TRUE(loaded) << path;
    EXPECT_EQ(loaded->name(), model->name()) << path;
    EXPECT_EQ(total_params(*loaded), total_params(*model)) << path;
    const Tensor got = loaded->predict(x, x.dim(0));
    ASSERT_EQ(got.shape(), expected.shape()) << path;
    EXPECT_LE(rel_to_peak(got, expected), 1e-6) << path;
  }
}

// One training step on a batch of x with labels 0, 1, ...: the loss is finite and the first trainable
// weight moves (gradients reach the stem through every block).
inline void expect_training_step_moves_stem(const Model& model, const Tensor& x) {
  model->compile("adam", "sparse_categorical_crossentropy");
  Tensor labels({x.dim(0)});
  for (int64_t i = 0; i < x.dim(0); ++i) labels[i] = static_cast<float>(i % model->output().shape().back());
  const Tensor before = model->trainable_weights().front().value().clone();
  const auto logs = model->train_on_batch(x, labels);
  EXPECT_TRUE(std::isfinite(logs.at("loss")));
  EXPECT_GT(rel_to_peak(model->trainable_weights().front().value(), before), 0.0);
}

// The layer entries of a functional config ({"class_name", "config", "name", "inbound_nodes"}).
inline std::vector<nlohmann::json> config_layers(const nlohmann::json& model_config) {
  return model_config.at("config").at("layers").get<std::vector<nlohmann::json>>();
}

// Expects `got` and `want` to list the same layers in the same order with equal class_name, name,
// config and inbound_nodes; each difference is reported with the layer's name.
inline void expect_same_layers(const std::vector<nlohmann::json>& got, const std::vector<nlohmann::json>& want) {
  EXPECT_EQ(got.size(), want.size());
  int reported = 0;
  for (size_t i = 0; i < std::min(got.size(), want.size()) && reported < 10; ++i) {
    for (const char* key : {"class_name", "name", "config", "inbound_nodes"}) {
      const nlohmann::json g = got[i].value(key, nlohmann::json()), w = want[i].value(key, nlohmann::json());
      if (g != w) {
        ADD_FAILURE() << "layer " << i << " (" << want[i].value("name", "?") << ") " << key
                      << ":\n  minidl: " << g.dump() << "\n  Keras:  " << w.dump();
        ++reported;
      }
    }
  }
}

}  // namespace minidl::testing
