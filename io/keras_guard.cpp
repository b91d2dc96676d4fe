// io/keras_guard.cpp — the weight budget of a model config, checked before the model is built: building
// allocates every weight at once (Layer::add_weight), so a hostile config asking for a
// Dense of 10^12 units must be refused here, not discovered by the allocator. Shapes
// come from the layers' own compute_output_shape on unbuilt layers (no weights), so the
// estimate follows the real graph; nested models are walked from their configs and never
// constructed here (constructing one would build it).
#include <nlohmann/json.hpp>

#include <map>
#include <optional>

#include "core/errors.h"
#include "io/keras_internal.h"
#include "io/keras_model.h"
#include "layers/base/registry.h"

namespace minidl::keras_io {
namespace {

using Shapes = std::vector<Shape>;

// Product of a number or list of numbers (kernel_size 3 or [3, 3]); 1 for anything else.
double size_of(const json& c, const char* key, double fallback = 1) {
  if (!c.is_object() || !c.contains(key)) return fallback;
  const json& v = c[key];
  if (v.is_number()) return std::max(0.0, v.get<double>());
  if (v.is_array()) {
    double p = 1;
    for (const auto& e : v) p *= e.is_number() ? std::max(0.0, e.get<double>()) : 1.0;
    return p;
  }
  return fallback;
}

double dim(int64_t d) { return d > 0 ? static_cast<double>(d) : 1.0; }

double per_sample(const Shape& s) {
  double p = 1;
  for (size_t i = 1; i < s.size(); ++i) p *= dim(s[i]);
  return p;
}

// An upper bound of the weights a layer of class `cls` builds for input shapes `in`.
double layer_weights(const std::string& cls, const json& c, const Shapes& in) {
  if (in.empty() || in[0].empty()) return 0;
  const Shape& s = in[0];
  const bool first = c.is_object() && c.value("data_format", json()) == "channels_first";
  const double ch = first && s.size() > 1 ? dim(s[1]) : dim(s.back());
  const double k = size_of(c, "kernel_size");
  if (cls == "Dense") return dim(s.back()) * size_of(c, "units") + size_of(c, "units");
  if (cls == "Conv2D" || cls == "Conv1D" || cls == "Conv3D")
    return k * ch * size_of(c, "filters") + size_of(c, "filters");
  if (cls == "Conv2DTranspose") return k * ch * size_of(c, "filters") + size_of(c, "filters");
  if (cls == "DepthwiseConv2D") return (k + 1) * ch * size_of(c, "depth_multiplier");
  if (cls == "SeparableConv2D") {
    const double dm = size_of(c, "depth_multiplier"), f = size_of(c, "filters");
    return k * ch * dm + ch * dm * f + f;
  }
  if (cls == "BatchNormalization" || cls == "LayerNormalization") return 4 * per_sample(s);
  if (cls == "PReLU") return per_sample(s);
  return 0;
}

class Walker {
 public:
  explicit Walker(std::string where) : where_(std::move(where)) {}

  // Output shapes of a model config, given the shapes of its inputs when known.
  Shapes walk(const json& cc, const Shapes* given) {
    const json& cfg = cc.contains("config") ? cc["config"] : json();
    if (cc.value("class_name", json()) == "Sequential") return sequential(cfg, given);
    return functional(cfg);
  }

 private:
  void add(double n, const std::string& layer) {
    total_ += n;
    if (total_ > static_cast<double>(kMaxKerasModelParams))
      raise<ValueError>(
          "{}: the model would hold more than {} weights (about {:.3g} when layer '{}' is built); refusing to "
          "allocate it",
          where_, kMaxKerasModelParams, total_, layer);
  }

  // An unbuilt layer, or null when the real build will report why it cannot be made.
  static LayerPtr make(const json& entry) {
    json e = {{"class_name", entry["class_name"]}, {"config", entry.value("config", json::object())}};
    if (e["config"].is_object() && !e["config"].contains("name")) e["config"]["name"] = "minidl_budget_probe";
    try {
      return layer_from_config(e);
    } catch (const std::exception&) {
      return nullptr;
    }
  }

  static std::string name_of(const json& entry) {
    if (entry.contains("name") && entry["name"].is_string()) return entry["name"].get<std::string>();
    const json& c = entry.value("config", json::object());
    return c.is_object() && c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : "?";
  }

  // Counts the layer's weights once and returns its output shapes (empty when unknown).
  Shapes step(const json& entry, const LayerPtr& layer, const Shapes& in, bool first_call) {
    const std::string cls = entry["class_name"].get<std::string>();
    if (first_call) add(layer_weights(cls, entry.value("config", json::object()), in), name_of(entry));
    try {
      return layer->compute_output_shape(in);
    } catch (const std::exception&) {
      return {};
    }
  }

