// io/keras_config.cpp — era normalisation of serialized Keras models: Keras 1 layer arguments, Keras 2 list
// Sequentials, Keras 3 wrappers and inbound-node objects all become the Keras 2 form that
// the layer registry (layers/base/registry.h) reads. Layer classes are not looked up here: an
// unknown class stays as it is and fails later with its name.
#include <nlohmann/json.hpp>

#include <set>

#include "core/errors.h"
#include "io/keras_internal.h"

namespace minidl::keras_io {
namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) { raise<ValueError>("{}: {}", where, what); }

std::string label(const std::string& cls, const json& cfg) {
  if (cfg.is_object() && cfg.contains("name") && cfg["name"].is_string())
    return fmt::format("layer '{}' ({})", cfg["name"].get<std::string>(), cls);
  return fmt::format("a {} layer", cls);
}

// Moves c[from] to c[to] unless c[to] is already set; drops c[from] either way.
void rename(json& c, const char* from, const char* to) {
  if (!c.contains(from)) return;
  if (!c.contains(to) || c[to].is_null()) c[to] = c[from];
  c.erase(from);
}

// --- Keras 1 --------------------------------------------------------------------------

const std::set<std::string> kKeras1Classes = {"Convolution2D", "AtrousConvolution2D", "SeparableConvolution2D",
                                              "Deconvolution2D", "Merge"};
const std::set<std::string> kKeras1Keys = {"nb_filter",     "nb_row",       "nb_col",        "border_mode",
                                           "subsample",     "dim_ordering", "init",          "W_regularizer",
                                           "b_regularizer", "W_constraint", "b_constraint",  "output_dim",
                                           "input_dtype",   "atrous_rate",  "beta_init",     "gamma_init"};

bool is_keras1_layer(const std::string& cls, const json& c) {
  if (kKeras1Classes.count(cls)) return true;
  for (const auto& k : kKeras1Keys)
    if (c.contains(k)) return true;
  if ((cls == "Dropout" || cls == "SpatialDropout2D") && c.contains("p")) return true;
  return cls == "BatchNormalization" && c.contains("mode");
}

// Keras 1 initializer names; the parametrised ones used a 0.05 scale.
json keras1_initializer(const json& v) {
  if (!v.is_string()) return v;
  const std::string s = v.get<std::string>();
  if (s == "zero") return "zeros";
  if (s == "one") return "ones";
  if (s == "uniform") return {{"class_name", "RandomUniform"}, {"config", {{"minval", -0.05}, {"maxval", 0.05}}}};
  if (s == "normal") return {{"class_name", "RandomNormal"}, {"config", {{"mean", 0.0}, {"stddev", 0.05}}}};
  return v;
}

// Keras 1 serialized regularizers and constraints inline: {"name": "WeightRegularizer", "l1": .., "l2": ..}.
json keras1_regularizer(const json& v) {
  if (!v.is_object() || !v.contains("name") || v.contains("class_name")) return v;
  const json name = v["name"];
  if (name == "WeightRegularizer" || name == "ActivityRegularizer" || name == "L1L2Regularizer")
    return {{"class_name", "L1L2"}, {"config", {{"l1", v.value("l1", 0.0)}, {"l2", v.value("l2", 0.0)}}}};
  return v;
}

json keras1_constraint(const json& v) {
  if (!v.is_object() || !v.contains("name") || v.contains("class_name")) return v;
  const json name = v["name"];
  if (name == "MaxNorm" || name == "maxnorm")
    return {{"class_name", "MaxNorm"}, {"config", {{"max_value", v.value("m", 2.0)}, {"axis", v.value("axis", 0)}}}};
  if (name == "NonNeg" || name == "nonneg") return {{"class_name", "NonNeg"}, {"config", json::object()}};
  if (name == "UnitNorm" || name == "unitnorm")
    return {{"class_name", "UnitNorm"}, {"config", {{"axis", v.value("axis", 0)}}}};
  return v;
}

