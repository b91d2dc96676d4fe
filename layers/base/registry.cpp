// layers/base/registry.cpp — the layer registry, layer_from_config and serialize_layer.
#include "layers/base/registry.h"

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "layers/base/json_text.h"

namespace minidl {

LayerRegistry& LayerRegistry::instance() {
  static LayerRegistry r;
  return r;
}

void LayerRegistry::add(const std::string& class_name, LayerFactory factory, const std::vector<std::string>& aliases) {
  auto put = [&](const std::string& n) {
    for (auto& e : entries_)
      if (e.first == n) {
        e.second = factory;
        return;
      }
    entries_.emplace_back(n, factory);
  };
  put(class_name);
  for (const auto& a : aliases) put(a);
}

bool LayerRegistry::contains(const std::string& class_name) const {
  for (const auto& e : entries_)
    if (e.first == class_name) return true;
  return false;
}

LayerPtr LayerRegistry::create(const std::string& class_name, const json& config) const {
  for (const auto& e : entries_)
    if (e.first == class_name) return e.second(config);
  raise<ValueError>(
      "Unknown layer: '{}'. minidl has no layer of that class; register one with "
      "LayerRegistry::instance().add(\"{}\", factory) or MINIDL_REGISTER_LAYER",
      class_name, class_name);
}

std::vector<std::string> LayerRegistry::class_names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.first);
  return out;
}

LayerPtr layer_from_config(const json& cc) {
  MINIDL_CHECK(cc.is_object() && cc.contains("class_name") && cc["class_name"].is_string(), ValueError,
               "a layer must be serialized as {{\"class_name\": ..., \"config\": ...}}, received {}",
               json_preview(cc));
  const std::string cls = cc["class_name"].get<std::string>();
  const json config = cc.contains("config") ? cc["config"] : json::object();
  return LayerRegistry::instance().create(cls, config);
}

json serialize_layer(const Layer& layer) { return {{"class_name", layer.class_name()}, {"config", layer.get_config()}}; }

LayerOptions common_options_from_config(const ConfigReader& r) {
  LayerOptions o;
  o.name = r.str("name", "");
  o.trainable = r.boolean("trainable", true);
  o.dtype = r.dtype();
  if (r.has("batch_input_shape")) {
    o.batch_input_shape = r.shape("batch_input_shape");
  } else if (r.has("batch_shape")) {
    o.batch_input_shape = r.shape("batch_shape");
  } else if (r.has("input_shape")) {
    o.input_shape = r.shape("input_shape");
    if (r.has("batch_size")) o.batch_size = r.integer("batch_size");
  }
  if (r.has("activity_regularizer")) o.activity_regularizer = get_regularizer(r.raw("activity_regularizer"));
  return o;
}

}  // namespace minidl
