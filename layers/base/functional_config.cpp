// layers/base/functional_config.cpp — FunctionalImpl's Keras config: get_config, graph_from_config, nesting limit.
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/errors.h"
#include "core/message.h"
#include "layers/base/config_utils.h"
#include "layers/base/functional.h"
#include "layers/base/input_layer.h"
#include "layers/base/json_text.h"
#include "layers/base/registry.h"

namespace minidl {

namespace {
// The names of the models whose configs this thread is building, outermost first.
thread_local std::vector<std::string> t_model_nesting;
}  // namespace

ModelNestingGuard::ModelNestingGuard(const std::string& model_name) {
  const size_t level = t_model_nesting.size() + 1;
  if (level > static_cast<size_t>(kMaxModelNesting))
    raise<ValueError>("model '{}' is nested {} models deep, deeper than the limit of {} models inside models "
                      "(kMaxModelNesting); enclosing models, outermost first: {}",
                      model_name, level, kMaxModelNesting, join_capped(t_model_nesting, 4));
  t_model_nesting.push_back(model_name);
}

ModelNestingGuard::~ModelNestingGuard() { t_model_nesting.pop_back(); }

json FunctionalImpl::get_config() const {
  if (!has_graph()) fail("the model has no layers yet");
  // Node indices in a config count only the nodes that belong to this model
  // (a shared layer may have nodes in other models too).
  auto kept_index = [&](const Layer* layer, int node_index) {
    int k = 0;
    for (int i = 0; i < node_index; ++i)
      if (owns_node(layer->inbound_nodes()[i].get())) ++k;
    return k;
  };
  json layers = json::array();
  for (const auto& l : layers_) {
    json entry;
    entry["class_name"] = l->class_name();
    entry["config"] = l->get_config();
    entry["name"] = l->name();
    json inbound = json::array();
    for (size_t ni = 0; ni < l->inbound_nodes().size(); ++ni) {
      const Node* n = l->inbound_nodes()[ni].get();
      if (n->is_input() || !owns_node(n)) continue;
      json node = json::array();
      for (const auto& t : n->input_tensors())
        node.push_back(json::array(
            {t.layer()->name(), kept_index(t.layer().get(), t.node_index()), t.tensor_index(), json::object()}));
      inbound.push_back(node);
    }
    entry["inbound_nodes"] = inbound;
    layers.push_back(entry);
  }
  auto refs = [&](const std::vector<KerasTensor>& ts) {
    json r = json::array();
    for (const auto& t : ts)
      r.push_back(json::array({t.layer()->name(), kept_index(t.layer().get(), t.node_index()), t.tensor_index()}));
    return r;
  };
  json c;
  c["name"] = name();
  c["layers"] = layers;
  c["input_layers"] = refs(inputs_);
  c["output_layers"] = refs(outputs_);
  return c;
}

std::pair<std::vector<KerasTensor>, std::vector<KerasTensor>> FunctionalImpl::graph_from_config(const json& config) {
  ConfigReader r(config, "Functional");
  const ModelNestingGuard nesting(config.contains("name") && config["name"].is_string()
                                      ? config["name"].get<std::string>()
                                      : std::string("?"));
  const json& layers = r.raw("layers");
  MINIDL_CHECK(layers.is_array(), ValueError, "Functional config: 'layers' must be a list");

  std::map<std::string, LayerPtr> created;
  // (layer name, node index in the config) -> the tensors that node produced here.
  using NodeKey = std::pair<std::string, int64_t>;
  std::map<NodeKey, std::vector<KerasTensor>> node_outputs;
  struct Pending {
    LayerPtr layer;
    const json* nodes;  // the entry's inbound_nodes, inside `config`
    size_t next = 0;
  };
  std::vector<Pending> pending;
  pending.reserve(layers.size());
  static const json kNoNodes = json::array();

  for (const auto& entry : layers) {
    MINIDL_CHECK(entry.is_object() && entry.contains("class_name"), ValueError,
                 "Functional config: each layer needs a class_name, received {}", json_preview(entry));
    LayerPtr layer = layer_from_config(entry);
    const std::string nm = entry.contains("name") && entry["name"].is_string() ? entry["name"].get<std::string>()
                                                                                : layer->name();
    MINIDL_CHECK(!created.count(nm), ValueError, "Functional config: layer name '{}' appears twice", nm);
    created[nm] = layer;
    if (auto in = std::dynamic_pointer_cast<InputLayerImpl>(layer)) {
      node_outputs[{nm, 0}] = {in->make_input_tensor()};
      continue;
    }
    const json* nodes = entry.contains("inbound_nodes") ? &entry["inbound_nodes"] : &kNoNodes;
    MINIDL_CHECK(nodes->is_array(), ValueError, "Functional config: inbound_nodes of '{}' must be a list", nm);
    pending.push_back({layer, nodes, 0});
  }

  // Each layer's nodes are connected in config order as their inputs become available
  // (a shared layer's later node may need a layer listed after it, as Keras's
  // reconstruct_from_config allows). A node whose input is missing waits on that input's
  // key and is taken up again when the input is made, so every node is tried a bounded
  // number of times: linear in nodes, however the layers are ordered.
  auto parse_ref = [](const json& ref, const std::string& owner) {
    MINIDL_CHECK(ref.is_array() && ref.size() >= 3 && ref[0].is_string() && ref[1].is_number_integer() &&
                     ref[2].is_number_integer(),
                 ValueError, "Functional config: bad inbound reference {} in layer '{}'", json_preview(ref),
                 owner);
    return std::tuple<std::string, int64_t, int64_t>(ref[0].get<std::string>(), ref[1].get<int64_t>(),
                                                     ref[2].get<int64_t>());
  };
  std::map<NodeKey, std::vector<size_t>> waiting;  // a missing input -> the pending entries waiting on it
  std::vector<size_t> ready(pending.size());
  for (size_t i = 0; i < pending.size(); ++i) ready[i] = i;
  for (size_t q = 0; q < ready.size(); ++q) {
    Pending& p = pending[ready[q]];
    while (p.next < p.nodes->size()) {
      const json& node = (*p.nodes)[p.next];
      MINIDL_CHECK(node.is_array() && !node.empty(), ValueError,
                   "Functional config: node {} of layer '{}' must be a non-empty list", p.next, p.layer->name());
      std::vector<KerasTensor> ins;
      bool ready_now = true;
      for (const auto& ref : node) {
        auto [ln, ni, ti] = parse_ref(ref, p.layer->name());
        auto it = node_outputs.find({ln, ni});
        if (it == node_outputs.end()) {
          MINIDL_CHECK(created.count(ln), ValueError, "Functional config: layer '{}' refers to unknown layer '{}'",
                       p.layer->name(), ln);
          waiting[{std::move(ln), ni}].push_back(ready[q]);
          ready_now = false;
          break;
        }
        MINIDL_CHECK(ti >= 0 && ti < static_cast<int64_t>(it->second.size()), ValueError,
                     "Functional config: layer '{}' asks for output {} of '{}', which has {}", p.layer->name(), ti,
                     ln, it->second.size());
        ins.push_back(it->second[ti]);
      }
      if (!ready_now) break;
      NodeKey made{p.layer->name(), static_cast<int64_t>(p.next)};
      node_outputs[made] = (*p.layer)(ins);
      ++p.next;
      if (auto w = waiting.find(made); w != waiting.end()) {
        ready.insert(ready.end(), w->second.begin(), w->second.end());
        waiting.erase(w);
      }
    }
  }
  for (const auto& p : pending)
    MINIDL_CHECK(p.next == p.nodes->size(), ValueError,
                 "Functional config: could not connect node {} of layer '{}' (its inputs never become available)",
                 p.next, p.layer->name());

  auto read_refs = [&](const char* key) {
    std::vector<KerasTensor> out;
    json refs = r.raw(key);
    // A single reference may be stored unwrapped: ["name", 0, 0].
    if (refs.is_array() && !refs.empty() && refs[0].is_string()) refs = json::array({refs});
    MINIDL_CHECK(refs.is_array(), ValueError, "Functional config: '{}' must be a list", key);
    for (const auto& ref : refs) {
      auto [ln, ni, ti] = parse_ref(ref, key);
      auto it = node_outputs.find({ln, ni});
      MINIDL_CHECK(it != node_outputs.end() && ti >= 0 && ti < static_cast<int64_t>(it->second.size()), ValueError,
                   "Functional config: {} refers to [{}, {}, {}], which does not exist", key, ln, ni, ti);
      out.push_back(it->second[ti]);
    }
    return out;
  };
  return {read_refs("input_layers"), read_refs("output_layers")};
}

}  // namespace minidl
