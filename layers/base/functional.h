// layers/base/functional.h — a graph of layers, itself a layer (Keras's Functional network).
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
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "layers/base/layer.h"

namespace minidl {

class InferencePlan;

class FunctionalImpl : public Layer {
 public:
  using Layer::compute_mask;  // the public compute_mask(inputs, mask) forms, next to this class's hook
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

  // The number of layer chains inference runs compute as one fused step
  // (layers/base/inference_plan.h); 0 until the first inference run has made the plan.
  size_t fused_inference_steps() const;

  // Runs the graph on concrete inputs (what call() does), also returning output masks.
  VariableList run(const std::vector<Variable>& inputs, const CallArgs& args,
                            std::vector<Tensor>* out_masks = nullptr);

 protected:
  // For Sequential: a network whose graph is set later by init_graph.
  explicit FunctionalImpl(const std::string& name, const std::string& default_prefix);
  void init_graph(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs);
  // Sequential::add's step: when the graph has one input and one output and `output` comes
  // from a new layer's node whose only input is that output, extends the graph by that node
  // (the graph, plan and self node init_graph would make for the longer chain) in time
  // independent of the graph's size, and returns true. Returns false, changing nothing,
  // for anything else (the caller then runs init_graph). ValueError, changing nothing, when
  // the new layer's name is already used in the graph.
  bool append_to_chain(const KerasTensor& output);
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
  // number, so a forward pass keeps its values in one vector indexed by slot
  // and allocates nothing per tensor.
  struct NodeSlots {
    std::vector<int> in, out;
  };
  std::vector<NodeSlots> node_slots_;  // parallel to nodes_in_order_
  // Every layer of layers_ by name (names are unique in a graph and fixed once a layer exists).
  std::unordered_map<std::string, LayerPtr> layer_by_name_;
  std::vector<int> input_slots_, output_slots_;
  int num_slots_ = 0;
  // The fused inference steps (layers/base/inference_plan.h), made by the first
  // inference run once every layer is built; dropped whenever the graph changes.
  std::shared_ptr<InferencePlan> inference_plan_;
  // The plan for the current graph, made if needed; null while it cannot be made.
  const InferencePlan* inference_plan();

  // Makes inbound_nodes()[0] the node connecting inputs_ to outputs_.
  void set_self_node();
};

// The deepest nesting of models inside models that configs may describe: the outermost
// model is level 1, a model among its layers level 2, and so on. Real Keras models nest 1-3
// levels (an application backbone inside a model); a file's JSON, limited to
// kMaxJsonDepth (layers/base/json_text.h) levels with 3-4 levels per model, can describe about
// 25, so the cap is reached by files too, and by configs built in memory (which no parse
// limit covers) long before the recursion that builds them can exhaust the stack.
inline constexpr int kMaxModelNesting = 16;

// Held while a model's config is being built (Functional and Sequential from_config): one
// level of model nesting on this thread. ValueError, naming the model, its depth, the
// limit and the enclosing models, when the level would exceed kMaxModelNesting.
class ModelNestingGuard {
 public:
  explicit ModelNestingGuard(const std::string& model_name);
  ~ModelNestingGuard();
  ModelNestingGuard(const ModelNestingGuard&) = delete;
  ModelNestingGuard& operator=(const ModelNestingGuard&) = delete;
};

}  // namespace minidl
