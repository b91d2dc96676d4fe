// tests/applications/keras_apps_checks.h — the checks of an architecture built in C++ against the
// files real Keras 3.15 wrote for the same call (../shared/keras-apps/NAME.h5, .keras, .io.h5):
// the config layer by layer, and Keras's output once Keras's weights are loaded.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "support/files.h"
#include "train/model.h"

namespace minidl::testing {

inline std::filesystem::path keras_apps_dir() { return shared_dir() / "keras-apps"; }

// True when ../shared/keras-apps holds NAME.h5, NAME.keras and NAME.io.h5.
inline bool have_keras_app(const std::string& name) {
  for (const char* ext : {".h5", ".keras", ".io.h5"})
    if (!std::filesystem::exists(keras_apps_dir() / (name + ext))) return false;
  return true;
}

// The model config of a .keras (config.json) or legacy .h5 (model_config attribute).
inline nlohmann::json model_config_of(const std::string& path) {
  if (path.ends_with(".keras")) {
    const Bytes text = read_zip(path).at("config.json");
    return nlohmann::json::parse(std::string(text.begin(), text.end()));
  }
  return nlohmann::json::parse(h5::H5File::open_read(path).root().read_string_attr("model_config"));
}

// Every keras_history ([layer, node, tensor]) under a Keras 3 inbound_nodes entry, in order.
inline void collect_histories(const nlohmann::json& v, std::vector<nlohmann::json>& out) {
  if (v.is_object() && v.contains("keras_history")) {
    out.push_back(v.at("keras_history"));
    return;
  }
  if (v.is_object() || v.is_array())
    for (const auto& e : v) collect_histories(e, out);
}

// Expects the model built in C++ to have Keras's config for the same call (Keras's files
// NAME.keras and NAME.h5), layer by layer, both ways:
//  - as Keras wrote it: the same layers in the same order, each with Keras's class_name and
//    name and called on the same tensors (the keras_history of its inbound nodes, from the
//    .keras minidl saves);
//  - through minidl's reader: Keras's file loaded by minidl gives exactly the get_config()
//    of the built model, every argument minidl reads (all of Keras's, or the load fails).
inline void expect_config_is_keras(const Model& model, const std::string& name) {
  const std::string saved = (temp_dir() / "built.keras").string();
  model->save(saved);
  const nlohmann::json ours = model_config_of(saved).at("config").at("layers");
  for (const char* ext : {".keras", ".h5"}) {
    const std::string file = (keras_apps_dir() / (name + ext)).string();
    SCOPED_TRACE(file);
    const nlohmann::json keras = model_config_of(file);
    EXPECT_EQ(model->name(), keras.at("config").at("name").get<std::string>());
    const nlohmann::json& theirs = keras.at("config").at("layers");
    ASSERT_EQ(ours.size(), theirs.size());
    for (size_t i = 0; i < ours.size(); ++i) {
      EXPECT_EQ(ours[i].at("class_name"), theirs[i].at("class_name")) << "layer " << i;
      EXPECT_EQ(ours[i].at("name"), theirs[i].at("name")) << "layer " << i;
      std::vector<nlohmann::json> ours_in, theirs_in;
      collect_histories(ours[i].at("inbound_nodes"), ours_in);
      collect_histories(theirs[i].at("inbound_nodes"), theirs_in);
      EXPECT_EQ(nlohmann::json(ours_in), nlohmann::json(theirs_in)) << "inputs of layer " << i << " " << ours[i].at("name");
    }
    const std::shared_ptr<ModelImpl> loaded = load_model(file);
    const nlohmann::json built_config = model->get_config(), loaded_config = loaded->get_config();
    // The differences as a JSON patch from the built config to the loaded one: none expected.
    EXPECT_EQ(nlohmann::json::diff(built_config, loaded_config), nlohmann::json::array()) << "built vs read";
  }
}

// Loads Keras's weights (NAME.h5) into `model` and expects Keras's prediction y of NAME.io.h5 for
// its input x within the README's rule: max|got - y| <= 1e-4 + 1e-3 * max|y|, same argmax per row.
inline void expect_predicts_keras(const Model& model, const std::string& name) {
  model->load_weights((keras_apps_dir() / (name + ".h5")).string());
  auto io = h5::H5File::open_read((keras_apps_dir() / (name + ".io.h5")).string()).root();
  const Tensor x = io.open_dataset("x").read_tensor(), y = io.open_dataset("y").read_tensor();
  const Tensor got = model->predict(x, x.dim(0));
  ASSERT_EQ(got.shape(), y.shape());
  double err = 0, peak = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    err = std::max(err, std::fabs(double(got[i]) - double(y[i])));
    peak = std::max(peak, std::fabs(double(y[i])));
  }
  EXPECT_LE(err, 1e-4 + 1e-3 * peak) << name;
  const int64_t rows = y.dim(0), cols = y.numel() / rows;
  for (int64_t r = 0; r < rows; ++r) {
    const float* g = got.data() + r * cols;
    const float* w = y.data() + r * cols;
    EXPECT_EQ(std::max_element(g, g + cols) - g, std::max_element(w, w + cols) - w) << name << " row " << r;
  }
}

}  // namespace minidl::testing
