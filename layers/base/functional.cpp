#include "layers/base/functional.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "core/errors.h"
#include "core/message.h"
#include "layers/base/config_utils.h"
#include "layers/base/input_layer.h"
#include "layers/base/json_text.h"
#include "layers/base/registry.h"

namespace minidl {

namespace {

// Map key of a symbolic tensor during execution: its spec's identity.
using TensorKey = const TensorSpec*;

// run()'s working lists. Each thread keeps one set per nesting depth (a model
// called inside a model runs one level deeper), leased for the length of a
// run() and emptied when it ends (the lists keep their capacity): so the
// forward pass of a training step allocates no lists, and concurrent calls on
// other threads never share them.
struct RunScratch {
  std::vector<Variable> values, in;
  std::vector<Tensor> masks, node_masks;
  CallArgs args;
  void clear() {
    values.clear();
    in.clear();
    masks.clear();
    node_masks.clear();
    args.masks.clear();
  }
};

class RunScratchLease {
 public:
  RunScratchLease() {
    if (t_depth == t_stack.size()) t_stack.push_back(std::make_unique<RunScratch>());
    scratch_ = t_stack[t_depth++].get();
  }
  ~RunScratchLease() {
    scratch_->clear();  // drops the step's values: they must not outlive the call
    --t_depth;
  }
  RunScratchLease(const RunScratchLease&) = delete;
  RunScratchLease& operator=(const RunScratchLease&) = delete;
  RunScratch* operator->() const { return scratch_; }

 private:
  static thread_local std::vector<std::unique_ptr<RunScratch>> t_stack;
  static thread_local size_t t_depth;
  RunScratch* scratch_;
};

thread_local std::vector<std::unique_ptr<RunScratch>> RunScratchLease::t_stack;
thread_local size_t RunScratchLease::t_depth = 0;

// 1199882 -> "1,199,882" (appending digit by digit: inserting into the string
// in place drew a false -Wrestrict warning from GCC 12).
std::string with_commas(int64_t n) {
  const uint64_t magnitude = n < 0 ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  const std::string digits = std::to_string(magnitude);
  std::string out = n < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

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

FunctionalImpl::FunctionalImpl(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs,
                               const std::string& name)
    : Layer(LayerOptions{.name = name}, "model") {
  init_graph(std::move(inputs), std::move(outputs));
}

FunctionalImpl::FunctionalImpl(const std::string& name, const std::string& default_prefix)
    : Layer(LayerOptions{.name = name}, default_prefix) {}

// Keras's _map_graph_network: a depth-first walk back from the outputs, then
// depths (an inbound node is at least one deeper than what consumes it),
// then nodes and layers sorted by decreasing depth — inputs first.
void FunctionalImpl::init_graph(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs) {
  if (inputs.empty()) fail("a model needs at least one input");
  if (outputs.empty()) fail("a model needs at least one output");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& x = inputs[i];
    if (!x.defined() || !x.has_history() || x.layer()->class_name() != "InputLayer")
      fail("input {} must be a tensor returned by Input() (an InputLayer output); received {}", i,
           x.defined() ? x.name() : std::string("an undefined tensor"));
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!outputs[i].defined() || !outputs[i].has_history())
      fail("output {} is not the output of a layer call", i);

  std::vector<const Node*> post_order;
  std::map<const Layer*, int> layer_indices;
  std::map<const Layer*, LayerPtr> layer_ptrs;
  std::set<const Node*> finished, in_progress;

  // Iterative DFS (graphs can be deep); each frame is (tensor, next input to visit).
  struct Frame {
    const Node* node;
    size_t next;
  };
  for (const auto& out : outputs) {
    std::vector<Frame> stack;
    auto push_tensor = [&](const KerasTensor& t) {
      const Node* node = t.layer()->inbound_nodes().at(t.node_index()).get();
      if (finished.count(node)) return;
      if (in_progress.count(node)) fail("the tensor '{}' at layer '{}' is part of a cycle", t.name(), t.layer()->name());
      if (!layer_indices.count(t.layer().get())) {
        layer_indices[t.layer().get()] = static_cast<int>(layer_indices.size());
        layer_ptrs[t.layer().get()] = t.layer();
      }
      in_progress.insert(node);
      stack.push_back({node, 0});
    };
    push_tensor(out);
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next < f.node->input_tensors().size()) {
        const KerasTensor& t = f.node->input_tensors()[f.next++];
        push_tensor(t);
        continue;
      }
      in_progress.erase(f.node);
      finished.insert(f.node);
      post_order.push_back(f.node);
      stack.pop_back();
    }
  }

