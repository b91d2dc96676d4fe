// layers/base/node.h — Keras's record of one symbolic call of a layer.
//
// Every time a layer is called on KerasTensors it appends a Node to its
// inbound_nodes: which tensors went in (and so which layers they came from),
// and the specs of what came out. A layer used twice (a shared layer) has two
// nodes; get_input_at(i) / get_output_shape_at(i) read node i.
//
// (Naming: this is not the autograd tape. The tape entry is a GradFn,
// autograd/variable.h.)
#pragma once

#include <memory>
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

}  // namespace minidl