void keras1_data_format(json& c, const std::string& where, const std::string& who) {
  if (!c.contains("dim_ordering")) return;
  const json v = c["dim_ordering"];
  c.erase("dim_ordering");
  if (v == "th") {
    c["data_format"] = "channels_first";
  } else if (v == "tf") {
    c["data_format"] = "channels_last";
  } else if (!(v.is_null() || v == "default")) {
    bad(where, fmt::format("{}: dim_ordering must be 'th' or 'tf', received {}", who, json_preview(v)));
  }
}

// Keras 1 Merge (functional form) -> the Keras 2 merge layer of the same mode.
std::pair<std::string, json> keras1_merge(json c, const std::string& where, const std::string& who) {
  if (c.contains("layers") && !c["layers"].is_null())
    bad(where, fmt::format("{}: a Keras 1 Merge of Sequential branches is not supported; rebuild the model with "
                           "the functional API (Add, Concatenate, ...)",
                           who));
  const std::string mode = c.contains("mode") && c["mode"].is_string() ? c["mode"].get<std::string>() : "sum";
  json out = json::object();
  for (const char* k : {"name", "trainable"})
    if (c.contains(k)) out[k] = c[k];
  if (mode == "sum") return {"Add", out};
  if (mode == "mul") return {"Multiply", out};
  if (mode == "ave") return {"Average", out};
  if (mode == "max") return {"Maximum", out};
  if (mode == "concat") {
    out["axis"] = c.contains("concat_axis") && !c["concat_axis"].is_null() ? c["concat_axis"] : json(-1);
    return {"Concatenate", out};
  }
  bad(where, fmt::format("{}: Keras 1 Merge mode '{}' is not supported (only sum, mul, ave, max, concat)", who, mode));
}