  // Depths: walk from outputs (end of post order) to inputs.
  std::map<const Node*, int> node_depth;
  std::map<const Layer*, int> layer_depth;
  for (auto it = post_order.rbegin(); it != post_order.rend(); ++it) {
    const Node* n = *it;
    const int d = node_depth[n];  // 0 if unseen: an output node
    layer_depth[n->outbound_layer()] = std::max(layer_depth[n->outbound_layer()], d);
    for (const auto& t : n->input_tensors()) {
      const Node* in = t.layer()->inbound_nodes().at(t.node_index()).get();
      node_depth[in] = std::max(node_depth[in], d + 1);
    }
  }

  // Every input the graph needs must be one of `inputs`.
  std::set<const Node*> given;
  for (const auto& x : inputs) given.insert(x.layer()->inbound_nodes().at(x.node_index()).get());
  for (const Node* n : post_order)
    if (n->is_input() && !given.count(n))
      fail("graph disconnected: cannot obtain a value for tensor '{}' at layer '{}'; it is not among the model inputs",
           n->output_specs()[0]->name, n->outbound_layer()->name());

  std::vector<const Node*> nodes = post_order;
  std::stable_sort(nodes.begin(), nodes.end(),
                   [&](const Node* a, const Node* b) { return node_depth[a] > node_depth[b]; });
  std::vector<const Layer*> layers;
  for (const auto& [l, _] : layer_indices) layers.push_back(l);
  std::sort(layers.begin(), layers.end(), [&](const Layer* a, const Layer* b) {
    if (layer_depth[a] != layer_depth[b]) return layer_depth[a] > layer_depth[b];
    return layer_indices[a] < layer_indices[b];
  });

  std::unordered_map<std::string, const Layer*> by_name;
  by_name.reserve(layers.size());
  for (const Layer* l : layers) {
    if (by_name.emplace(l->name(), l).second) continue;
    const auto count = std::count_if(layers.begin(), layers.end(), [&](const Layer* o) { return o->name() == l->name(); });
    fail("The name \"{}\" is used {} times in the model. All layer names should be unique.", l->name(), count);
  }

  inputs_ = std::move(inputs);
  outputs_ = std::move(outputs);
  layer_by_name_ = std::move(by_name);
  layers_.clear();
  for (const Layer* l : layers) layers_.push_back(layer_ptrs[l]);
  nodes_in_order_.clear();
  for (const Node* n : nodes)
    if (!n->is_input()) nodes_in_order_.push_back(n);
  std::map<TensorKey, int> slots;
  auto slot_of = [&slots](TensorKey k) { return slots.emplace(k, static_cast<int>(slots.size())).first->second; };
  input_slots_.clear();
  for (const auto& x : inputs_) input_slots_.push_back(slot_of(x.id()));
  node_slots_.clear();
  for (const Node* n : nodes_in_order_) {
    NodeSlots ns;
    for (const auto& t : n->input_tensors()) ns.in.push_back(slot_of(t.id()));
    for (const auto& spec : n->output_specs()) ns.out.push_back(slot_of(spec.get()));
    node_slots_.push_back(std::move(ns));
  }
  output_slots_.clear();
  for (const auto& o : outputs_) output_slots_.push_back(slot_of(o.id()));
  num_slots_ = static_cast<int>(slots.size());

  set_self_node();
  set_built(true);
}

// Like Keras, the network's own node 0 connects its inputs to its outputs;
// calls of the network as a layer add nodes 1, 2, ...
void FunctionalImpl::set_self_node() {
  std::vector<std::shared_ptr<const TensorSpec>> specs, mask_specs;
  for (const auto& o : outputs_) {
    specs.push_back(o.spec());
    mask_specs.push_back(o.layer()->inbound_nodes()[o.node_index()]->output_mask_specs()[o.tensor_index()]);
  }
  auto self_node = std::make_shared<Node>(this, inputs_, specs, mask_specs);
  if (has_self_node_) {
    inbound_nodes_[0] = self_node;
  } else {
    inbound_nodes_.insert(inbound_nodes_.begin(), self_node);
    has_self_node_ = true;
  }
}

