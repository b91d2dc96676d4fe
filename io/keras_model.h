// io/keras_model.h — Keras model files in and out.
//
// Reading takes every layout Keras users have (see ../shared/keras-h5/PROVENANCE.md):
//   * legacy full-model .h5 (Keras 1.x, 2.x, tf.keras, Keras 3 `model.save("x.h5")`):
//     root attrs keras_version / backend / model_config / training_config, weights under /model_weights;
//   * legacy weights-only .h5 (`save_weights`): layer groups at the root;
//   * Keras 3 `.weights.h5` (layers/<name>/vars/<i>) and `.keras` (a zip of config.json,
//     metadata.json, model.weights.h5).
// Each era's config is first normalised to the Keras 2 form (class names such as
// Convolution2D, nb_filter / border_mode / subsample / dim_ordering, Keras 3 wrappers and
// DTypePolicy, Keras 3 inbound-node format), then built with the layer registry
// (layers/base/registry.h), so a user-registered layer loads too.
//
// Writing produces the Keras 2 legacy layouts that today's Keras (2.x and 3.x) still
// reads, and `.keras` by extension. Saves are atomic: a temporary file beside the
// target, then a rename.
//
// Every failure is one exception (IOError for the file, ValueError for contents)
// naming the file, the path inside it, and what was expected versus found.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "train/model.h"

namespace minidl {

// The most weights (float32 elements) a loaded model may hold: configs asking for more are a
// ValueError before anything is allocated (a hostile file must not exhaust memory).
inline constexpr int64_t kMaxKerasModelParams = int64_t{1} << 30;

// A full-model file (.h5 any era, or .keras) -> a compiled model when the file
// has a training_config (optimizer from its config), else uncompiled. A legacy .h5's
// /optimizer_weights (tf.keras 2.x layout, as save_model writes it) is restored into the
// optimizer when it fits the model (same count, slot names and shapes), so training resumes
// exactly where it stopped; otherwise a warning is logged and the optimizer starts fresh,
// as Keras does.
std::shared_ptr<ModelImpl> load_model(const std::string& path);

// model.to_json() text (architecture only) -> model with fresh weights.
std::shared_ptr<ModelImpl> model_from_json(const std::string& json_text);

// Architecture JSON file + weights file (legacy weights .h5 or Keras 3 .weights.h5).
std::shared_ptr<ModelImpl> load_model_from_parts(const std::string& architecture_json_path,
                                                 const std::string& weights_path);

// Loads weights into an existing model: in topological (layer) order, or by layer
// name. skip_mismatch (only with by_name) skips layers whose weight count or shapes
// differ instead of throwing.
void load_weights(ModelImpl& model, const std::string& path, bool by_name = false, bool skip_mismatch = false);

// Reads one layer's weights from a file (by layer name), in Keras order, e.g. to load a
// Keras Conv2D kernel and bias into a minidl Conv2D.
std::vector<Tensor> read_layer_weights(const std::string& path, const std::string& layer_name);

// Writes the Keras 2 legacy full-model .h5, or .keras when path ends in ".keras". The .h5
// of a compiled model carries training_config as tf.keras 2.4 writes it (metrics null when
// there are none) and, once the optimizer has taken a step, /optimizer_weights: iterations
// and the slots of a built-in optimizer, named and ordered as tf.keras 2.x optimizer_v2
// ("Adam/iter:0", "Adam/conv2d/kernel/m:0", ...). A `.keras` file (and a `.weights.h5`) of a
// compiled model carries Keras 3's optimizer/vars (iteration, learning rate, the slots in the
// order Keras 3 creates them), which load_model restores.
void save_model(const ModelImpl& model, const std::string& path);

// Writes the Keras 2 legacy weights-only .h5, or Keras 3 layout when path ends in ".weights.h5"
// and `keras3` is true.
void save_weights(const ModelImpl& model, const std::string& path, bool keras3 = false);

// A human-readable, Keras-aware description of a file (for `minidl inspect`): era/format,
// keras_version, backend, layers with weight names, shapes and dtypes, attributes.
std::string describe_keras_file(const std::string& path);

}  // namespace minidl