std::pair<std::string, json> keras1_layer(std::string cls, json c, const std::string& where) {
  const std::string who = label(cls, c);
  if (cls == "Merge") return keras1_merge(std::move(c), where, who);
  rename(c, "input_dtype", "dtype");
  if (c.contains("input_dim")) {
    if (!c["input_dim"].is_null() && !c.contains("batch_input_shape") && !c.contains("input_shape"))
      c["batch_input_shape"] = json::array({nullptr, c["input_dim"]});
    c.erase("input_dim");
  }
  c.erase("weights");  // Keras 1 initial weights: always null in saved configs
  keras1_data_format(c, where, who);
  if (c.contains("activity_regularizer")) c["activity_regularizer"] = keras1_regularizer(c["activity_regularizer"]);

  if (cls == "Convolution2D" || cls == "AtrousConvolution2D" || cls == "SeparableConvolution2D" ||
      cls == "Deconvolution2D" || cls == "Conv2D" || cls == "SeparableConv2D" || cls == "Conv2DTranspose") {
    if (c.contains("nb_row") || c.contains("nb_col")) {
      c["kernel_size"] = json::array({c.value("nb_row", json(1)), c.value("nb_col", json(1))});
      c.erase("nb_row");
      c.erase("nb_col");
    }
    rename(c, "nb_filter", "filters");
    rename(c, "subsample", "strides");
    rename(c, "atrous_rate", "dilation_rate");
    if (cls == "SeparableConvolution2D" || cls == "SeparableConv2D") {
      rename(c, "init", "depthwise_initializer");
      if (c.contains("depthwise_initializer") && !c.contains("pointwise_initializer"))
        c["pointwise_initializer"] = c["depthwise_initializer"];
      rename(c, "b_regularizer", "bias_regularizer");
      rename(c, "b_constraint", "bias_constraint");
      for (const char* k : {"depthwise_regularizer", "pointwise_regularizer"})
        if (c.contains(k)) c[k] = keras1_regularizer(c[k]);
      for (const char* k : {"depthwise_constraint", "pointwise_constraint"})
        if (c.contains(k)) c[k] = keras1_constraint(c[k]);
      cls = "SeparableConv2D";
    } else {
      rename(c, "init", "kernel_initializer");
      cls = (cls == "Deconvolution2D" || cls == "Conv2DTranspose") ? "Conv2DTranspose" : "Conv2D";
      c.erase("output_shape");  // Deconvolution2D: derived from the input in Keras 2
    }
  } else if (cls == "Dense") {
    rename(c, "output_dim", "units");
    rename(c, "init", "kernel_initializer");
  } else if (cls == "Dropout" || cls == "SpatialDropout2D") {
    rename(c, "p", "rate");
  } else if (cls == "BatchNormalization") {
    if (c.contains("mode")) {
      if (!(c["mode"] == 0 || c["mode"].is_null()))
        bad(where, fmt::format("{}: Keras 1 BatchNormalization mode {} is not supported (only mode 0, feature-wise "
                               "with moving statistics, has a Keras 2 equivalent)",
                               who, json_preview(c["mode"])));
      c.erase("mode");
    }
    rename(c, "beta_init", "beta_initializer");
    rename(c, "gamma_init", "gamma_initializer");
  } else if (cls == "PReLU") {
    rename(c, "init", "alpha_initializer");
  } else {
    c.erase("init");
  }

  rename(c, "border_mode", "padding");
  if (c.contains("padding") && c["padding"] == "full")
    bad(where, fmt::format("{}: border_mode 'full' has no Keras 2 equivalent and is not supported", who));
  rename(c, "bias", "use_bias");
  rename(c, "W_regularizer", "kernel_regularizer");
  rename(c, "b_regularizer", "bias_regularizer");
  rename(c, "W_constraint", "kernel_constraint");
  rename(c, "b_constraint", "bias_constraint");
  for (const char* k : {"kernel_regularizer", "bias_regularizer", "gamma_regularizer", "beta_regularizer"})
    if (c.contains(k)) c[k] = keras1_regularizer(c[k]);
  for (const char* k : {"kernel_constraint", "bias_constraint"})
    if (c.contains(k)) c[k] = keras1_constraint(c[k]);
  for (const char* k : {"kernel_initializer", "beta_initializer", "gamma_initializer", "alpha_initializer",
                        "depthwise_initializer", "pointwise_initializer"})
    if (c.contains(k)) c[k] = keras1_initializer(c[k]);
  return {cls, c};
}

// --- one layer entry ------------------------------------------------------------------

const json& class_name_of(const json& entry, const std::string& where) {
  if (!entry.is_object() || !entry.contains("class_name") || !entry["class_name"].is_string())
    bad(where, fmt::format("expected a serialized layer {{\"class_name\": ..., \"config\": ...}}, received {}",
                           json_preview(entry)));
  return entry["class_name"];
}

// {"class_name", "config"} of a plain (non-model) layer, wrappers dropped.
json normalize_layer(const json& entry, const std::string& where) {
  const std::string cls = class_name_of(entry, where).get<std::string>();
  json c = entry.contains("config") && !entry["config"].is_null() ? entry["config"] : json::object();
  if (!c.is_object())
    bad(where, fmt::format("the config of a {} layer must be a JSON object, received {}", cls, json_preview(c)));
  if (is_keras1_layer(cls, c)) {
    auto [cls2, c2] = keras1_layer(cls, std::move(c), where);
    return {{"class_name", cls2}, {"config", c2}};
  }
  return {{"class_name", cls}, {"config", c}};
}

json normalize_entry(const json& entry, const std::string& where) {
  const std::string cls = class_name_of(entry, where).get<std::string>();
  return is_model_class(cls) ? normalize_config(entry, where) : normalize_layer(entry, where);
}

// --- Sequential -----------------------------------------------------------------------