// For a chain the new node is the one deepest-last node: init_graph would list every
// existing layer and node in the same order with the new ones at the end, and give the
// existing tensors the same slots, so only the new entries are added.
bool FunctionalImpl::append_to_chain(const KerasTensor& output) {
  if (!has_graph() || inputs_.size() != 1 || outputs_.size() != 1 || !output.defined() || !output.has_history())
    return false;
  const LayerPtr layer = output.layer();
  const auto& layer_nodes = layer->inbound_nodes();
  if (layer.get() == this || output.node_index() < 0 || output.node_index() >= static_cast<int>(layer_nodes.size()))
    return false;
  const Node* node = layer_nodes[output.node_index()].get();
  if (node->input_tensors().size() != 1 || node->output_specs().size() != 1 ||
      node->input_tensors()[0].id() != outputs_[0].id())
    return false;
  if (auto it = layer_by_name_.find(layer->name()); it != layer_by_name_.end()) {
    if (it->second == layer.get()) return false;  // a shared layer: init_graph's general walk
    fail("The name \"{}\" is used 2 times in the model. All layer names should be unique.", layer->name());
  }
  const int in_slot = output_slots_[0];
  const int out_slot = num_slots_;
  layers_.reserve(layers_.size() + 1);
  nodes_in_order_.reserve(nodes_in_order_.size() + 1);
  node_slots_.reserve(node_slots_.size() + 1);
  layer_by_name_.emplace(layer->name(), layer.get());
  layers_.push_back(layer);
  nodes_in_order_.push_back(node);
  node_slots_.push_back(NodeSlots{{in_slot}, {out_slot}});
  output_slots_.assign(1, out_slot);
  num_slots_ = out_slot + 1;
  outputs_.assign(1, output);
  set_self_node();
  set_built(true);
  return true;
}

void FunctionalImpl::clear_graph() {
  inputs_.clear();
  outputs_.clear();
  layers_.clear();
  layer_by_name_.clear();
  nodes_in_order_.clear();
  node_slots_.clear();
  input_slots_.clear();
  output_slots_.clear();
  num_slots_ = 0;
  if (has_self_node_) inbound_nodes_.erase(inbound_nodes_.begin());
  has_self_node_ = false;
  set_built(false);
}

LayerPtr FunctionalImpl::get_layer(const std::string& name) const {
  for (const auto& l : layers()) {
    if (l->name() == name) return l;
  }
  const std::vector<LayerPtr> all = layers();
  raise<ValueError>("No such layer: {}. Existing layers are: [{}].", name,
                    join_capped_by(all, [](const LayerPtr& l) { return l->name(); }));
}

LayerPtr FunctionalImpl::get_layer(int index) const {
  const auto ls = layers();
  if (index < 0 || index >= static_cast<int>(ls.size()))
    raise<ValueError>("Was asked to retrieve layer at index {} but model '{}' only has {} layers.", index, this->name(),
                      ls.size());
  return ls[index];
}

bool FunctionalImpl::owns_node(const Node* node) const {
  return std::find(nodes_in_order_.begin(), nodes_in_order_.end(), node) != nodes_in_order_.end() ||
         std::any_of(inputs_.begin(), inputs_.end(),
                     [&](const KerasTensor& x) { return x.layer()->inbound_nodes()[x.node_index()].get() == node; });
}

// ---------------------------------------------------------------------------
// Execution

