// io/keras_compile.cpp — training_config (Keras 1/2, tf.keras, Keras 3 legacy h5) and compile_config (Keras 3
// .keras / to_json) -> ModelImpl::compile. A file whose training setup minidl cannot
// reproduce still loads: the model is returned uncompiled with a warning, since the
// architecture and weights are what inference needs.
//
// And the other way: the training_config tf.keras 2.4 writes for model.save
// (Model._get_compile_args + optimizer_config, see keras2_training_config), and the loss and
// metrics of Keras 3's compile_config. Both keep compile()'s arguments as given: a loss name
// stays that name ("mse"), a metric object keeps its arguments (k).
#include <nlohmann/json.hpp>

#include <optional>

#include "core/errors.h"
#include "core/logging.h"
#include "io/keras_internal.h"

namespace minidl::keras_io {
namespace {

// A loss identifier in any of the serialized forms Keras writes. A name stays a name, so the
// model saves it back as given ("mse").
LossArg loss_from(const json& v) {
  if (v.is_string()) {
    get_loss(v.get<std::string>());  // ValueError for an unknown name, before compile()
    return v.get<std::string>();
  }
  // One output: Keras may still wrap the loss in a one-element list or {output_name: loss}.
  if (v.is_array() && v.size() == 1) return loss_from(v[0]);
  if (v.is_object() && v.size() == 1 && !v.contains("class_name")) return loss_from(v.begin().value());
  if (v.is_object() && v.contains("class_name") && v["class_name"].is_string()) {
    const std::string cls = v["class_name"].get<std::string>();
    const json c = v.contains("config") ? v["config"] : json::object();
    if (cls == "function" && c.is_string()) return loss_from(c);  // Keras 3 builtins
    const bool logits = c.is_object() && c.value("from_logits", false);
    if (cls == "CategoricalCrossentropy") return CategoricalCrossentropy(logits);
    if (cls == "SparseCategoricalCrossentropy") return SparseCategoricalCrossentropy(logits);
    if (cls == "BinaryCrossentropy") return BinaryCrossentropy(logits);
    if (cls == "Huber") return Huber(c.is_object() ? c.value("delta", 1.0) : 1.0);
    return get_loss(cls);
  }
  raise<ValueError>("loss {} is not supported (minidl models have one output and one loss)", json_preview(v));
}

// A metric's Keras name from a string or a serialized metric object; "" when unreadable.
std::string metric_name(const json& m) {
  if (m.is_string()) return m.get<std::string>();
  if (!m.is_object()) return "";
  const json c = m.contains("config") ? m["config"] : json();
  if (c.is_object()) {
    if (c.contains("fn") && c["fn"].is_string()) return c["fn"].get<std::string>();  // MeanMetricWrapper
    if (c.contains("name") && c["name"].is_string()) return c["name"].get<std::string>();
  }
  if (c.is_string()) return c.get<std::string>();
  return m.contains("class_name") && m["class_name"].is_string() ? m["class_name"].get<std::string>() : "";
}

// A serialized metric class that takes arguments, restored as an object (train/metrics.h).
bool is_metric_object(const json& m) {
  if (!m.is_object() || !m.contains("class_name") || !m["class_name"].is_string()) return false;
  const std::string cls = m["class_name"].get<std::string>();
  return cls == "TopKCategoricalAccuracy" || cls == "SparseTopKCategoricalAccuracy";
}

void collect_metrics(const json& v, std::vector<json>& out) {
  if (v.is_array()) {
    for (const auto& e : v) collect_metrics(e, out);
  } else if (v.is_object() && !v.contains("class_name")) {
    for (const auto& [k, e] : v.items()) collect_metrics(e, out);  // {output_name: [...]}
  } else if (!v.is_null()) {
    out.push_back(v);
  }
}

}  // namespace

void compile_from_training_config(ModelImpl& model, const json& tc, const std::string& where) {
  if (!tc.is_object()) {
    logger()->warn("{}: expected a JSON object, found {}; the model is loaded uncompiled", where, json_preview(tc));
    return;
  }
  const json opt = tc.contains("optimizer_config") ? tc["optimizer_config"] : tc.value("optimizer", json());
  OptimizerPtr optimizer;
  std::optional<LossArg> loss;
  try {
    if (opt.is_string()) {
      optimizer = get_optimizer(opt.get<std::string>());
    } else {
      optimizer = optimizer_from_config(opt);
    }
  } catch (const std::exception& e) {
    logger()->warn("{}: optimizer {} is not supported ({}); the model is loaded uncompiled", where, json_preview(opt),
                   e.what());
    return;
  }
  try {
    loss = loss_from(tc.value("loss", json()));
  } catch (const std::exception& e) {
    logger()->warn("{}: {}; the model is loaded uncompiled", where, e.what());
    return;
  }
  std::vector<json> raw;
  collect_metrics(tc.value("metrics", json()), raw);
  std::vector<MetricArg> metrics;
  for (const auto& m : raw) {
    try {
      if (is_metric_object(m)) {
        metrics.emplace_back(metric_from_config(m));  // keeps its arguments (k)
      } else {
        const std::string name = metric_name(m);
        get_metric(name);
        metrics.emplace_back(name);
      }
    } catch (const std::exception& e) {
      logger()->warn("{}: metric {} is not supported and is dropped ({})", where, json_preview(m), e.what());
    }
  }
  try {
    model.compile(optimizer, *loss, metrics);
  } catch (const std::exception& e) {
    logger()->warn("{}: compile failed ({}); the model is loaded uncompiled", where, e.what());
  }
}

void compile_from_compile_config(ModelImpl& model, const json& config, const std::string& where,
                                 const char* left_as) {
  if (!config.is_object() || !config.contains("compile_config") || !config["compile_config"].is_object()) return;
  // Keras 3 writes an empty compile_config for a model that was never compiled.
  if (config["compile_config"].empty()) return;
  try {
    compile_from_training_config(model, config["compile_config"], where + ": compile_config");
  } catch (const std::exception& e) {
    logger()->warn("{}; the model is {} uncompiled", e.what(), left_as);
  }
}

json keras_loss_identifier(const Loss& loss) {
  const json config = loss.get_config();
  // The Keras defaults of the loss classes' arguments: a loss that keeps them all is the
  // plain function name, exactly what compile("categorical_crossentropy") leaves behind.
  static const json defaults = {{"from_logits", false}, {"label_smoothing", 0.0}, {"delta", 1.0}, {"axis", -1}};
  bool plain = true;
  for (const auto& [k, v] : config.items()) {
    if (k == "name" || k == "reduction") continue;
    if (!defaults.contains(k) || v != defaults[k]) plain = false;
  }
  if (plain) return loss.name();
  json c = config;
  // tf.keras 2 writes "auto", which Keras 3 rejects (standardize_reduction);
  // sum_over_batch_size means the same in both and both accept it.
  c["reduction"] = "sum_over_batch_size";
  return {{"class_name", loss.class_name()}, {"config", c}};
}

namespace {

// compile()'s loss argument as Keras serializes it: the name it was given ("mse"), or the
// loss object (keras_loss_identifier) when it was given one.
json compiled_loss(const ModelImpl& model, const json& training_config) {
  const json& given = training_config["loss"];
  if (!model.loss()) return given;
  if (given.is_string() && given.get<std::string>() != model.loss()->name()) return given;
  return keras_loss_identifier(*model.loss());
}

// A {"class_name", "config"} object as Keras 3's serialize_keras_object writes a public class.
json keras3_object(const json& class_and_config, const char* module) {
  if (!class_and_config.is_object()) return class_and_config;
  json out = class_and_config;
  out["module"] = module;
  out["registered_name"] = nullptr;
  return out;
}

}  // namespace

json keras3_compiled_loss(const ModelImpl& model) {
  return keras3_object(compiled_loss(model, model.training_config()), "keras.losses");
}

json keras3_compiled_metrics(const ModelImpl& model) {
  const json given = model.training_config()["metrics"];
  if (given.empty()) return nullptr;
  json out = json::array();
  for (const json& m : given) out.push_back(keras3_object(m, "keras.metrics"));
  return out;
}

ordered_json keras2_training_config(const ModelImpl& model) {
  const json tc = model.training_config();  // RuntimeError when not compiled
  // tf.keras 2.4 Adam/SGD/... get_config order: name, learning_rate, decay, then the
  // optimizer's own keys in constructor order (one list serves all of them).
  static const char* const kOrder[] = {"name", "learning_rate", "decay",   "rho",      "initial_accumulator_value",
                                       "beta_1", "beta_2",      "momentum", "epsilon", "nesterov",
                                       "amsgrad", "centered"};
  const json& oc = tc["optimizer_config"]["config"];
  ordered_json opt_config = ordered_json::object();
  for (const char* k : kOrder)
    if (oc.contains(k)) opt_config[k] = oc[k];
  for (const auto& [k, v] : oc.items())
    if (!opt_config.contains(k)) opt_config[k] = v;
  // Model._get_compile_args: the user's metrics, None when compile() had none.
  const json& metrics = tc["metrics"];
  ordered_json out = ordered_json::object();
  out["loss"] = ordered_json(compiled_loss(model, tc));
  out["metrics"] = metrics.is_array() && metrics.empty() ? ordered_json() : ordered_json(metrics);
  out["weighted_metrics"] = nullptr;
  out["loss_weights"] = nullptr;
  out["optimizer_config"] = {{"class_name", tc["optimizer_config"]["class_name"]}, {"config", opt_config}};
  return out;
}

}  // namespace minidl::keras_io
