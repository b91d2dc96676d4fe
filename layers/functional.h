// layers/functional.h — a graph of layers, itself a layer (Keras's Functional network).
//
//   KerasTensor in = Input({28, 28, 1});
//   KerasTensor h = Conv2D(8, 3)(in);
//   FunctionalImpl net({in}, {Dense(10)(Flatten()(h))});
//
// Construction walks back from the outputs through each tensor's history,
// orders the nodes by depth once (inputs first) and keeps that order for every
// concrete call. Calling the network on Variables runs its nodes in that order;
// calling it on KerasTensors records a node on the network itself, so a model
// can be used as a layer inside another model.
//
// The user-facing classes are Model and Sequential (train/model.h), which add
// compile/fit/evaluate/predict — as in Keras, where Functional derives from the
// training Model. This file is the graph half only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "layers/layer.h"

namespace minidl {

class FunctionalImpl : public Layer {
 public:
  // ValueError when inputs are not Input() tensors, outputs are not reachable
  // from them, or two layers share a name.
  FunctionalImpl(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, const std::string& name = "");

  std::string class_name() const override { return "Functional"; }

  const std::vector<KerasTensor>& inputs() const { return inputs_; }
  const std::vector<KerasTensor>& outputs() const { return outputs_; }
  // Keras model.layers: every layer of the graph, InputLayers included, inputs first.
  virtual std::vector<LayerPtr> layers() const { return layers_; }
  // ValueError naming what was asked and what exists.
  LayerPtr get_layer(const std::string& name) const;
  LayerPtr get_layer(int index) const;

  const std::vector<LayerPtr>& sublayer_list() const override { return layers_; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

  // Keras "Functional" config: name, layers (with inbound_nodes), input_layers, output_layers.
  json get_config() const override;
  // Rebuilds the graph a get_config() describes (Keras 2 node format). Returns (inputs, outputs).
  static std::pair<std::vector<KerasTensor>, std::vector<KerasTensor>> graph_from_config(const json& config);

  // The Keras summary table. line_length 0 picks Keras's default (65 for a
  // sequential-like graph, 98 otherwise).
  virtual std::string summary(int line_length = 0) const;

  // Runs the graph on concrete inputs (what call() does), also returning output masks.
  VariableList run(const std::vector<Variable>& inputs, const CallArgs& args,
                            std::vector<Tensor>* out_masks = nullptr);

 protected:
  // For Sequential: a network whose graph is set later by init_graph.
  explicit FunctionalImpl(const std::string& name, const std::string& default_prefix);
  void init_graph(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs);
  bool has_graph() const { return !outputs_.empty(); }
  // Forgets the graph (Sequential after popping its last layer).
  void clear_graph();

  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
  std::vector<Tensor> compute_mask(const std::vector<Variable>& inputs, const std::vector<Tensor>& masks) override;

  // True if the node (layer, index) is part of this network.
  bool owns_node(const Node* node) const;
  // Summary helpers shared with Sequential.
  bool is_sequential_like() const;
  std::string summary_table(const std::vector<LayerPtr>& rows, bool connected_column, int line_length) const;

  std::vector<KerasTensor> inputs_, outputs_;
  std::vector<LayerPtr> layers_;
  std::vector<const Node*> nodes_in_order_;  // non-input nodes, in execution order
  bool has_self_node_ = false;               // inbound_nodes()[0] is the graph's own node

 private:
  // run()'s plan, made by init_graph: each tensor of the graph has a slot
  // number, so a forward pass keeps its values in one vector instead of a map
  // (a map allocated a node per tensor on every training step).
  struct NodeSlots {
    std::vector<int> in, out;
  };
  std::vector<NodeSlots> node_slots_;  // parallel to nodes_in_order_
  std::vector<int> input_slots_, output_slots_;
  int num_slots_ = 0;
};

}  // namespace minidl