VariableList FunctionalImpl::run(const std::vector<Variable>& xs, const CallArgs& args,
                                          std::vector<Tensor>* out_masks) {
  if (!has_graph()) fail("the model has no layers yet");
  if (xs.size() != inputs_.size())
    fail("expects {} input(s), but it received {} input tensors", inputs_.size(), xs.size());
  // Values and masks by slot (see init_graph); masks only once one appears.
  // The lists are this thread's scratch for this nesting depth, so a
  // steady-state pass allocates none of them.
  RunScratchLease lease;
  std::vector<Variable>& values = lease->values;
  std::vector<Tensor>& masks = lease->masks;
  values.resize(static_cast<size_t>(num_slots_));
  auto set_mask = [&](int slot, const Tensor& m) {
    if (masks.empty()) masks.resize(static_cast<size_t>(num_slots_));
    masks[static_cast<size_t>(slot)] = m;
  };
  for (size_t i = 0; i < xs.size(); ++i) {
    const Shape& want = inputs_[i].shape();
    if (!shapes_compatible(want, xs[i].shape()))
      fail("Input {} is incompatible with the layer: expected shape={}, found shape={}", i, shape_str(want),
           shape_str(xs[i].shape()));
    values[static_cast<size_t>(input_slots_[i])] = xs[i];
    if (i < args.masks.size() && args.masks[i].defined()) set_mask(input_slots_[i], args.masks[i]);
  }
  std::vector<Variable>& in = lease->in;
  CallArgs& a = lease->args;
  a.training = args.training;
  std::vector<Tensor>& node_masks = lease->node_masks;
  for (size_t k = 0; k < nodes_in_order_.size(); ++k) {
    const Node* node = nodes_in_order_[k];
    const NodeSlots& ns = node_slots_[k];
    // One mask entry per input, undefined for "no mask" (CallArgs's contract),
    // so call_with_masks can hand the list on without copying it.
    in.clear();
    a.masks.clear();
    for (int slot : ns.in) {
      in.push_back(values[static_cast<size_t>(slot)]);
      a.masks.push_back(masks.empty() ? Tensor() : masks[static_cast<size_t>(slot)]);
    }
    auto out = node->outbound_layer()->call_with_masks(in, a, &node_masks);
    if (out.size() != node->output_specs().size())
      fail("layer '{}' returned {} outputs, its node expects {}", node->outbound_layer()->name(), out.size(),
           node->output_specs().size());
    for (size_t i = 0; i < out.size(); ++i) {
      values[static_cast<size_t>(ns.out[i])] = std::move(out[i]);
      if (i < node_masks.size() && node_masks[i].defined()) set_mask(ns.out[i], node_masks[i]);
    }
  }
  VariableList result;
  result.reserve(output_slots_.size());
  for (int slot : output_slots_) result.push_back(values[static_cast<size_t>(slot)]);
  if (out_masks) {
    out_masks->clear();
    for (int slot : output_slots_) out_masks->push_back(masks.empty() ? Tensor() : masks[static_cast<size_t>(slot)]);
  }
  return result;
}

VariableList FunctionalImpl::call(const std::vector<Variable>& inputs, const CallArgs& args) {
  return run(inputs, args, nullptr);
}

std::vector<Tensor> FunctionalImpl::compute_mask(const std::vector<Variable>& inputs, const std::vector<Tensor>& masks) {
  std::vector<Tensor> out;
  NoGradGuard no_grad;
  CallArgs a{false, masks};
  run(inputs, a, &out);
  return out;
}

std::vector<Shape> FunctionalImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  if (!has_graph()) fail("the model has no layers yet");
  if (input_shapes.size() != inputs_.size())
    fail("expects {} input(s), received {} input shapes", inputs_.size(), input_shapes.size());
  std::map<TensorKey, Shape> shapes;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (!shapes_compatible(inputs_[i].shape(), input_shapes[i]))
      fail("Input {} is incompatible with the layer: expected shape={}, found shape={}", i,
           shape_str(inputs_[i].shape()), shape_str(input_shapes[i]));
    shapes[inputs_[i].id()] = input_shapes[i];
  }
  for (const Node* node : nodes_in_order_) {
    std::vector<Shape> in;
    for (const auto& t : node->input_tensors()) in.push_back(shapes.at(t.id()));
    auto out = node->outbound_layer()->compute_output_shape(in);
    for (size_t i = 0; i < out.size() && i < node->output_specs().size(); ++i)
      shapes[node->output_specs()[i].get()] = out[i];
  }
  std::vector<Shape> result;
  for (const auto& o : outputs_) result.push_back(shapes.at(o.id()));
  return result;
}

// ---------------------------------------------------------------------------
// Config

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

// ---------------------------------------------------------------------------
// Summary

bool FunctionalImpl::is_sequential_like() const {
  std::map<int, int> per_depth;  // approximated: a chain has one node per step
  std::set<const Layer*> seen;
  for (const Node* n : nodes_in_order_) {
    if (n->input_tensors().size() > 1) return false;
    if (!seen.insert(n->outbound_layer()).second) return false;  // shared layer
  }
  // A chain: every node consumes the previous node's output.
  for (size_t i = 1; i < nodes_in_order_.size(); ++i) {
    const auto& t = nodes_in_order_[i]->input_tensors()[0];
    if (t.layer().get() != nodes_in_order_[i - 1]->outbound_layer()) return false;
  }
  return inputs_.size() == 1 && outputs_.size() == 1;
}