bool has_input_spec(const json& c) {
  for (const char* k : {"batch_input_shape", "batch_shape", "input_shape", "input_dim"})
    if (c.is_object() && c.contains(k) && !c[k].is_null()) return true;
  return false;
}

json normalize_sequential(const json& cc, const std::string& where) {
  const json& cfg = cc.contains("config") ? cc["config"] : json();
  const json* layers = &cfg;
  std::string name;
  if (cfg.is_object()) {
    if (!cfg.contains("layers")) bad(where, "Sequential config has no 'layers' list");
    layers = &cfg["layers"];
    if (cfg.contains("name") && cfg["name"].is_string()) name = cfg["name"].get<std::string>();
  }
  if (!layers->is_array())
    bad(where, fmt::format("Sequential config: 'layers' must be a list, received {}", json_preview(*layers)));
  json out = json::array();
  for (const auto& entry : *layers) {
    if (class_name_of(entry, where) == "Merge")
      bad(where, "a Keras 1 Merge inside a Sequential (branches of Sequential models) is not supported; rebuild the "
                 "model with the functional API");
    out.push_back(normalize_entry(entry, where));
  }
  // Keras 3 keeps the build shape beside the layers when no InputLayer is listed.
  if (cfg.is_object() && cfg.contains("build_input_shape") && cfg["build_input_shape"].is_array() && !out.empty() &&
      out[0]["class_name"] != "InputLayer" && !has_input_spec(out[0]["config"]))
    out[0]["config"]["batch_input_shape"] = cfg["build_input_shape"];
  json c = {{"layers", out}};
  if (!name.empty()) c["name"] = name;
  return {{"class_name", "Sequential"}, {"config", c}};
}

// --- Functional -----------------------------------------------------------------------

// Keras 3 node {"args": [...], "kwargs": {...}}: the __keras_tensor__ objects, in order.
void collect_keras_tensors(const json& v, json& refs, const std::string& where, const std::string& who) {
  if (v.is_array()) {
    for (const auto& e : v) collect_keras_tensors(e, refs, where, who);
    return;
  }
  if (!v.is_object()) return;
  if (!v.contains("class_name")) {  // a dict of arguments (kwargs)
    for (const auto& [k, e] : v.items()) collect_keras_tensors(e, refs, where, who);
    return;
  }
  if (v["class_name"] == "__keras_tensor__") {
    const json& h = v.contains("config") && v["config"].is_object() && v["config"].contains("keras_history")
                        ? v["config"]["keras_history"]
                        : json();
    if (!h.is_array() || h.size() != 3 || !h[0].is_string() || !h[1].is_number_integer() ||
        !h[2].is_number_integer())
      bad(where, fmt::format("{}: malformed keras_history in an inbound node: {}", who, json_preview(v)));
    refs.push_back(json::array({h[0], h[1], h[2], json::object()}));
  } else if (v["class_name"] == "__tuple__" && v.contains("config") && v["config"].is_object()) {
    collect_keras_tensors(v["config"].value("value", json::array()), refs, where, who);
  }
}

json normalize_node(const json& node, const std::string& where, const std::string& who) {
  if (node.is_array()) return node;  // Keras 1/2: [[name, node_index, tensor_index(, kwargs)], ...]
  if (!node.is_object())
    bad(where, fmt::format("{}: an inbound node must be a list or an object, received {}", who, json_preview(node)));
  // An operation's call (x + 3: keras.src.ops.numpy.Add with the arguments [x, 3.0]) has other
  // than one positional argument, constants among them: the functional reader
  // (layers/base/functional_config.cpp) takes it as it is.
  if (node.contains("args") && node["args"].is_array() && node["args"].size() != 1) return node;
  json refs = json::array();
  collect_keras_tensors(node.value("args", json::array()), refs, where, who);
  json kw_refs = json::array();
  collect_keras_tensors(node.value("kwargs", json::object()), kw_refs, where, who);
  if (!kw_refs.empty())
    bad(where, fmt::format("{}: tensors passed as keyword arguments ({}) are not supported", who,
                           json_preview(node["kwargs"])));
  return refs;
}

