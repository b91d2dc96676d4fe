// layers/merge/merge.h — layers that combine several tensors: Add, Subtract, Multiply,
// Average, Maximum, Minimum (element-wise) and Concatenate.
//
//   KerasTensor a = Input({16}), b = Input({16});
//   KerasTensor s = Add()({a, b});                        // (None, 16); one node, two inbound layers
//   KerasTensor c = Concatenate({.axis = -1})({a, b});    // (None, 32)
//   Variable y = Add()({x1, x2});                         // concrete (a std::vector gives a vector)
//
// Element-wise shape rule (tf.keras's _Merge): all inputs have the same rank
// (a minidl restriction; tf.keras also reshapes inputs of different ranks), the
// known batch sizes agree, and every other axis is equal or 1 in each input
// (size-1 axes broadcast); None merges to None. Otherwise ValueError "Inputs
// have incompatible shapes. Received shapes (None, 3) and (None, 4)", or
// "Cannot merge tensors with different batch sizes ...".
//
// Masks, as tf.keras: the element-wise merges output the AND of the inputs'
// masks (inputs without a mask are ignored; no mask at all gives none);
// Concatenate joins the masks along its axis (inputs without one count as
// all-ones), or ANDs them when concatenating along the last axis.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layers/base/layer.h"

namespace minidl {

struct MergeOptions {
  MINIDL_COMMON_LAYER_OPTIONS;
};

// How an element-wise merge combines its inputs:
//   kAdd       x1 + x2 + ... (one fused pass when all shapes are equal)
//   kSubtract  x1 - x2; exactly two inputs ("A `Subtract` layer should be called on exactly 2 inputs")
//   kMultiply  x1 * x2 * ...
//   kAverage   (x1 + x2 + ...) / n (one fused pass when all shapes are equal)
//   kMaximum   element-wise maximum; on ties the gradient goes to the earliest input
//   kMinimum   element-wise minimum; on ties the gradient goes to the earliest input
enum class MergeOp { kAdd, kSubtract, kMultiply, kAverage, kMaximum, kMinimum };

// The element-wise merge layers: one class, told apart by their MergeOp.
// Nothing derives from it, so its Layer hooks are private.
class MergeImpl final : public Layer {
 public:
  using Layer::compute_mask;  // the public compute_mask(inputs, mask) forms, next to this class's hook
  explicit MergeImpl(MergeOp op, MergeOptions o = {});

  // "Add", "Subtract", "Multiply", "Average", "Maximum" or "Minimum".
  std::string class_name() const override;
  MergeOp op() const { return op_; }

  // The merged shape; ValueError as described above, or for a wrong number of inputs.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

  // Reads a Keras config of the layer `op` names (only the common keys).
  static std::shared_ptr<MergeImpl> from_config(MergeOp op, const json& config);

 private:
  // Checks the inputs against the shape rule (skipped for inputs of one shape), then merge().
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
  std::vector<Tensor> compute_mask(const std::vector<Variable>& inputs, const std::vector<Tensor>& masks) override;
  std::vector<std::optional<Shape>> compute_mask_shape(const std::vector<Shape>& input_shapes,
                                                       const std::vector<std::optional<Shape>>& mask_shapes) override;

  // 2 for Subtract; 0 for the others, which take any number >= 1 (tf.keras).
  size_t exact_inputs() const { return op_ == MergeOp::kSubtract ? 2 : 0; }
  // The merged value of inputs already checked against the shape rule.
  Variable merge(const std::vector<Variable>& inputs) const;

  MergeOp op_;
};

// The Keras-named handles: Add()({a, b}), Subtract({.name = "diff"})({a, b}), ...
template <MergeOp Op>
class MergeLayer : public LayerHolder<MergeImpl> {
 public:
  explicit MergeLayer(MergeOptions o = {}) : LayerHolder(std::make_shared<MergeImpl>(Op, std::move(o))) {}
  explicit MergeLayer(std::shared_ptr<MergeImpl> p) : LayerHolder(std::move(p)) {}
};

using Add = MergeLayer<MergeOp::kAdd>;
using Subtract = MergeLayer<MergeOp::kSubtract>;
using Multiply = MergeLayer<MergeOp::kMultiply>;
using Average = MergeLayer<MergeOp::kAverage>;
using Maximum = MergeLayer<MergeOp::kMaximum>;
using Minimum = MergeLayer<MergeOp::kMinimum>;

// ---------------------------------------------------------------------------
// Concatenate

struct ConcatenateOptions {
  int axis = -1;
  MINIDL_COMMON_LAYER_OPTIONS;
};

class ConcatenateImpl : public Layer {
 public:
  using Layer::compute_mask;  // the public compute_mask(inputs, mask) forms, next to this class's hook
  explicit ConcatenateImpl(ConcatenateOptions o = {});
  std::string class_name() const override { return "Concatenate"; }

  // Dimensions add up along axis (None if any is None); all other axes must
  // match where known. ValueError "A `Concatenate` layer requires inputs with
  // matching shapes except for the concatenation axis. Received: input_shape=[...]",
  // or when axis is out of range for the inputs' rank.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  json get_config() const override;  // {"axis": -1}
  static std::shared_ptr<ConcatenateImpl> from_config(const json& config);

  int axis() const { return axis_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
  std::vector<Tensor> compute_mask(const std::vector<Variable>& inputs, const std::vector<Tensor>& masks) override;
  std::vector<std::optional<Shape>> compute_mask_shape(const std::vector<Shape>& input_shapes,
                                                       const std::vector<std::optional<Shape>>& mask_shapes) override;

 private:
  int axis_;
};

class Concatenate : public LayerHolder<ConcatenateImpl> {
 public:
  explicit Concatenate(ConcatenateOptions o = {}) : LayerHolder(std::make_shared<ConcatenateImpl>(std::move(o))) {}
  explicit Concatenate(std::shared_ptr<ConcatenateImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