std::string FunctionalImpl::summary_table(const std::vector<LayerPtr>& rows, bool connected, int line_length) const {
  if (line_length <= 0) line_length = connected ? 98 : 65;
  std::vector<int> positions;
  std::vector<std::string> header;
  if (connected) {
    for (double p : {.33, .55, .67, 1.0}) positions.push_back(static_cast<int>(line_length * p));
    header = {"Layer (type)", "Output Shape", "Param #", "Connected to"};
  } else {
    for (double p : {.45, .85, 1.0}) positions.push_back(static_cast<int>(line_length * p));
    header = {"Layer (type)", "Output Shape", "Param #"};
  }
  std::string out;
  auto row = [&](const std::vector<std::string>& fields) {
    std::string line;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) line = line.substr(0, line.size() - 1) + " ";
      line += fields[i];
      line = line.substr(0, positions[i]);
      line += std::string(positions[i] - line.size(), ' ');
    }
    out += line + "\n";
  };
  out += fmt::format("Model: \"{}\"\n", name());
  out += std::string(line_length, '_') + "\n";
  row(header);
  out += std::string(line_length, '=') + "\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& l = rows[i];
    std::string shape;
    try {
      if (l->class_name() == "InputLayer") {
        shape = "[" + shape_str(l->output_shape()) + "]";
      } else {
        const auto& nodes = l->inbound_nodes();
        int owned = -1, count = 0;
        for (size_t k = 0; k < nodes.size(); ++k)
          if (owns_node(nodes[k].get())) {
            owned = static_cast<int>(k);
            ++count;
          }
        if (owned < 0) throw AttributeError("no node");
        auto shapes = l->get_output_shapes_at(count == 1 ? owned : 0);
        if (count > 1 && nodes.size() > 1) {
          shape = "multiple";
          std::set<std::vector<Shape>> all;
          for (size_t k = 0; k < nodes.size(); ++k) all.insert(l->get_output_shapes_at(static_cast<int>(k)));
          if (all.size() == 1) shape.clear();
        }
        if (shape.empty()) {
          if (shapes.size() == 1) {
            shape = shape_str(shapes[0]);
          } else {
            shape = "[";
            for (size_t k = 0; k < shapes.size(); ++k) shape += (k ? ", " : "") + shape_str(shapes[k]);
            shape += "]";
          }
        }
      }
    } catch (const std::exception&) {
      shape = "multiple";
    }
    const std::string params = l->built() ? std::to_string(l->count_params()) : "0 (unused)";
    std::vector<std::string> connections;
    if (connected) {
      for (const auto& n : l->inbound_nodes()) {
        if (!owns_node(n.get())) continue;
        for (const auto& t : n->input_tensors())
          connections.push_back(fmt::format("{}[{}][{}]", t.layer()->name(), t.node_index(), t.tensor_index()));
      }
    }
    std::vector<std::string> fields = {l->name() + " (" + l->class_name() + ")", shape, params};
    if (connected) fields.push_back(connections.empty() ? "" : connections[0]);
    row(fields);
    for (size_t k = 1; k < connections.size(); ++k) row({"", "", "", connections[k]});
    out += std::string(line_length, i + 1 == rows.size() ? '=' : '_') + "\n";
  }
  int64_t trainable = 0, non_trainable = 0;
  for (const auto& v : trainable_weights()) trainable += v.value().numel();
  for (const auto& v : non_trainable_weights()) non_trainable += v.value().numel();
  out += "Total params: " + with_commas(trainable + non_trainable) + "\n";
  out += "Trainable params: " + with_commas(trainable) + "\n";
  out += "Non-trainable params: " + with_commas(non_trainable) + "\n";
  out += std::string(line_length, '_') + "\n";
  return out;
}

std::string FunctionalImpl::summary(int line_length) const {
  if (!has_graph()) fail("This model has not yet been built. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data.");
  return summary_table(layers(), !is_sequential_like(), line_length);
}

}  // namespace minidl
