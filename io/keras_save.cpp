// io/keras_save.cpp — writing the Keras 2 legacy layouts as tf.keras 2.4 writes them (see
// ../shared/conformance/README.md): root keras_version/backend as variable-length UTF-8,
// model_config/training_config as fixed-length JSON strings (variable-length when too large for
// an attribute in the object header, as Keras 3 writes every str), /model_weights (or the root,
// for save_weights) with fixed-length layer_names/backend/keras_version and one group per
// layer of model.layers whose weight_names lists "<layer>/<weight>:0" datasets, and
// /optimizer_weights for a compiled model that has trained (keras_optimizer_weights.cpp). Every file
// is written to a temporary beside the target and renamed (io/atomic_file.h).
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "io/atomic_file.h"
#include "io/keras_internal.h"
#include "io/keras_model.h"

namespace minidl {
namespace keras_io {
namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', /*ensure_ascii=*/true); }
std::string dump(const ordered_json& j) { return j.dump(-1, ' ', /*ensure_ascii=*/true); }

// A JSON attribute as tf.keras 2.4 writes it (a fixed-length string) while it fits in the root
// group's object header, whose messages HDF5 caps at 64 KiB; a larger one (the config of a
// MobileNetV2 or a ResNet50) as a variable-length string, which keeps only a heap ID in the
// header. Keras 3 writes every such attribute that way, and tf.keras 2.x reads both.
void write_json_attr(const h5::Group& root, const std::string& name, const std::string& text) {
  constexpr size_t kLargestFixed = 60 * 1024;  // leaves room for the header's other messages
  if (text.size() <= kLargestFixed)
    root.write_fixed_string_attr(name, text);
  else
    root.write_string_attr(name, text);
}

void save_legacy_model(const ModelImpl& model, const std::string& path) {
  // Built before the file exists, so a model that cannot be serialized leaves nothing behind.
  const std::string config = dump(keras2_model_config(model));
  const std::string training = model.compiled() ? dump(keras2_training_config(model)) : "";
  atomic_write(path, [&](const std::string& tmp) {
    h5::H5File f = h5::H5File::create(tmp);
    const h5::Group root = f.root();
    root.write_string_attr("keras_version", kWrittenKerasVersion);
    root.write_string_attr("backend", kWrittenBackend);
    write_json_attr(root, "model_config", config);
    if (!training.empty()) write_json_attr(root, "training_config", training);
    write_legacy_weights(model, root.create_group("model_weights"));
    if (model.compiled()) write_optimizer_weights(model, root);
    f.close();
  });
}

void save_legacy_weights(const ModelImpl& model, const std::string& path) {
  atomic_write(path, [&](const std::string& tmp) {
    h5::H5File f = h5::H5File::create(tmp);
    write_legacy_weights(model, f.root());
    f.close();
  });
}

void save_keras3_weights(const ModelImpl& model, const std::string& path) {
  atomic_write(path, [&](const std::string& tmp) {
    h5::H5File f = h5::H5File::create(tmp);
    write_keras3_weights(model, f.root());
    f.close();
  });
}

void require_graph(const ModelImpl& model) {
  if (model.layers().empty())
    raise<ValueError>("model '{}' has no layers to save; build it first (add layers or call build())", model.name());
}

}  // namespace

void write_legacy_weights(const ModelImpl& model, const h5::Group& group) {
  std::vector<std::string> names;
  for (const auto& l : model.layers()) names.push_back(l->name());
  write_names_attr(group, "layer_names", names);
  group.write_fixed_string_attr("backend", kWrittenBackend);
  group.write_fixed_string_attr("keras_version", kWrittenKerasVersion);
  for (const auto& l : model.layers()) {
    const h5::Group g = group.create_group(l->name());
    const std::vector<WeightSlot> slots = legacy_slots(*l);
    std::vector<std::string> weight_names;
    for (const auto& s : slots) weight_names.push_back(s.full_name);
    write_names_attr(g, "weight_names", weight_names);
    for (const auto& s : slots) g.write_tensor(s.full_name, s.variable.value());
  }
}

namespace {

// tf.keras 2.x has no name for Keras 3's hard sigmoid (relu6(x + 3) / 6): a layer using it
// cannot be written in that layout. ValueError naming the layer.
void refuse_keras3_only_activations(const json& model_config) {
  for (const auto& l : model_config.value("layers", json::array())) {
    const json& c = l.value("config", json::object());
    if (c.is_object() && c.value("activation", json()) == "keras3_hard_sigmoid")
      raise<ValueError>("{} '{}': activation keras3_hard_sigmoid (Keras 3's hard_sigmoid, relu6(x + 3) / 6) has no "
                        "tf.keras 2 name; save the model as .keras instead",
                        l.value("class_name", std::string("?")), l.value("name", std::string("?")));
    if (c.is_object() && c.contains("layers")) refuse_keras3_only_activations(c);  // a nested model
  }
}

}  // namespace

json keras2_model_config(const ModelImpl& model) {
  json config = model.get_config();
  refuse_keras3_only_activations(config);
  if (model.class_name() == "Functional") shift_nested_model_refs(config, +1, /*keras3=*/false);
  return {{"class_name", model.class_name()}, {"config", config}};
}

}  // namespace keras_io

using namespace keras_io;  // NOLINT: this file implements the public save functions of keras_model.h

void save_model(const ModelImpl& model, const std::string& path) {
  require_graph(model);
  if (ends_with(path, ".keras")) {
    save_keras_zip(model, path);
  } else {
    save_legacy_model(model, path);
  }
}

void save_weights(const ModelImpl& model, const std::string& path, bool keras3) {
  require_graph(model);
  if (keras3 && ends_with(path, ".weights.h5")) {
    save_keras3_weights(model, path);
  } else {
    save_legacy_weights(model, path);
  }
}

namespace {

// model->save() / save_weights() / load_weights() reach io through these (train/ cannot
// depend on io). save_weights picks the Keras 3 layout for ".weights.h5", as Keras 3 does.
void model_saver(const ModelImpl& model, const std::string& path, bool weights_only) {
  if (weights_only) {
    save_weights(model, path, ends_with(path, ".weights.h5"));
  } else {
    save_model(model, path);
  }
}

void weights_loader(ModelImpl& model, const std::string& path, bool by_name, bool skip_mismatch) {
  load_weights(model, path, by_name, skip_mismatch);
}

const bool registered = [] {
  set_model_io(&model_saver, &weights_loader);
  return true;
}();

}  // namespace
}  // namespace minidl
