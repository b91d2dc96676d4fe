// io/keras3_config.cpp — minidl model -> the config.json Keras 3 writes into `.keras`: every object wrapped as
// {"module", "class_name", "config", "registered_name"}, dtypes as DTypePolicy, inputs as
// batch_shape, inbound nodes as {"args": [__keras_tensor__ ...], "kwargs": {}}, plus
// build_config per layer and compile_config when compiled. Layer configs start from the
// Keras 2 form minidl produces; the few arguments Keras 3 renamed or dropped are adjusted.
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "io/keras_internal.h"
#include "layers/base/functional.h"
#include "layers/base/positional_args.h"
#include "layers/base/registry.h"

namespace minidl::keras_io {
namespace {

json wrapped(const char* module, const json& class_name, const json& config) {
  return {{"module", module}, {"class_name", class_name}, {"config", config}, {"registered_name", nullptr}};
}

json dtype_policy(const json& name) { return wrapped("keras", "DTypePolicy", {{"name", name}}); }

// A model entry. Keras 3 exports Sequential as keras.Sequential, but not Functional: its files
// name that class by its source module and register it by name, and Keras's reader finds it
// only so.
json wrapped_model(const json& class_name, const json& config) {
  if (class_name != "Functional") return wrapped("keras", class_name, config);
  json out = wrapped("keras.src.models.functional", class_name, config);
  out["registered_name"] = class_name;
  return out;
}

json wrap_part(const json& v, const char* module) {
  if (v.is_object() && v.contains("class_name") && !v.contains("module"))
    return wrapped(module, v["class_name"], v.contains("config") ? v["config"] : json::object());
  return v;
}

// An activation as Keras 3 names it. Keras 3's "hard_sigmoid" is minidl's keras3_hard_sigmoid; the
// tf.keras 2 hard_sigmoid, clip(0.2 x + 0.5, 0, 1), has no Keras 3 name, so it cannot be written.
json keras3_activation_name(const json& activation, const json& layer_config) {
  if (activation == "keras3_hard_sigmoid") return "hard_sigmoid";
  if (activation == "hard_sigmoid")
    raise<ValueError>(
        "layer '{}': activation 'hard_sigmoid' is the tf.keras 2 function clip(0.2 * x + 0.5, 0, 1), which Keras 3 "
        "cannot express (its 'hard_sigmoid' is relu6(x + 3) / 6, minidl's 'keras3_hard_sigmoid'); save the model "
        "as .h5 instead",
        layer_config.value("name", std::string("?")));
  return activation;
}

json keras3_layer_config(const std::string& cls, json c) {
  if (cls == "InputLayer") {
    if (c.contains("batch_input_shape")) {
      c["batch_shape"] = c["batch_input_shape"];
      c.erase("batch_input_shape");
    }
    return c;
  }
  // Keras 3 layers take no batch_input_shape; a Sequential/Functional lists its InputLayer.
  c.erase("batch_input_shape");
  if (c.contains("activation")) c["activation"] = keras3_activation_name(c["activation"], c);
  // minidl's configs hold the tf.keras 2 form: a dtype name, or {"class_name": "Policy", "config": {"name"}}
  // for a mixed policy; Keras 3 writes every policy as a DTypePolicy.
  if (c.contains("dtype") && c["dtype"].is_string()) c["dtype"] = dtype_policy(c["dtype"]);
  if (c.contains("dtype") && c["dtype"].is_object() && c["dtype"].value("class_name", "") == "Policy")
    c["dtype"] = dtype_policy(c["dtype"]["config"]["name"]);
  for (auto& [k, v] : c.items()) {
    if (ends_with(k, "_initializer")) v = wrap_part(v, "keras.initializers");
    if (ends_with(k, "_regularizer")) v = wrap_part(v, "keras.regularizers");
    if (ends_with(k, "_constraint")) v = wrap_part(v, "keras.constraints");
  }
  if (cls == "BatchNormalization") {
    if (c.contains("axis") && c["axis"].is_array() && c["axis"].size() == 1) c["axis"] = c["axis"][0];
    for (const char* k : {"renorm", "renorm_clipping", "renorm_momentum", "fused", "virtual_batch_size", "adjustment"})
      c.erase(k);
  }
  if (cls == "Normalization") {
    // Keras 3 writes every argument; the tf.keras 2 form leaves defaults out.
    if (!c.contains("invert")) c["invert"] = false;
    for (const char* k : {"mean", "variance"})
      if (!c.contains(k)) c[k] = nullptr;
  }
  return c;
}

json build_config(const Layer& l) {
  try {
    const auto shapes = l.get_input_shapes_at(0);
    if (shapes.size() == 1) return {{"input_shape", shape_to_json(shapes[0])}};
  } catch (const std::exception&) {
  }
  return nullptr;
}

json model_config(const FunctionalImpl& m);

json serialize(const Layer& l) {
  json out;
  if (const auto* f = dynamic_cast<const FunctionalImpl*>(&l)) {
    out = wrapped_model(l.class_name(), model_config(*f));
  } else if (dynamic_cast<const PositionalArgsLayer*>(&l)) {
    // An operation (x + 3): Keras writes its module, its class as registered_name, no build_config.
    out = wrapped(kKerasNumpyOpsModule, l.class_name(), l.get_config());
    out["registered_name"] = l.class_name();
    return out;
  } else if (l.class_name() == "LayerScale") {
    // ConvNeXt's own layer: Keras registers it in its application module, by its class name.
    out = wrapped("keras.src.applications.convnext", l.class_name(),
                  keras3_layer_config(l.class_name(), l.get_config()));
    out["registered_name"] = l.class_name();
  } else {
    out = wrapped("keras.layers", l.class_name(), keras3_layer_config(l.class_name(), l.get_config()));
  }
  if (l.class_name() != "InputLayer") {
    const json bc = build_config(l);
    if (!bc.is_null()) out["build_config"] = bc;
  }
  return out;
}

// A reference [name, node, tensor] of the minidl config -> a __keras_tensor__.
json keras_tensor(const FunctionalImpl& m, const json& ref) {
  json shape = nullptr;
  try {
    const LayerPtr p = m.get_layer(ref[0].get<std::string>());
    const int ni = ref[1].get<int>(), ti = ref[2].get<int>();
    // A nested model's node 0 is its own; calls inside this model come after it.
    const int actual = dynamic_cast<const FunctionalImpl*>(p.get()) ? ni + 1 : ni;
    shape = shape_to_json(p->get_output_shapes_at(actual).at(static_cast<size_t>(ti)));
  } catch (const std::exception&) {
  }
  return {{"class_name", "__keras_tensor__"},
          {"config", {{"shape", shape}, {"dtype", "float32"}, {"keras_history", json::array({ref[0], ref[1], ref[2]})}}}};
}

json model_config(const FunctionalImpl& m) {
  json out = {{"name", m.name()}, {"trainable", m.trainable()}};
  json layers = json::array();
  if (m.class_name() == "Sequential") {
    out["dtype"] = dtype_policy("float32");
    if (!m.inputs().empty()) layers.push_back(serialize(*m.inputs()[0].layer()));
    for (const auto& l : m.layers()) layers.push_back(serialize(*l));
    out["layers"] = layers;
    if (!m.inputs().empty()) out["build_input_shape"] = shape_to_json(m.inputs()[0].shape());
    return out;
  }
  json base = m.get_config();
  // Shapes are looked up with minidl's node indices, before output_layers are shifted.
  std::vector<json> node_args;
  for (const auto& e : base["layers"]) {
    json nodes = json::array();
    for (const auto& node : e["inbound_nodes"]) {
      if (node.is_object()) {  // an operation's call, already in Keras 3's form
        nodes.push_back(node);
        continue;
      }
      json tensors = json::array();
      for (const auto& r : node) tensors.push_back(keras_tensor(m, r));
      nodes.push_back(tensors);
    }
    node_args.push_back(nodes);
  }
  // Keras 3 names a nested Functional model's calls as they are in inbound nodes (minidl's indices),
  // and counts its own node in input_layers/output_layers (models/functional.py get_config).
  for (const char* k : {"input_layers", "output_layers"})
    for (auto& r : base[k]) {
      const std::string cls = m.get_layer(r[0].get<std::string>())->class_name();
      if (cls == "Functional" || cls == "Model") r[1] = r[1].get<int>() + 1;
    }
  size_t i = 0;
  for (const auto& e : base["layers"]) {
    json entry = serialize(*m.get_layer(e["name"].get<std::string>()));
    entry["name"] = e["name"];
    json nodes = json::array();
    for (size_t n = 0; n < e["inbound_nodes"].size(); ++n) {
      if (e["inbound_nodes"][n].is_object()) {
        nodes.push_back(node_args[i][n]);
        continue;
      }
      const json& tensors = node_args[i][n];
      nodes.push_back({{"args", tensors.size() == 1 ? json::array({tensors[0]}) : json::array({tensors})},
                       {"kwargs", json::object()}});
    }
    entry["inbound_nodes"] = nodes;
    layers.push_back(entry);
    ++i;
  }
  out["layers"] = layers;
  // Keras 3 writes the structure the model was called with: Model(inputs=x, outputs=y) gives a
  // bare ["name", 0, 0], a list of tensors a list of them. A single input or output is written bare,
  // so Keras's model of a minidl file returns an array from predict, not a one-element list.
  for (const char* k : {"input_layers", "output_layers"})
    out[k] = base[k].size() == 1 ? base[k][0] : base[k];
  return out;
}

json compile_config(const ModelImpl& m) {
  const json tc = m.training_config();
  json opt = tc["optimizer_config"];
  json oc = opt["config"];
  oc.erase("decay");  // Keras 3 ignores it with a warning
  if (oc.contains("learning_rate")) oc["learning_rate"] = wrap_part(oc["learning_rate"], "keras.optimizers.schedules");
  return {{"optimizer", wrapped("keras.optimizers", opt["class_name"], oc)},
          // compile()'s loss and metrics as given: a loss name stays the name, metric
          // objects keep their arguments.
          {"loss", keras3_compiled_loss(m)},
          {"loss_weights", nullptr},
          {"metrics", keras3_compiled_metrics(m)},
          {"weighted_metrics", nullptr},
          {"run_eagerly", false},
          {"steps_per_execution", 1},
          {"jit_compile", false}};
}

}  // namespace

json keras3_model_config(const ModelImpl& model) {
  json out = wrapped_model(model.class_name(), model_config(model));
  if (!model.inputs().empty() && model.inputs().size() == 1)
    out["build_config"] = {{"input_shape", shape_to_json(model.inputs()[0].shape())}};
  if (model.compiled()) out["compile_config"] = compile_config(model);
  return out;
}

}  // namespace minidl::keras_io
