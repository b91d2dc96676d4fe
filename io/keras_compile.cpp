// training_config (Keras 1/2, tf.keras, Keras 3 legacy h5) and compile_config (Keras 3
// .keras / to_json) -> ModelImpl::compile. A file whose training setup minidl cannot
// reproduce still loads: the model is returned uncompiled with a warning, since the
// architecture and weights are what inference needs.
#include "core/errors.h"
#include "core/logging.h"
#include "io/keras_internal.h"

namespace minidl::keras_io {
namespace {

// A loss identifier in any of the serialized forms Keras writes.
LossPtr loss_from(const json& v) {
  if (v.is_string()) return get_loss(v.get<std::string>());
  // One output: Keras may still wrap the loss in a one-element list or {output_name: loss}.
  if (v.is_array() && v.size() == 1) return loss_from(v[0]);
  if (v.is_object() && v.size() == 1 && !v.contains("class_name")) return loss_from(v.begin().value());
  if (v.is_object() && v.contains("class_name") && v["class_name"].is_string()) {
    const std::string cls = v["class_name"].get<std::string>();
    const json c = v.contains("config") ? v["config"] : json::object();
    if (cls == "function" && c.is_string()) return get_loss(c.get<std::string>());  // Keras 3 builtins
    const bool logits = c.is_object() && c.value("from_logits", false);
    if (cls == "CategoricalCrossentropy") return CategoricalCrossentropy(logits);
    if (cls == "SparseCategoricalCrossentropy") return SparseCategoricalCrossentropy(logits);
    if (cls == "BinaryCrossentropy") return BinaryCrossentropy(logits);
    if (cls == "Huber") return Huber(c.is_object() ? c.value("delta", 1.0) : 1.0);
    return get_loss(cls);
  }
  raise<ValueError>("loss {} is not supported (minidl models have one output and one loss)", preview(v));
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
    logger()->warn("{}: expected a JSON object, found {}; the model is loaded uncompiled", where, preview(tc));
    return;
  }
  const json opt = tc.contains("optimizer_config") ? tc["optimizer_config"] : tc.value("optimizer", json());
  OptimizerPtr optimizer;
  LossPtr loss;
  try {
    if (opt.is_string()) {
      optimizer = get_optimizer(opt.get<std::string>());
    } else {
      optimizer = optimizer_from_config(opt);
    }
  } catch (const std::exception& e) {
    logger()->warn("{}: optimizer {} is not supported ({}); the model is loaded uncompiled", where, preview(opt),
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
    const std::string name = metric_name(m);
    try {
      get_metric(name, loss->name());
      metrics.emplace_back(name);
    } catch (const std::exception& e) {
      logger()->warn("{}: metric {} is not supported and is dropped ({})", where, preview(m), e.what());
    }
  }
  try {
    model.compile(optimizer, loss, metrics);
  } catch (const std::exception& e) {
    logger()->warn("{}: compile failed ({}); the model is loaded uncompiled", where, e.what());
  }
}

}  // namespace minidl::keras_io