// input_layers / output_layers: a list of [name, node, tensor], a single unwrapped
// reference (Keras 3), or a dict of them (Keras 3 dict inputs; kept in key order).
json normalize_refs(const json& refs, const std::string& where, const char* key) {
  if (refs.is_array() && refs.size() == 3 && refs[0].is_string()) return json::array({refs});
  json out = json::array();
  auto add = [&](const json& r) {
    if (!(r.is_array() && r.size() >= 3 && r[0].is_string()))
      bad(where, fmt::format("Functional config: '{}' holds a malformed reference {}", key, json_preview(r)));
    out.push_back(json::array({r[0], r[1], r[2]}));
  };
  if (refs.is_object()) {
    for (const auto& [k, r] : refs.items()) add(r);
  } else if (refs.is_array()) {
    for (const auto& r : refs) add(r);
  } else {
    bad(where, fmt::format("Functional config: '{}' must be a list, received {}", key, json_preview(refs)));
  }
  return out;
}

json normalize_functional(const json& cc, const std::string& where) {
  const json& cfg = cc.contains("config") ? cc["config"] : json();
  if (!cfg.is_object() || !cfg.contains("layers") || !cfg["layers"].is_array())
    bad(where, fmt::format("{} config must be an object with a 'layers' list, received {}",
                           cc["class_name"].get<std::string>(), json_preview(cfg)));
  for (const char* k : {"input_layers", "output_layers"})
    if (!cfg.contains(k)) bad(where, fmt::format("Functional config has no '{}'", k));
  // Keras 3 writes every node as {"args", "kwargs"}; Keras 1/2 (and tf.keras 2.13's `.keras`, with
  // "module" wrappers) as lists. minidl's tf.keras 2 layout writes lists too, and the {"args"} form
  // only for Keras 3's operations, so one list node makes the config a Keras 2 one.
  bool keras3_marks = false, list_nodes = false;
  json layers = json::array();
  for (const auto& entry : cfg["layers"]) {
    json n = normalize_entry(entry, where);
    const json& c = n["config"];
    std::string name;
    if (entry.contains("name") && entry["name"].is_string()) {
      name = entry["name"].get<std::string>();
    } else if (c.is_object() && c.contains("name") && c["name"].is_string()) {
      name = c["name"].get<std::string>();
    } else {
      bad(where, fmt::format("Functional config: a {} layer has no name", n["class_name"].get<std::string>()));
    }
    keras3_marks = keras3_marks || entry.contains("module");
    const std::string who = fmt::format("layer '{}'", name);
    json nodes = json::array();
    if (entry.contains("inbound_nodes") && !entry["inbound_nodes"].is_null()) {
      if (!entry["inbound_nodes"].is_array())
        bad(where, fmt::format("{}: inbound_nodes must be a list, received {}", who,
                               json_preview(entry["inbound_nodes"])));
      for (const auto& node : entry["inbound_nodes"]) {
        keras3_marks = keras3_marks || node.is_object();
        list_nodes = list_nodes || node.is_array();
        nodes.push_back(normalize_node(node, where, who));
      }
    }
    n["name"] = name;
    n["inbound_nodes"] = nodes;
    layers.push_back(std::move(n));
  }
  json out = {{"layers", layers},
              {"input_layers", normalize_refs(cfg["input_layers"], where, "input_layers")},
              {"output_layers", normalize_refs(cfg["output_layers"], where, "output_layers")}};
  if (cfg.contains("name") && cfg["name"].is_string()) out["name"] = cfg["name"];
  shift_nested_model_refs(out, -1, keras3_marks && !list_nodes);
  return {{"class_name", "Functional"}, {"config", out}};
}

