#include "layers/base/node.h"

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

}  // namespace minidl
