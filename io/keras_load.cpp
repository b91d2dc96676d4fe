// io/keras_load.cpp — loading Keras files: recognise the layout, build the model from its normalised config,
// plan every weight (checked against the model), then assign them all at once.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/errors.h"
#include "core/logging.h"
#include "core/message.h"
#include "io/keras_internal.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "layers/base/positional_args.h"
#include "layers/base/registry.h"

namespace minidl {
namespace keras_io {
namespace {

// Every layer class in a normalised config must be registered: say which one is not,
// with its layer name, before anything is built.
void check_classes(const json& cc, const std::string& where) {
  const std::string cls = cc["class_name"].get<std::string>();
  const json& cfg = cc.contains("config") ? cc["config"] : json();
  if (is_model_class(cls)) {
    const json& layers = cfg.is_object() && cfg.contains("layers") ? cfg["layers"] : json::array();
    for (const auto& e : layers.is_array() ? layers : json::array()) check_classes(e, where);
    return;
  }
  // An operation (x / 2) is rebuilt, or refused by name, by the functional reader.
  if (LayerRegistry::instance().contains(cls) || is_operation_entry(cc)) return;
  std::string name = "?";
  if (cc.contains("name") && cc["name"].is_string()) {
    name = cc["name"].get<std::string>();
  } else if (cfg.is_object() && cfg.contains("name") && cfg["name"].is_string()) {
    name = cfg["name"].get<std::string>();
  }
  raise<ValueError>(
      "{}: unknown layer class '{}' (layer '{}'). minidl has no layer of that class; register one with "
      "MINIDL_REGISTER_LAYER(\"{}\", factory) or LayerRegistry::instance().add(\"{}\", factory) before loading",
      where, cls, name, cls, cls);
}

// "hard_sigmoid" is relu6(x + 3) / 6 in Keras 3 and clip(0.2 x + 0.5, 0, 1) before it; minidl's
// name for the Keras 3 one is "keras3_hard_sigmoid" (layers/parts/activations.h). Renames every
// activation of a config Keras 3 wrote, as a string or as Keras 3's function object.
void resolve_keras3_activations(json& v) {
  if (v.is_array()) {
    for (auto& e : v) resolve_keras3_activations(e);
    return;
  }
  if (!v.is_object()) return;
  auto is_hard_sigmoid = [](const json& name) {
    if (!name.is_string()) return false;
    std::string s = name.get<std::string>();
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s == "hard_sigmoid";
  };
  for (auto& [key, e] : v.items()) {
    if (key == "activation" && is_hard_sigmoid(e)) {
      e = "keras3_hard_sigmoid";
    } else if (key == "activation" && e.is_object() && e.contains("config") && is_hard_sigmoid(e["config"])) {
      e["config"] = "keras3_hard_sigmoid";
    } else {
      resolve_keras3_activations(e);
    }
  }
}

// True when some layer of a model config lists its inbound nodes in the Keras 1/2 form
// ([[name, node, tensor, kwargs]]); Keras 3 writes {"args", "kwargs"} objects.
bool has_list_form_nodes(const json& v) {
  if (v.is_array()) {
    for (const auto& e : v)
      if (has_list_form_nodes(e)) return true;
    return false;
  }
  if (!v.is_object()) return false;
  for (const auto& [key, e] : v.items()) {
    if (key == "inbound_nodes" && e.is_array()) {
      for (const auto& node : e)
        if (node.is_array()) return true;
    } else if (has_list_form_nodes(e)) {
      return true;
    }
  }
  return false;
}

// A config.json or to_json() text: Keras 3 wraps every object with its "module"; tf.keras 2.13
// to 2.15 did too in its `.keras` files, but kept the list form of inbound nodes.
bool written_by_keras3(const json& class_and_config) {
  return class_and_config.is_object() && class_and_config.contains("module") && !has_list_form_nodes(class_and_config);
}

// The major version of a keras_version attribute ("3.15.1" -> 3); 0 when it does not start with one.
int major_version(const std::string& version) {
  int major = 0;
  for (char c : version) {
    if (c < '0' || c > '9' || major > 100) break;
    major = major * 10 + (c - '0');
  }
  return major;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) raise<IOError>("{}: cannot open for reading", path);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) raise<IOError>("{}: read error", path);
  return text;
}

std::shared_ptr<ModelImpl> load_legacy_model(const std::string& path) {
  const h5::H5File f = h5::H5File::open_read(path);
  const h5::Group root = f.root();
  const std::string where = path + ": model_config";
  json config = parse_json_limited(root.read_string_attr("model_config"), where);
  // A legacy file says which Keras wrote it; Keras 3 writes its layer entries without "module".
  if (root.has_attr("keras_version") && major_version(root.read_string_attr("keras_version")) >= 3)
    resolve_keras3_activations(config);
  auto model = build_model_from_config(config, where);
  if (!root.is_group("model_weights"))
    raise<IOError>("{}: /model_weights: missing (the file has a model_config but no weights)", path);
  apply_assignments(plan_legacy_weights(*model, root.open_group("model_weights"), root, {}));
  if (root.has_attr("training_config")) {
    const std::string tc_where = path + ": training_config";
    try {
      compile_from_training_config(*model, parse_json_limited(root.read_string_attr("training_config"), tc_where),
                                   tc_where);
    } catch (const std::exception& e) {
      logger()->warn("{}; the model is loaded uncompiled", e.what());
    }
    if (model->compiled() && root.is_group("optimizer_weights")) restore_optimizer_weights(*model, root, path);
  }
  return model;
}

}  // namespace

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

