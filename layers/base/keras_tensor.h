// layers/base/keras_tensor.h — symbolic tensors: shapes flowing through a graph before data does.
//
// Calling a layer on a KerasTensor does not compute anything: it builds the
// layer from the input shape, computes the output shape, and records a Node
// (layers/base/node.h). The returned KerasTensor remembers where it came from —
// its "history" (layer, node_index, tensor_index), exactly Keras's
// `_keras_history` — which is how Model(inputs, outputs) later finds the graph.
//
//   KerasTensor x = Input({28, 28, 1});        // shape (None, 28, 28, 1)
//   KerasTensor y = Conv2D(32, 3)(x);          // shape (None, 26, 26, 32)
//   y.layer()->name() == "conv2d"; y.node_index() == 0
//
// Ownership: a KerasTensor holds its producing layer strongly; a Node holds its
// input KerasTensors strongly; a layer holds its inbound Nodes. All edges point
// from outputs back to inputs, so a graph never owns itself (no cycles, no leaks).
#pragma once

#include <memory>
#include <string>

#include "core/shape.h"

namespace minidl {

class Layer;

// What a symbolic tensor is: shape (batch may be kNone), dtype and name.
struct TensorSpec {
  Shape shape;
  std::string dtype = "float32";
  std::string name;
};

class KerasTensor {
 public:
  KerasTensor() = default;
  // A tensor with history: output `tensor_index` of `layer`'s node `node_index`.
  KerasTensor(std::shared_ptr<const TensorSpec> spec, std::shared_ptr<Layer> layer, int node_index, int tensor_index);
  // A tensor without history (used for symbolic masks).
  explicit KerasTensor(std::shared_ptr<const TensorSpec> spec);

  bool defined() const { return static_cast<bool>(spec_); }
  const Shape& shape() const;
  int rank() const { return static_cast<int>(shape().size()); }
  const std::string& dtype() const;
  const std::string& name() const;

  bool has_history() const { return layer_ || !weak_layer_.expired(); }
  std::shared_ptr<Layer> layer() const { return layer_ ? layer_ : weak_layer_.lock(); }
  // The same tensor, but its reference to the producing layer does not own it.
  // A Node uses this for an input produced by the Node's own layer (a layer
  // applied to its own output, e.g. a nested model used twice in a chain):
  // that layer owns the Node, so an owning reference back would be a cycle
  // that no shared_ptr ever frees. While the Node lives, its layer lives.
  KerasTensor without_ownership() const;
  int node_index() const { return node_index_; }
  int tensor_index() const { return tensor_index_; }

  // Same producing (layer, node, index) — Keras tensors are compared by identity.
  bool same_as(const KerasTensor& other) const { return spec_ == other.spec_; }
  const TensorSpec* id() const { return spec_.get(); }
  const std::shared_ptr<const TensorSpec>& spec() const { return spec_; }

 private:
  std::shared_ptr<const TensorSpec> spec_;
  std::shared_ptr<Layer> layer_;
  std::weak_ptr<Layer> weak_layer_;  // set instead of layer_ by without_ownership()
  int node_index_ = 0;
  int tensor_index_ = 0;
};

}  // namespace minidl
