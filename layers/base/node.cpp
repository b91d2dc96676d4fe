// layers/base/node.cpp — Node (one symbolic call) and NodeHistory (a layer's nodes and their queries).
#include "layers/base/node.h"

#include <set>
#include <string>

#include "core/errors.h"
#include "layers/base/layer.h"

namespace minidl {

Node::Node(Layer* outbound_layer, std::vector<KerasTensor> inputs, std::vector<std::shared_ptr<const TensorSpec>> outputs,
           std::vector<std::shared_ptr<const TensorSpec>> output_masks)
    : outbound_layer_(outbound_layer),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)),
      output_masks_(std::move(output_masks)) {
  output_masks_.resize(outputs_.size());
  // An input made by this node's own layer would make the layer own itself (see KerasTensor::without_ownership).
  for (auto& t : inputs_)
    if (t.has_history() && t.layer().get() == outbound_layer_) t = t.without_ownership();
}

std::vector<std::shared_ptr<Layer>> Node::inbound_layers() const {
  std::vector<std::shared_ptr<Layer>> out;
  for (const auto& t : inputs_)
    if (t.has_history()) out.push_back(t.layer());
  return out;
}

std::vector<Shape> Node::input_shapes() const {
  std::vector<Shape> out;
  for (const auto& t : inputs_) out.push_back(t.shape());
  return out;
}

std::vector<Shape> Node::output_shapes() const {
  std::vector<Shape> out;
  for (const auto& s : outputs_) out.push_back(s->shape);
  return out;
}

std::vector<std::shared_ptr<const TensorSpec>> Node::input_mask_specs() const {
  std::vector<std::shared_ptr<const TensorSpec>> out;
  for (const auto& t : inputs_) {
    if (!t.has_history()) {
      out.push_back(nullptr);
      continue;
    }
    const auto& node = t.layer()->inbound_nodes().at(t.node_index());
    out.push_back(node->output_mask_specs().at(t.tensor_index()));
  }
  return out;
}

// ---------------------------------------------------------------------------
// NodeHistory: recording

namespace {
// ValueError "<Class> '<name>': <message>", as Layer::fail words it.
template <class... Args>
[[noreturn]] void fail_for(const Layer& owner, fmt::format_string<Args...> f, Args&&... args) {
  throw ValueError(
      fmt::format("{} '{}': {}", owner.class_name(), owner.name(), fmt::format(f, std::forward<Args>(args)...)));
}

// AttributeError unless the `nodes` inbound nodes of layer `layer` have the
// same `what` ("input" | "output") shapes, shapes_at(i) giving node i's.
template <class ShapesAt>
void require_same_shapes(size_t nodes, const char* what, const std::string& layer, ShapesAt shapes_at) {
  std::set<std::vector<Shape>> all;
  for (size_t i = 0; i < nodes; ++i) all.insert(shapes_at(static_cast<int>(i)));
  if (all.size() > 1)
    raise<AttributeError>(
        "The layer \"{}\" has multiple inbound nodes, with different {} shapes. Hence the notion of "
        "\"{} shape\" is ill-defined for the layer. Use `get_{}_shape_at(node_index)` instead.",
        layer, what, what, what);
}
}  // namespace

std::vector<std::shared_ptr<Node>> NodeHistory::outbound() const {
  std::vector<std::shared_ptr<Node>> out;
  for (const auto& w : outbound_)
    if (auto n = w.lock()) out.push_back(n);
  return out;
}

int NodeHistory::add_inbound(std::shared_ptr<Node> node) {
  inbound_.push_back(std::move(node));
  return static_cast<int>(inbound_.size()) - 1;
}

void NodeHistory::add_outbound(const std::shared_ptr<Node>& node) { outbound_.push_back(node); }

void NodeHistory::set_front(std::shared_ptr<Node> node, bool replace) {
  if (replace)
    inbound_.at(0) = std::move(node);
  else
    inbound_.insert(inbound_.begin(), std::move(node));
}

void NodeHistory::erase_front() { inbound_.erase(inbound_.begin()); }

// ---------------------------------------------------------------------------
// NodeHistory: node-indexed queries

const Node& NodeHistory::node_at(int node_index, const char* what) const {
  if (inbound_.empty()) {
    if (called_concretely_)
      raise<RuntimeError>(
          "Layer {} has only been called on concrete tensors (eager mode), which records no nodes, "
          "and thus has no defined {}",
          owner_.name(), what);
    raise<RuntimeError>("The layer {} has never been called and thus has no defined {}.", owner_.name(), what);
  }
  if (node_index < 0 || node_index >= static_cast<int>(inbound_.size()))
    raise<ValueError>("Asked to get {} at node {}, but the layer {} has only {} inbound nodes.", what, node_index,
                      owner_.name(), inbound_.size());
  return *inbound_[node_index];
}