FileKind sniff_file(const std::string& path) {
  // An ifstream opens a directory and reads nothing from it, which would read as "empty".
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    raise<IOError>("{}: is a directory, not a model or weights file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) raise<IOError>("{}: cannot open for reading (missing or unreadable)", path);
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  if (in.gcount() == 0) raise<IOError>("{}: empty file", path);
  if (in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' && (magic[2] == 3 || magic[2] == 5))
    return FileKind::kKerasZip;
  const h5::H5File f = h5::H5File::open_read(path);
  const h5::Group root = f.root();
  if (root.has_attr("model_config")) return FileKind::kLegacyModel;
  if (has_names_attr(root, "layer_names")) return FileKind::kLegacyWeights;
  if (root.is_group("layers") || root.is_group("vars") || root.is_group("_layer_checkpoint_dependencies"))
    return FileKind::kKeras3Weights;
  return FileKind::kOtherHdf5;
}

std::string file_kind_name(FileKind kind) {
  switch (kind) {
    case FileKind::kLegacyModel:
      return "legacy full-model HDF5 (model.save, Keras 1/2/3 .h5)";
    case FileKind::kLegacyWeights:
      return "legacy weights-only HDF5 (save_weights)";
    case FileKind::kKeras3Weights:
      return "Keras 3 weights HDF5 (.weights.h5)";
    case FileKind::kKerasZip:
      return "Keras 3 archive (.keras zip)";
    case FileKind::kOtherHdf5:
      return "HDF5 without a Keras layout";
  }
  return "unknown";
}

std::shared_ptr<ModelImpl> build_model_from_config(const json& class_and_config, const std::string& where) {
  json n;
  if (written_by_keras3(class_and_config)) {
    json resolved = class_and_config;
    resolve_keras3_activations(resolved);
    n = normalize_config(resolved, where);
  } else {
    n = normalize_config(class_and_config, where);
  }
  const std::string cls = n["class_name"].get<std::string>();
  if (!is_model_class(cls))
    raise<ValueError>("{}: expected a Sequential or Functional model at the top level, found class '{}'", where, cls);
  check_classes(n, where);
  check_weight_budget(n, where);
  LayerPtr layer;
  try {
    layer = layer_from_config(n);
  } catch (const IOError&) {
    throw;
  } catch (const std::bad_alloc&) {
    raise<ValueError>("{}: out of memory while building the model", where);
  } catch (const std::exception& e) {
    raise<ValueError>("{}: {}", where, e.what());
  }
  auto model = std::dynamic_pointer_cast<ModelImpl>(layer);
  if (!model) raise<ValueError>("{}: class '{}' did not build a model", where, cls);
  return model;
}

}  // namespace keras_io

using namespace keras_io;  // NOLINT: this file implements the public functions of keras_model.h

std::shared_ptr<ModelImpl> load_model(const std::string& path) {
  const FileKind kind = sniff_file(path);
  switch (kind) {
    case FileKind::kKerasZip:
      return load_keras_zip(path);
    case FileKind::kLegacyModel:
      return load_legacy_model(path);
    case FileKind::kLegacyWeights:
    case FileKind::kKeras3Weights:
      raise<ValueError>(
          "{}: a {} has no model config; use load_model_from_parts(architecture.json, \"{}\") or "
          "model->load_weights(\"{}\")",
          path, file_kind_name(kind), path, path);
    case FileKind::kOtherHdf5:
      break;
  }
  raise<ValueError>("{}: HDF5 file without a Keras model (no model_config attribute at /)", path);
}

std::shared_ptr<ModelImpl> model_from_json(const std::string& json_text) {
  const std::string where = "model_from_json";
  const json cfg = parse_json_limited(json_text, where);
  auto model = build_model_from_config(cfg, where);
  compile_from_compile_config(*model, cfg, where, "left");
  return model;
}

std::shared_ptr<ModelImpl> load_model_from_parts(const std::string& architecture_json_path,
                                                 const std::string& weights_path) {
  const std::string where = architecture_json_path;
  auto model = build_model_from_config(parse_json_limited(read_text_file(architecture_json_path), where), where);
  load_weights(*model, weights_path);
  return model;
}

void load_weights(ModelImpl& model, const std::string& path, bool by_name, bool skip_mismatch) {
  const LoadOptions options{by_name, skip_mismatch};
  const FileKind kind = sniff_file(path);
  std::vector<Assignment> plan;
  switch (kind) {
    case FileKind::kLegacyModel: {
      const h5::H5File f = h5::H5File::open_read(path);
      if (!f.root().is_group("model_weights")) raise<IOError>("{}: /model_weights: missing", path);
      plan = plan_legacy_weights(model, f.root().open_group("model_weights"), f.root(), options);
      break;
    }
    case FileKind::kLegacyWeights: {
      const h5::H5File f = h5::H5File::open_read(path);
      plan = plan_legacy_weights(model, f.root(), f.root(), options);
      break;
    }
    case FileKind::kKeras3Weights: {
      const h5::H5File f = h5::H5File::open_read(path);
      plan = plan_keras3_weights(model, f.root(), options);
      break;
    }
    case FileKind::kKerasZip: {
      const h5::H5File f = open_keras_zip_weights(path);
      plan = plan_keras3_weights(model, f.root(), options);
      break;
    }
    case FileKind::kOtherHdf5:
      raise<ValueError>("{}: no Keras weights in this HDF5 file (no layer_names attribute, no layers/ group)", path);
  }
  apply_assignments(plan);
}

std::vector<Tensor> read_layer_weights(const std::string& path, const std::string& layer_name) {
  const FileKind kind = sniff_file(path);
  std::vector<Tensor> out;
  if (kind == FileKind::kLegacyModel || kind == FileKind::kLegacyWeights) {
    const h5::H5File f = h5::H5File::open_read(path);
    const h5::Group g = kind == FileKind::kLegacyModel ? f.root().open_group("model_weights") : f.root();
    const auto names = read_names_attr(g, "layer_names");
    if (std::find(names.begin(), names.end(), layer_name) == names.end() || !g.is_group(layer_name)) {
      raise<ValueError>("{}: {}: no layer named '{}'; the file has [{}]", path, g.path(), layer_name,
                        join_capped(names));
    }
    const h5::Group lg = g.open_group(layer_name);
    for (const auto& w : read_names_attr(lg, "weight_names")) out.push_back(lg.open_dataset(w).read_tensor());
    return out;
  }
  if (kind == FileKind::kOtherHdf5) raise<ValueError>("{}: no Keras weights in this HDF5 file", path);
  const h5::H5File f = kind == FileKind::kKerasZip ? open_keras_zip_weights(path) : h5::H5File::open_read(path);
  // Keras 3: find the vars group whose name attribute (or key) is the layer name, at any depth.
  std::vector<std::string> stack = {"layers", "_layer_checkpoint_dependencies"}, known;
  while (!stack.empty()) {
    const std::string base = stack.back();
    stack.pop_back();
    if (!f.root().is_group(base)) continue;
    for (const auto& key : f.root().open_group(base).children()) {
      const std::string vars = base + "/" + key + "/vars";
      if (!f.root().is_group(vars)) continue;
      const h5::Group vg = f.root().open_group(vars);
      const std::string name = vg.has_attr("name") ? vg.read_string_attr("name") : key;
      known.push_back(name);
      if (name == layer_name) {
        std::vector<std::pair<int64_t, std::string>> ds;
        for (const auto& d : vg.children())
          if (vg.is_dataset(d) && !d.empty() && d.size() < 10 && std::all_of(d.begin(), d.end(), [](unsigned char ch) { return std::isdigit(ch) != 0; }))
            ds.emplace_back(std::stoll(d), d);
        std::sort(ds.begin(), ds.end());
        for (const auto& [i, d] : ds) out.push_back(vg.open_dataset(d).read_tensor());
        return out;
      }
      stack.push_back(base + "/" + key + "/layers");
    }
  }
  raise<ValueError>("{}: no layer named '{}'; the file has [{}]", path, layer_name, join_capped(known));
}

}  // namespace minidl
