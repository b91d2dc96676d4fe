// tests/support/saved_configs.h — the layer configs of a model as minidl saves them: the layers of
// model_config in a .h5, of config.json in a .keras; and every initializer object inside a config.
// For the reader-contract tests, which check those configs against what Keras's readers accept.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "io/hdf5.h"
#include "io/zip.h"
#include "support/files.h"
#include "train/model.h"

namespace minidl::testing {

// Saves `model` as `file` (".h5" or ".keras") in this test's scratch directory and returns the
// layer entries ({"class_name", "config", ...}) of the config written there.
inline std::vector<nlohmann::json> saved_layer_entries(const ModelImpl& model, const std::string& file) {
  const std::string path = (temp_dir() / file).string();
  model.save(path);
  nlohmann::json cfg;
  if (file.ends_with(".keras")) {
    const Bytes text = read_zip(path).at("config.json");
    cfg = nlohmann::json::parse(std::string(text.begin(), text.end()));
  } else {
    cfg = nlohmann::json::parse(h5::H5File::open_read(path).root().read_string_attr("model_config"));
  }
  return cfg.at("config").at("layers").get<std::vector<nlohmann::json>>();
}

// Appends every object under `v` held by a key ending in "_initializer" to `out`.
inline void collect_initializers(const nlohmann::json& v, std::vector<nlohmann::json>& out) {
  if (!v.is_object()) return;
  for (const auto& [k, e] : v.items()) {
    if (k.ends_with("_initializer") && e.is_object()) out.push_back(e);
    collect_initializers(e, out);
  }
}

}  // namespace minidl::testing
