// layers/base/functional.cpp — FunctionalImpl's graph: construction from tensors, the run plan, layer lookup.
#include "layers/base/functional.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "core/errors.h"
#include "core/message.h"

namespace minidl {

namespace {
// Map key of a symbolic tensor while the plan is made: its spec's identity.
using TensorKey = const TensorSpec*;
}  // namespace

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

  std::unordered_map<std::string, LayerPtr> by_name;
  by_name.reserve(layers.size());
  for (const Layer* l : layers) {
    if (by_name.emplace(l->name(), layer_ptrs[l]).second) continue;
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
  inference_plan_.reset();

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
  node_history().set_front(std::make_shared<Node>(this, inputs_, specs, mask_specs), has_self_node_);
  has_self_node_ = true;
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
    if (it->second == layer) return false;  // a shared layer: init_graph's general walk
    fail("The name \"{}\" is used 2 times in the model. All layer names should be unique.", layer->name());
  }
  const int in_slot = output_slots_[0];
  const int out_slot = num_slots_;
  layers_.reserve(layers_.size() + 1);
  nodes_in_order_.reserve(nodes_in_order_.size() + 1);
  node_slots_.reserve(node_slots_.size() + 1);
  layer_by_name_.emplace(layer->name(), layer);
  layers_.push_back(layer);
  nodes_in_order_.push_back(node);
  node_slots_.push_back(NodeSlots{{in_slot}, {out_slot}});
  output_slots_.assign(1, out_slot);
  num_slots_ = out_slot + 1;
  inference_plan_.reset();
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
  inference_plan_.reset();
  if (has_self_node_) node_history().erase_front();
  has_self_node_ = false;
  set_built(false);
}

LayerPtr FunctionalImpl::get_layer(const std::string& name) const {
  // layer_by_name_ indexes layers_, the list layers() gives unless a subclass
  // lists its layers itself (Sequential: its stack, without the InputLayer,
  // and before a graph exists); such a list is searched instead.
  if (&sublayer_list() == &layers_) {
    if (auto it = layer_by_name_.find(name); it != layer_by_name_.end())
      return it->second;
  } else {
    for (const auto& l : layers())
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

}  // namespace minidl