  Shapes sequential(const json& cfg, const Shapes* given) {
    const json& layers = cfg.is_object() ? cfg.value("layers", json::array()) : cfg;
    if (!layers.is_array()) return {};
    std::optional<Shape> cur;
    if (given && given->size() == 1) cur = (*given)[0];
    for (const auto& entry : layers) {
      if (!entry.is_object() || !entry.contains("class_name") || !entry["class_name"].is_string()) return {};
      if (is_model_class(entry["class_name"].get<std::string>())) {
        Shapes in;
        if (cur) in.push_back(*cur);
        Shapes out = walk(entry, cur ? &in : nullptr);
        cur = out.size() == 1 ? std::optional<Shape>(out[0]) : std::nullopt;
        continue;
      }
      LayerPtr layer = make(entry);
      if (!layer) return {};
      if (!cur && layer->batch_input_shape()) cur = *layer->batch_input_shape();
      if (entry["class_name"] == "InputLayer" || !cur) continue;
      Shapes out = step(entry, layer, {*cur}, true);
      cur = out.size() == 1 ? std::optional<Shape>(out[0]) : std::nullopt;
    }
    return cur ? Shapes{*cur} : Shapes{};
  }

  Shapes functional(const json& cfg) {
    if (!cfg.is_object() || !cfg.contains("layers") || !cfg["layers"].is_array()) return {};
    struct Entry {
      const json* json_entry;
      LayerPtr layer;  // null for nested models
      std::string name;
      size_t next = 0;
    };
    std::map<std::string, Entry> entries;
    std::vector<Entry*> order;
    std::map<std::pair<std::string, int64_t>, Shapes> produced;
    for (const auto& e : cfg["layers"]) {
      if (!e.is_object() || !e.contains("class_name") || !e["class_name"].is_string()) return {};
      const std::string name = name_of(e);
      Entry entry{&e, nullptr, name, 0};
      if (!is_model_class(e["class_name"].get<std::string>())) {
        entry.layer = make(e);
        if (!entry.layer) return {};
        if (e["class_name"] == "InputLayer" && entry.layer->batch_input_shape())
          produced[{name, 0}] = {*entry.layer->batch_input_shape()};
      }
      Entry& stored = entries[name] = std::move(entry);
      order.push_back(&stored);
    }
    // Each layer's nodes in config order, each as soon as its inputs have shapes: a node
    // whose input is missing waits on that input and is taken up again when it appears, so
    // the walk is linear in nodes however the layers are ordered. Malformed references and
    // shapes never produced leave the node (and the estimate past it) out.
    static const json kNoNodes = json::array();
    std::map<std::pair<std::string, int64_t>, std::vector<Entry*>> waiting;
    for (size_t q = 0; q < order.size(); ++q) {
      Entry& en = *order[q];
      const auto found = en.json_entry->find("inbound_nodes");
      const json& nodes = found != en.json_entry->end() ? *found : kNoNodes;
      if (!nodes.is_array()) continue;
      while (en.next < nodes.size()) {
        Shapes in;
        bool ready = nodes[en.next].is_array();
        for (const auto& r : ready ? nodes[en.next] : kNoNodes) {
          if (!r.is_array() || r.size() < 3 || !r[0].is_string() || !r[1].is_number_integer() ||
              !r[2].is_number_integer()) {
            ready = false;
            break;
          }
          std::pair<std::string, int64_t> key{r[0].get<std::string>(), r[1].get<int64_t>()};
          auto it = produced.find(key);
          if (it == produced.end()) {
            waiting[std::move(key)].push_back(&en);
            ready = false;
            break;
          }
          const int64_t t = r[2].get<int64_t>();
          if (t < 0 || t >= static_cast<int64_t>(it->second.size())) {
            ready = false;
            break;
          }
          in.push_back(it->second[t]);
        }
        if (!ready) break;
        const bool first = en.next == 0;
        Shapes out;
        if (en.layer) {
          out = step(*en.json_entry, en.layer, in, first);
        } else if (first) {
          out = walk(*en.json_entry, &in);
        }
        std::pair<std::string, int64_t> made{en.name, static_cast<int64_t>(en.next)};
        produced[made] = out;
        ++en.next;
        if (auto w = waiting.find(made); w != waiting.end()) {
          order.insert(order.end(), w->second.begin(), w->second.end());
          waiting.erase(w);
        }
      }
    }
    Shapes outs;
    const json refs = cfg.value("output_layers", json::array());
    for (const auto& r : refs.is_array() ? refs : json::array()) {
      if (!r.is_array() || r.size() < 3 || !r[0].is_string() || !r[1].is_number_integer()) return {};
      auto it = produced.find({r[0].get<std::string>(), r[1].get<int64_t>()});
      const int64_t t = r[2].is_number_integer() ? r[2].get<int64_t>() : 0;
      if (it == produced.end() || t < 0 || t >= static_cast<int64_t>(it->second.size())) return {};
      outs.push_back(it->second[t]);
    }
    return outs;
  }

  std::string where_;
  double total_ = 0;
};

}  // namespace

void check_weight_budget(const json& normalized, const std::string& where) {
  if (!normalized.is_object() || !normalized.contains("class_name") || !normalized["class_name"].is_string() ||
      !is_model_class(normalized["class_name"].get<std::string>()))
    return;
  Walker(where).walk(normalized, nullptr);
}

}  // namespace minidl::keras_io
