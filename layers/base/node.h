// layers/base/node.h — Keras's record of one symbolic call of a layer, and a layer's history of them.
//
// Every time a layer is called on KerasTensors it appends a Node to its
// inbound nodes: which tensors went in (and so which layers they came from),
// and the specs of what came out. A layer used twice (a shared layer) has two
// nodes; get_input_at(i) / get_output_shape_at(i) read node i.
//
// NodeHistory is the part of a Layer that keeps those nodes and answers the
// node-indexed questions of the Keras Layer API (get_input_at, output_shape,
// ...). Layer forwards its public accessors to it.
//
// (Naming: this is not the autograd tape. The tape entry is a GradFn,
// autograd/variable.h.)
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "layers/base/keras_tensor.h"

namespace minidl {

class Layer;

class Node {
 public:
  Node(Layer* outbound_layer, std::vector<KerasTensor> inputs, std::vector<std::shared_ptr<const TensorSpec>> outputs,
       std::vector<std::shared_ptr<const TensorSpec>> output_masks);

  // The layer whose call this node records (it owns the node).
  Layer* outbound_layer() const { return outbound_layer_; }
  // The tensors that went in; their histories name the inbound layers.
  const std::vector<KerasTensor>& input_tensors() const { return inputs_; }
  std::vector<std::shared_ptr<Layer>> inbound_layers() const;
  std::vector<Shape> input_shapes() const;

  const std::vector<std::shared_ptr<const TensorSpec>>& output_specs() const { return outputs_; }
  std::vector<Shape> output_shapes() const;
  // One entry per output; null where the output has no mask.
  const std::vector<std::shared_ptr<const TensorSpec>>& output_mask_specs() const { return output_masks_; }
  // Input masks are the masks of the input tensors' producing nodes.
  std::vector<std::shared_ptr<const TensorSpec>> input_mask_specs() const;

  // An InputLayer's node has no inputs.
  bool is_input() const { return inputs_.empty(); }

 private:
  Layer* outbound_layer_;
  std::vector<KerasTensor> inputs_;
  std::vector<std::shared_ptr<const TensorSpec>> outputs_;
  std::vector<std::shared_ptr<const TensorSpec>> output_masks_;
};

// One layer's nodes: the calls of this layer (inbound, owned) and the calls of
// other layers that consumed its outputs (outbound, weak: forward edges would
// otherwise make a graph own itself), with the node-indexed queries.
//
// Errors, as Keras raises them and naming the owning layer: ValueError for a
// node index out of range; RuntimeError when the layer was never called
// symbolically ("has never been called", or "has only been called on concrete
// tensors"); the single-node properties (input(), output_shape(), ...)
// AttributeError when the layer has several nodes that disagree.
class NodeHistory {
 public:
  // `owner` is the layer this history belongs to (names in errors, the layer
  // of the KerasTensors handed out); it must outlive the history.
  explicit NodeHistory(const Layer& owner) : owner_(owner) {}
  NodeHistory(const NodeHistory&) = delete;
  NodeHistory& operator=(const NodeHistory&) = delete;

  // --- recording ---------------------------------------------------------------
  const std::vector<std::shared_ptr<Node>>& inbound() const { return inbound_; }
  std::vector<std::shared_ptr<Node>> outbound() const;  // the live ones
  // Appends a node of the owner; returns its index.
  int add_inbound(std::shared_ptr<Node> node);
  void add_outbound(const std::shared_ptr<Node>& node);
  // A network's own node (inputs to outputs) is node 0: set_front puts `node`
  // there, replacing the current node 0 when `replace`; erase_front removes it.
  void set_front(std::shared_ptr<Node> node, bool replace);
  void erase_front();
  // The owner has computed on concrete tensors (which records no node); the
  // "no node" errors say so.
  // Written once: later calls (also from several predict threads at once) only read it.
  void mark_called_concretely() {
    if (!called_concretely_) called_concretely_ = true;
  }

  // --- node-indexed queries (Keras get_*_at) -----------------------------------
  std::vector<KerasTensor> get_inputs_at(int node_index) const;
  KerasTensor get_input_at(int node_index) const;  // ValueError unless the node has one input
  std::vector<KerasTensor> get_outputs_at(int node_index) const;
  KerasTensor get_output_at(int node_index) const;
  std::vector<Shape> get_input_shapes_at(int node_index) const;
  Shape get_input_shape_at(int node_index) const;
  std::vector<Shape> get_output_shapes_at(int node_index) const;
  Shape get_output_shape_at(int node_index) const;
  // Masks: std::nullopt is Keras's None.
  std::optional<KerasTensor> get_input_mask_at(int node_index) const;
  std::optional<KerasTensor> get_output_mask_at(int node_index) const;

  // --- single-node properties (Keras input, output, input_shape, ...) ------------
  KerasTensor input() const;
  KerasTensor output() const;
  Shape input_shape() const;  // also defined when all nodes agree
  Shape output_shape() const;
  std::optional<KerasTensor> input_mask() const;
  std::optional<KerasTensor> output_mask() const;

 private:
  // Node `node_index`, or the Keras error for `what` ("input", "output shape").
  const Node& node_at(int node_index, const char* what) const;
  // Checks that the notion of "layer <what>" is defined: exactly one node.
  void require_single_node(const char* what) const;

  const Layer& owner_;
  std::vector<std::shared_ptr<Node>> inbound_;
  std::vector<std::weak_ptr<Node>> outbound_;
  bool called_concretely_ = false;
};

}  // namespace minidl