std::vector<KerasTensor> NodeHistory::get_inputs_at(int node_index) const {
  const Node& n = node_at(node_index, "input");
  if (n.is_input()) return get_outputs_at(node_index);  // an InputLayer's input is its output
  return n.input_tensors();
}

KerasTensor NodeHistory::get_input_at(int node_index) const {
  auto v = get_inputs_at(node_index);
  if (v.size() != 1) fail_for(owner_, "node {} has {} inputs; use get_inputs_at", node_index, v.size());
  return v[0];
}

std::vector<KerasTensor> NodeHistory::get_outputs_at(int node_index) const {
  const Node& n = node_at(node_index, "output");
  // The outputs' producing layer is the owner: rebuild handles with history.
  auto layer = std::const_pointer_cast<Layer>(owner_.shared_from_this());
  std::vector<KerasTensor> out;
  for (size_t i = 0; i < n.output_specs().size(); ++i)
    out.emplace_back(n.output_specs()[i], layer, node_index, static_cast<int>(i));
  return out;
}

KerasTensor NodeHistory::get_output_at(int node_index) const {
  auto v = get_outputs_at(node_index);
  if (v.size() != 1) fail_for(owner_, "node {} has {} outputs; use get_outputs_at", node_index, v.size());
  return v[0];
}

std::vector<Shape> NodeHistory::get_input_shapes_at(int node_index) const {
  std::vector<Shape> s;
  for (const auto& t : get_inputs_at(node_index)) s.push_back(t.shape());
  return s;
}

Shape NodeHistory::get_input_shape_at(int node_index) const { return get_input_at(node_index).shape(); }

std::vector<Shape> NodeHistory::get_output_shapes_at(int node_index) const {
  return node_at(node_index, "output shape").output_shapes();
}

Shape NodeHistory::get_output_shape_at(int node_index) const { return get_output_at(node_index).shape(); }

std::optional<KerasTensor> NodeHistory::get_input_mask_at(int node_index) const {
  const Node& n = node_at(node_index, "input mask");
  if (n.is_input()) return std::nullopt;
  auto specs = n.input_mask_specs();
  if (specs.size() != 1)
    fail_for(owner_, "node {} has {} inputs; masks of multi-input nodes are per input", node_index, specs.size());
  if (!specs[0]) return std::nullopt;
  return KerasTensor(specs[0]);
}

std::optional<KerasTensor> NodeHistory::get_output_mask_at(int node_index) const {
  const Node& n = node_at(node_index, "output mask");
  if (n.output_mask_specs().empty() || !n.output_mask_specs()[0]) return std::nullopt;
  return KerasTensor(n.output_mask_specs()[0]);
}

// ---------------------------------------------------------------------------
// NodeHistory: single-node properties

void NodeHistory::require_single_node(const char* what) const {
  if (inbound_.empty()) {
    if (called_concretely_)
      raise<RuntimeError>("Layer {} has only been called on concrete tensors (eager mode); {} is only defined "
                          "for layers called on symbolic tensors",
                          owner_.name(), what);
    raise<AttributeError>("Layer {} is not connected, no {} to return.", owner_.name(), what);
  }
  if (inbound_.size() > 1)
    raise<AttributeError>(
        "Layer {} has multiple inbound nodes, hence the notion of \"layer {}\" is ill-defined. "
        "Use `get_{}_at(node_index)` instead.",
        owner_.name(), what, what);
}

KerasTensor NodeHistory::input() const {
  require_single_node("input");
  return get_input_at(0);
}

KerasTensor NodeHistory::output() const {
  require_single_node("output");
  return get_output_at(0);
}

Shape NodeHistory::input_shape() const {
  if (inbound_.size() > 1)
    require_same_shapes(inbound_.size(), "input", owner_.name(), [this](int i) { return get_input_shapes_at(i); });
  else
    require_single_node("input shape");
  return get_input_shape_at(0);
}

Shape NodeHistory::output_shape() const {
  if (inbound_.size() > 1)
    require_same_shapes(inbound_.size(), "output", owner_.name(), [this](int i) { return get_output_shapes_at(i); });
  else
    require_single_node("output shape");
  return get_output_shape_at(0);
}

std::optional<KerasTensor> NodeHistory::input_mask() const {
  require_single_node("input mask");
  return get_input_mask_at(0);
}

std::optional<KerasTensor> NodeHistory::output_mask() const {
  require_single_node("output mask");
  return get_output_mask_at(0);
}

}  // namespace minidl
