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

// Base of the element-wise merges. Subclasses implement merge().
class MergeImpl : public Layer {
 public:
  // The merged shape; ValueError as described above, or for a wrong number of inputs.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

 protected:
  // exact_inputs = 0: any number >= 1 (tf.keras); otherwise exactly that many.
  MergeImpl(LayerOptions o, const std::string& default_name_prefix, size_t exact_inputs = 0);

  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
  // Computes the merged value of inputs already checked against the shape rule.
  virtual Variable merge(const std::vector<Variable>& inputs) = 0;

  std::vector<Tensor> compute_mask(const std::vector<Variable>& inputs, const std::vector<Tensor>& masks) override;
  std::vector<std::optional<Shape>> compute_mask_shape(const std::vector<Shape>& input_shapes,
                                                       const std::vector<std::optional<Shape>>& mask_shapes) override;

  // True when every input has the first one's shape (the fused fast paths).
  static bool same_shapes(const std::vector<Variable>& inputs);

 private:
  size_t exact_inputs_;
};

// x1 + x2 + ... (one fused pass when all shapes are equal).
class AddImpl : public MergeImpl {
 public:
  explicit AddImpl(MergeOptions o = {});
  std::string class_name() const override { return "Add"; }
  static std::shared_ptr<AddImpl> from_config(const json& config);

 protected:
  Variable merge(const std::vector<Variable>& inputs) override;
};

class Add : public LayerHolder<AddImpl> {
 public:
  explicit Add(MergeOptions o = {}) : LayerHolder(std::make_shared<AddImpl>(std::move(o))) {}
  explicit Add(std::shared_ptr<AddImpl> p) : LayerHolder(std::move(p)) {}
};

// x1 - x2; exactly two inputs ("A `Subtract` layer should be called on exactly 2 inputs").
class SubtractImpl : public MergeImpl {
 public:
  explicit SubtractImpl(MergeOptions o = {});
  std::string class_name() const override { return "Subtract"; }
  static std::shared_ptr<SubtractImpl> from_config(const json& config);

 protected:
  Variable merge(const std::vector<Variable>& inputs) override;
};

class Subtract : public LayerHolder<SubtractImpl> {
 public:
  explicit Subtract(MergeOptions o = {}) : LayerHolder(std::make_shared<SubtractImpl>(std::move(o))) {}
  explicit Subtract(std::shared_ptr<SubtractImpl> p) : LayerHolder(std::move(p)) {}
};

// x1 * x2 * ...
class MultiplyImpl : public MergeImpl {
 public:
  explicit MultiplyImpl(MergeOptions o = {});
  std::string class_name() const override { return "Multiply"; }
  static std::shared_ptr<MultiplyImpl> from_config(const json& config);

 protected:
  Variable merge(const std::vector<Variable>& inputs) override;
};

class Multiply : public LayerHolder<MultiplyImpl> {
 public:
  explicit Multiply(MergeOptions o = {}) : LayerHolder(std::make_shared<MultiplyImpl>(std::move(o))) {}
  explicit Multiply(std::shared_ptr<MultiplyImpl> p) : LayerHolder(std::move(p)) {}
};

// (x1 + x2 + ...) / n (one fused pass when all shapes are equal).
class AverageImpl : public MergeImpl {
 public:
  explicit AverageImpl(MergeOptions o = {});
  std::string class_name() const override { return "Average"; }
  static std::shared_ptr<AverageImpl> from_config(const json& config);

 protected:
  Variable merge(const std::vector<Variable>& inputs) override;
};

class Average : public LayerHolder<AverageImpl> {
 public:
  explicit Average(MergeOptions o = {}) : LayerHolder(std::make_shared<AverageImpl>(std::move(o))) {}
  explicit Average(std::shared_ptr<AverageImpl> p) : LayerHolder(std::move(p)) {}
};

// Element-wise maximum; on ties the gradient goes to the earliest input.
class MaximumImpl : public MergeImpl {
 public:
  explicit MaximumImpl(MergeOptions o = {});
  std::string class_name() const override { return "Maximum"; }
  static std::shared_ptr<MaximumImpl> from_config(const json& config);

 protected:
  Variable merge(const std::vector<Variable>& inputs) override;
};

class Maximum : public LayerHolder<MaximumImpl> {
 public:
  explicit Maximum(MergeOptions o = {}) : LayerHolder(std::make_shared<MaximumImpl>(std::move(o))) {}
  explicit Maximum(std::shared_ptr<MaximumImpl> p) : LayerHolder(std::move(p)) {}
};

// Element-wise minimum; on ties the gradient goes to the earliest input.
class MinimumImpl : public MergeImpl {
 public:
  explicit MinimumImpl(MergeOptions o = {});
  std::string class_name() const override { return "Minimum"; }
  static std::shared_ptr<MinimumImpl> from_config(const json& config);

 protected:
  Variable merge(const std::vector<Variable>& inputs) override;
};

class Minimum : public LayerHolder<MinimumImpl> {
 public:
  explicit Minimum(MergeOptions o = {}) : LayerHolder(std::make_shared<MinimumImpl>(std::move(o))) {}
  explicit Minimum(std::shared_ptr<MinimumImpl> p) : LayerHolder(std::move(p)) {}
};

// ---------------------------------------------------------------------------
// Concatenate

struct ConcatenateOptions {
  int axis = -1;
  MINIDL_COMMON_LAYER_OPTIONS;
};

class ConcatenateImpl : public Layer {
 public:
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
