// layers/base/functional_config.cpp — FunctionalImpl's Keras config: get_config, graph_from_config, nesting limit.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/errors.h"
#include "core/message.h"
#include "layers/base/config_utils.h"
#include "layers/base/functional.h"
#include "layers/base/input_layer.h"
#include "layers/base/json_text.h"
#include "layers/base/positional_args.h"
#include "layers/base/registry.h"

namespace minidl {

namespace {
// The names of the models whose configs this thread is building, outermost first.
thread_local std::vector<std::string> t_model_nesting;

bool is_keras_tensor(const json& v) {
  return v.is_object() && v.contains("class_name") && v["class_name"] == "__keras_tensor__";
}

// A Keras 3 call {"args": [...], "kwargs": {...}} with other than one positional argument: an
// operation called on tensors and constants (a layer call has one argument, a tensor or a list).
bool is_operation_call(const json& node) {
  return node.is_object() && node.contains("args") && node["args"].is_array() && node["args"].size() != 1;
}

// The operation layer of an entry, from the registry's "keras.src.ops.numpy.<Class>" factories;
// ValueError naming the class and the layer when minidl has no such operation.
LayerPtr operation_from_config(const json& entry) {
  std::string cls = entry["class_name"].get<std::string>();
  const std::string prefix = std::string(kKerasNumpyOpsModule) + ".";
  if (cls.rfind(prefix, 0) == 0) cls = cls.substr(prefix.size());
  const json config = entry.contains("config") ? entry["config"] : json::object();
  std::string name = "?";
  if (entry.contains("name") && entry["name"].is_string()) {
    name = entry["name"].get<std::string>();
  } else if (config.is_object() && config.contains("name") && config["name"].is_string()) {
    name = config["name"].get<std::string>();
  }
  const LayerRegistry& registry = LayerRegistry::instance();
  if (!registry.contains(prefix + cls)) {
    std::vector<std::string> known;
    for (const auto& n : registry.class_names())
      if (n.rfind(prefix, 0) == 0) known.push_back(n.substr(prefix.size()));
    raise<ValueError>("unknown operation class '{}' ({}{}) for layer '{}': minidl computes the operations {}", cls,
                      prefix, cls, name, join_capped(known, 20));
  }
  return registry.create(prefix + cls, config);
}

// The __keras_tensor__ object of input `t` as Keras 3 writes it in a call's arguments.
json keras_tensor_config(const KerasTensor& t, int node_index) {
  return {{"class_name", "__keras_tensor__"},
          {"config",
           {{"shape", shape_to_json(t.shape())},
            {"dtype", "float32"},
            {"keras_history", json::array({t.layer()->name(), node_index, t.tensor_index()})}}}};
}
// [layer name, node index, tensor index]
using Ref = std::tuple<std::string, int64_t, int64_t>;

Ref parse_ref(const json& ref, const std::string& owner) {
  MINIDL_CHECK(ref.is_array() && ref.size() >= 3 && ref[0].is_string() && ref[1].is_number_integer() &&
                   ref[2].is_number_integer(),
               ValueError, "Functional config: bad inbound reference {} in layer '{}'", json_preview(ref), owner);
  return {ref[0].get<std::string>(), ref[1].get<int64_t>(), ref[2].get<int64_t>()};
}

Ref history_ref(const json& tensor, const std::string& owner) {
  const json& c = tensor.contains("config") ? tensor["config"] : tensor;
  return parse_ref(c.is_object() && c.contains("keras_history") ? c["keras_history"] : c, owner);
}

// The inbound references of node `index` of `layer`, in order. A node is a Keras 2 list of
// references, or a Keras 3 call {"args": [...], "kwargs": {...}}: for a layer taking positional
// arguments, `args` receives them (std::nullopt for each tensor, the constants as written);
// any other layer's call has one argument, a tensor or a list of tensors.
std::vector<Ref> node_refs(const json& node, size_t index, Layer& layer, std::vector<std::optional<json>>* args) {
  const std::string& owner = layer.name();
  std::vector<Ref> refs;
  if (node.is_array()) {
    MINIDL_CHECK(!node.empty(), ValueError, "Functional config: node {} of layer '{}' must be a non-empty list",
                 index, owner);
    for (const auto& ref : node) refs.push_back(parse_ref(ref, owner));
    return refs;
  }
  MINIDL_CHECK(node.is_object() && node.contains("args") && node["args"].is_array(), ValueError,
               "Functional config: node {} of layer '{}' must be a list of references or a call {{\"args\": [...], "
               "\"kwargs\": {{...}}}}, received {}",
               index, owner, json_preview(node));
  const json kwargs = node.contains("kwargs") ? node["kwargs"] : json::object();
  const json& positional = node["args"];
  if (dynamic_cast<PositionalArgsLayer*>(&layer)) {
    MINIDL_CHECK(kwargs.is_null() || (kwargs.is_object() && kwargs.empty()), ValueError,
                 "Functional config: operation layer '{}' is called with keyword arguments {}, which minidl's "
                 "operations do not take",
                 owner, json_preview(kwargs));
    for (const auto& a : positional) {
      if (is_keras_tensor(a)) {
        refs.push_back(history_ref(a, owner));
        args->push_back(std::nullopt);
      } else {
        args->push_back(a);
      }
    }
    return refs;
  }
  MINIDL_CHECK(positional.size() == 1, ValueError,
               "Functional config: layer '{}' is called with {} positional arguments in node {}; a layer takes one "
               "(a tensor or a list of tensors)",
               owner, positional.size(), index);
  const json& arg = positional[0];
  for (const auto& t : arg.is_array() ? arg : json::array({arg})) {
    MINIDL_CHECK(is_keras_tensor(t), ValueError,
                 "Functional config: layer '{}' is called with the constant {} in node {}; only operation layers "
                 "take constant arguments",
                 owner, json_preview(t), index);
    refs.push_back(history_ref(t, owner));
  }
  return refs;
}
}  // namespace

bool is_operation_entry(const json& entry) {
  if (entry.contains("module") && entry["module"] == kKerasNumpyOpsModule) return true;
  if (!entry.is_object() || !entry.contains("class_name") || !entry["class_name"].is_string()) return false;
  if (entry["class_name"].get<std::string>().rfind(std::string(kKerasNumpyOpsModule) + ".", 0) == 0) return true;
  if (entry.contains("inbound_nodes") && entry["inbound_nodes"].is_array())
    for (const auto& node : entry["inbound_nodes"])
      if (is_operation_call(node)) return true;
  return false;
}

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
      if (const auto* op = dynamic_cast<const PositionalArgsLayer*>(l.get())) {
        // Keras 3's call form: the constants sit among the tensors in the positional arguments.
        json args = json::array();
        size_t next = 0;
        for (const auto& a : op->positional_args()) {
          if (a) {
            args.push_back(*a);
            continue;
          }
          const KerasTensor& t = n->input_tensors().at(next++);
          args.push_back(keras_tensor_config(t, kept_index(t.layer().get(), t.node_index())));
        }
        inbound.push_back({{"args", args}, {"kwargs", json::object()}});
        continue;
      }
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
  // A frozen model says so, as Keras 3 writes it (its layers keep their own flags);
  // tf.keras 2 ignores the key, and every Keras reads it absent as true.
  if (!trainable()) c["trainable"] = false;
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
    LayerPtr layer = is_operation_entry(entry) ? operation_from_config(entry) : layer_from_config(entry);
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
  std::map<NodeKey, std::vector<size_t>> waiting;  // a missing input -> the pending entries waiting on it
  std::vector<size_t> ready(pending.size());
  for (size_t i = 0; i < pending.size(); ++i) ready[i] = i;
  for (size_t q = 0; q < ready.size(); ++q) {
    Pending& p = pending[ready[q]];
    while (p.next < p.nodes->size()) {
      const json& node = (*p.nodes)[p.next];
      std::vector<std::optional<json>> call_args;
      std::vector<KerasTensor> ins;
      bool ready_now = true;
      for (auto& [ln, ni, ti] : node_refs(node, p.next, *p.layer, &call_args)) {
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
      if (auto* op = dynamic_cast<PositionalArgsLayer*>(p.layer.get()); op && node.is_object())
        op->set_positional_args(call_args);
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
