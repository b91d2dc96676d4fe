// io/keras_internal.h — pieces shared by the Keras file readers and writers in io/
// (keras_config, keras_guard, keras_weights_*, keras_load, keras_save, keras3, describe).
// Not part of the public API: include io/keras_model.h instead.
//
// The readers work in three steps:
//   1. era normalisation (keras_config.cpp): any era's model_config JSON -> the Keras 2
//      form the layer registry reads;
//   2. a parameter budget check on that config (keras_guard.cpp), before any weight is
//      allocated;
//   3. weights: the file's datasets are matched to the model's variables, converted
//      (Keras 1 / Theano layouts), validated, and only then assigned (keras_weights_*.cpp),
//      so a failure leaves the model untouched.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/hdf5.h"
#include "layers/base/json_text.h"
#include "train/model.h"

namespace minidl {
class ZipReader;  // io/zip.h
}  // namespace minidl

namespace minidl::keras_io {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// What a minidl-written legacy file claims to be (a version today's Keras 2 and 3 read).
inline constexpr const char* kWrittenKerasVersion = "2.4.0";
inline constexpr const char* kWrittenKeras3Version = "3.10.0";
inline constexpr const char* kWrittenBackend = "tensorflow";

// --- file kinds -------------------------------------------------------------------------

enum class FileKind {
  kLegacyModel,    // root model_config + /model_weights
  kLegacyWeights,  // layer_names at the root (save_weights)
  kKeras3Weights,  // layers/<key>/vars/<i> (Keras 3 .weights.h5)
  kKerasZip,       // .keras (zip)
  kOtherHdf5,      // HDF5 without any Keras layout
};

// Looks at the bytes (zip magic) and, for HDF5, at the root. IOError for a missing, empty,
// unreadable or non-HDF5 file.
FileKind sniff_file(const std::string& path);
std::string file_kind_name(FileKind kind);

// --- era normalisation (keras_config.cpp) ---------------------------------------------

// Any era's serialized model or layer {"class_name", "config", ...} -> the Keras 2 form
// layer_from_config reads. `where` prefixes every message ("m.h5: model_config").
// ValueError for malformed JSON structures and unsupported legacy layers (Keras 1 Merge of
// branches, BatchNormalization mode 1/2, border_mode "full").
json normalize_config(const json& class_and_config, const std::string& where);

// True for the class names of models that can be nested as layers.
bool is_model_class(const std::string& class_name);

// Node indices in a Keras config count a nested Functional model's own node 0 (and, in
// Keras 2, a nested Sequential's); minidl's configs do not. Adds `delta` to every
// reference to such a layer inside a Functional config (layers' inbound_nodes in Keras 2
// list form, input_layers, output_layers). keras3: Sequential references stay as they are,
// and a nested Functional's references are shifted in input_layers/output_layers only (Keras 3
// numbers its calls from 0 in inbound nodes), in inbound nodes only when none is at index 0.
void shift_nested_model_refs(json& functional_config, int delta, bool keras3);

// --- guard (keras_guard.cpp) ------------------------------------------------------------

// Estimates the weights a normalised model config will allocate (Dense, Conv2D family,
// BatchNormalization, PReLU; nested models recursively) by shape inference on unbuilt
// layers, and throws ValueError naming `where`, the layer and the count when the model
// would exceed kMaxKerasModelParams. Layers it cannot reason about count as 0.
void check_weight_budget(const json& normalized, const std::string& where);

// --- building (keras_load.cpp) ------------------------------------------------------------

// Normalises, checks the budget, builds. ValueError naming `where` on any config problem
// (unknown layer class with the layer name, wrong types, a top level that is not a model).
std::shared_ptr<ModelImpl> build_model_from_config(const json& class_and_config, const std::string& where);

// Keras 2 training_config or Keras 3 compile_config -> compile(). Anything minidl cannot
// honour (unknown loss or optimizer, several outputs) leaves the model uncompiled with a
// warning; unknown metrics are dropped with a warning.
void compile_from_training_config(ModelImpl& model, const json& training_config, const std::string& where);
// The "compile_config" of a Keras 3 model config (`config` is config.json or the JSON given
// to model_from_json), when it has one, through compile_from_training_config; an exception
// there is a warning "<what>; the model is <left_as> uncompiled" (left_as: "loaded", "left").
void compile_from_compile_config(ModelImpl& model, const json& config, const std::string& where,
                                 const char* left_as);

// The training_config attribute tf.keras 2.4 writes for model.save (keras_compile.cpp),
// keys in Keras's order: {"loss", "metrics", "weighted_metrics", "loss_weights",
// "optimizer_config": {"class_name", "config"}}. metrics is null when compile() had none,
// as Keras writes it. RuntimeError when the model is not compiled.
ordered_json keras2_training_config(const ModelImpl& model);
// A compiled loss as Keras serializes compile()'s loss argument: the function name
// ("categorical_crossentropy") when the loss keeps its Keras defaults, else the loss object
// {"class_name", "config"} (e.g. from_logits true), with reduction "sum_over_batch_size",
// which tf.keras 2 and Keras 3 both accept.
json keras_loss_identifier(const Loss& loss);
// The "loss" and "metrics" of the compile_config Keras 3 writes into config.json, which
// serializes compile()'s arguments as given: a loss name stays the string ("mse"), a loss
// object is {"module": "keras.losses", "class_name", "config", "registered_name": null};
// metrics are null when compile() had none, else the names given and the metric objects
// with their arguments ({"module": "keras.metrics", "class_name":
// "SparseTopKCategoricalAccuracy", "config": {"name", "dtype", "k"}, ...}). The model must
// be compiled (RuntimeError otherwise).
json keras3_compiled_loss(const ModelImpl& model);
json keras3_compiled_metrics(const ModelImpl& model);

// --- optimizer state (keras_optimizer_weights.cpp) ------------------------------------------

// Writes /optimizer_weights as tf.keras 2.x optimizer_v2 does: attr weight_names and one
// dataset per optimizer weight, in optimizer.weights order ([iter] (+ Nadam's momentum_cache)
// + each slot kind for every trainable weight, e.g. "Adam/iter:0", "Adam/conv2d/kernel/m:0",
// ..., "Adam/conv2d/kernel/v:0", ...). Nothing is written before the first step (Keras has
// created no optimizer weights yet) or for an optimizer that is not one of the built-ins.
void write_optimizer_weights(const ModelImpl& model, const h5::Group& root);
// Restores /optimizer_weights into the compiled model's optimizer when the file's list fits
// it (same count, each name ending in the expected slot name, same shapes); otherwise warns
// and leaves the optimizer fresh, as Keras does. Never throws for file contents.
void restore_optimizer_weights(ModelImpl& model, const h5::Group& root, const std::string& path);

// Writes optimizer/vars/0, 1, ... under a Keras 3 weights root (model.weights.h5 of `.keras`,
// `.weights.h5`) as Keras 3's optimizer.save_own_variables does, attr name = the optimizer's
// name: iteration (int64), learning_rate (float32; none for a schedule), then the slots in
// the order Keras 3's build() creates them (Adam: momentum and velocity interleaved per
// trainable weight, then velocity_hat with amsgrad; RMSprop: velocity, then momentum and
// average_gradient when used; Nadam ends with u_product). Slots are written before the first
// step too (zeros, or Adagrad's initial value), as a built Keras optimizer saves them.
// Nothing for an uncompiled model; a warning for an optimizer that is not a built-in one.
void write_keras3_optimizer_vars(const ModelImpl& model, const h5::Group& root);
// Restores optimizer/vars into the compiled model's optimizer when the file's variables fit
// it (same count, shapes of the slots); the learning rate too when the file's differs from
// the optimizer's at float32 precision. No group: nothing happens. Only iteration and
// learning_rate (an optimizer Keras had not built): the optimizer stays fresh, silently. Any
// other misfit: a warning naming `where`, as Keras's "Skipping variable loading for
// optimizer", and the optimizer stays fresh. Never throws for file contents.
void restore_keras3_optimizer_vars(ModelImpl& model, const h5::Group& root, const std::string& where);

// --- weights (keras_weights_*.cpp) ----------------------------------------------------

// One variable of a layer, as the files list it.
struct WeightSlot {
  Variable variable;
  const Layer* owner = nullptr;  // the layer that created it (a sublayer for nested models)
  std::string short_name;        // "kernel"
  std::string full_name;         // "conv2d/kernel:0"
};

// Keras's legacy order: trainable_weights + non_trainable_weights.
std::vector<WeightSlot> legacy_slots(const Layer& layer);
// Keras 3's order of a layer's own variables: created-trainable first, then the others.
std::vector<WeightSlot> keras3_own_slots(const Layer& layer);

// A value checked against its variable, waiting to be assigned.
struct Assignment {
  Variable variable;
  Tensor value;
};
void apply_assignments(const std::vector<Assignment>& assignments);

// Attributes that may be split by Keras into name0, name1, ... (layer_names, weight_names).
bool has_names_attr(const h5::Object& object, const std::string& name);
std::vector<std::string> read_names_attr(const h5::Object& object, const std::string& name);
// Writes a fixed-length string array, split as Keras splits it past 64512 bytes; an empty
// list becomes the empty float64 array.
void write_names_attr(const h5::Object& object, const std::string& name, const std::vector<std::string>& values);

struct LoadOptions {
  bool by_name = false;
  bool skip_mismatch = false;
};

// "layer 'conv2d' (Conv2D)", as weight-loading messages name a layer.
std::string layer_label(const Layer& l);
// Loading by name: runs `plan` for `layer` (it appends the layer's assignments to the list it
// is given) and adds them to `out`. A ValueError propagates, or with options.skip_mismatch is
// a warning "load_weights: skipping <layer>: <what>" and the layer keeps its weights.
void plan_layer_by_name(const Layer& layer, const LoadOptions& options, std::vector<Assignment>& out,
                        const std::function<void(std::vector<Assignment>&)>& plan);

// Plans the legacy (Keras 1/2, tf.keras, Keras 3 legacy) layout held by `group` (the root of
// a save_weights file or /model_weights). `file_root` supplies keras_version/backend when
// the group lacks them. ValueError / IOError naming the file and the path inside it.
std::vector<Assignment> plan_legacy_weights(const ModelImpl& model, const h5::Group& group, const h5::Group& file_root,
                                            const LoadOptions& options);
// The datasets 0, 1, 2, ... of a Keras 3 vars group in numeric order ("10" after "9");
// ValueError naming the group for any other dataset name.
std::vector<std::string> keras3_numbered_vars(const h5::Group& vars);
// Plans the Keras 3 layers/<key>/vars/<i> layout under `root`.
std::vector<Assignment> plan_keras3_weights(const ModelImpl& model, const h5::Group& root, const LoadOptions& options);

// Writers: the legacy layer groups (with layer_names, backend, keras_version on `group`),
// and the Keras 3 layout under `root` (with optimizer/vars when the model is compiled, as
// Keras 3 saves the optimizer with the model's weights).
void write_legacy_weights(const ModelImpl& model, const h5::Group& group);
void write_keras3_weights(const ModelImpl& model, const h5::Group& root);

// Keras 3 naming.to_snake_case ("MaxPooling2D" -> "max_pooling2d"), the key of a layer in
// a .weights.h5 file.
std::string keras3_snake_case(const std::string& class_name);

// --- configs for writing ------------------------------------------------------------------

// {"class_name", "config"} of a model as Keras 2 writes model_config (nested references shifted).
json keras2_model_config(const ModelImpl& model);
// The Keras 3 config.json object (module/registered_name wrappers, Keras 3 nodes,
// build_config, compile_config when compiled).
json keras3_model_config(const ModelImpl& model);

// --- .keras archives (keras3.cpp) -----------------------------------------------------

// Members are read with limits checked on the zip directory before anything is inflated
// (io/zip.h ZipReader): config.json and metadata.json at most kMaxKerasJsonMemberBytes,
// model.weights.h5 at most keras_weights_member_limit(), every member at most 1000:1
// compressed; every member read is CRC-32 checked.
inline constexpr int64_t kMaxKerasJsonMemberBytes = int64_t{64} << 20;
// The weight budget (kMaxKerasModelParams float32 values) three times over — the weights
// and an optimizer's two slots, as Adam saves them — plus 64 MiB of HDF5 structure, and
// never more than the machine's physical memory (the file is read into memory).
int64_t keras_weights_member_limit();
// The archive's directory, every member checked against the largest of those limits.
ZipReader open_keras_archive(const std::string& path);

std::shared_ptr<ModelImpl> load_keras_zip(const std::string& path);
void save_keras_zip(const ModelImpl& model, const std::string& path);
// model.weights.h5 of an archive, opened from memory. IOError when missing, over the
// limits above, or corrupt (CRC-32 mismatch, HDF5 damage).
h5::H5File open_keras_zip_weights(const std::string& path);

// --- small helpers --------------------------------------------------------------------

bool ends_with(const std::string& s, const std::string& suffix);
// JSON from files is parsed by parse_json_limited and shown in messages by json_preview
// (layers/base/json_text.h).

}  // namespace minidl::keras_io