bool sequential_has_input(const json& config) {
  const json* layers = &config;
  if (config.is_object()) layers = config.contains("layers") ? &config["layers"] : nullptr;
  if (!layers || !layers->is_array() || layers->empty()) return false;
  const json& first = (*layers)[0];
  if (!first.is_object()) return false;
  if (first.value("class_name", json()) == "InputLayer") return true;
  return first.contains("config") && has_input_spec(first["config"]);
}

}  // namespace

bool is_model_class(const std::string& c) { return c == "Sequential" || c == "Functional" || c == "Model"; }

void shift_nested_model_refs(json& cfg, int delta, bool keras3) {
  if (!cfg.is_object() || !cfg.contains("layers") || !cfg["layers"].is_array()) return;
  std::set<std::string> models;
  for (const auto& e : cfg["layers"]) {
    if (!e.is_object() || !e.contains("class_name") || !e["class_name"].is_string() || !e.contains("name") ||
        !e["name"].is_string())
      continue;
    const std::string cls = e["class_name"].get<std::string>();
    const bool counts_own_node =
        cls == "Functional" || cls == "Model" ||
        (cls == "Sequential" && !keras3 && sequential_has_input(e.value("config", json())));
    if (counts_own_node) models.insert(e["name"].get<std::string>());
  }
  if (models.empty()) return;
  // Every reference, wherever it sits: the layers' inbound nodes, then input_layers/output_layers.
  // Keras 3 counts a nested Functional model's own node in input_layers/output_layers only: its
  // inbound nodes name the calls as they are (models/functional.py serialize_node), so there they
  // are shifted only as the files minidl wrote before did, with no reference at index 0.
  std::vector<json*> refs;
  for (auto& e : cfg["layers"]) {
    if (!e.is_object() || !e.contains("inbound_nodes") || !e["inbound_nodes"].is_array()) continue;
    for (auto& node : e["inbound_nodes"]) {
      if (node.is_array()) {
        for (auto& r : node) refs.push_back(&r);
      } else if (node.is_object() && node.contains("args") && node["args"].is_array()) {
        // An operation's call: the keras_history of each __keras_tensor__ argument.
        for (auto& a : node["args"])
          if (a.is_object() && a.value("class_name", json()) == "__keras_tensor__" && a.contains("config") &&
              a["config"].is_object() && a["config"].contains("keras_history"))
            refs.push_back(&a["config"]["keras_history"]);
      }
    }
  }
  const size_t node_refs = refs.size();
  for (const char* k : {"input_layers", "output_layers"})
    if (cfg.contains(k) && cfg[k].is_array())
      for (auto& r : cfg[k]) refs.push_back(&r);
  auto well_formed = [](const json* r) {
    return r->is_array() && r->size() >= 3 && (*r)[0].is_string() && (*r)[1].is_number_integer();
  };
  // Going down, a model referenced at index 0 already counts from 0: leave it alone.
  std::set<std::string> skip;
  for (size_t i = 0; i < refs.size(); ++i)
    if ((!keras3 || i < node_refs) && well_formed(refs[i]) && (*refs[i])[1].get<int64_t>() + delta < 0)
      skip.insert((*refs[i])[0].get<std::string>());
  for (size_t i = 0; i < refs.size(); ++i) {
    json& r = *refs[i];
    if (!well_formed(&r) || !models.count(r[0].get<std::string>())) continue;
    const bool model_ref = keras3 && i >= node_refs;
    if ((model_ref || !skip.count(r[0].get<std::string>())) && r[1].get<int64_t>() + delta >= 0)
      r[1] = r[1].get<int64_t>() + delta;
  }
}

json normalize_config(const json& cc, const std::string& where) {
  const std::string cls = class_name_of(cc, where).get<std::string>();
  if (cls == "Sequential") return normalize_sequential(cc, where);
  if (cls == "Functional" || cls == "Model") return normalize_functional(cc, where);
  return normalize_layer(cc, where);
}

}  // namespace minidl::keras_io
