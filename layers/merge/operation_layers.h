// layers/merge/operation_layers.h — Keras 3 operations recorded as layers: `x + 3`, `x * y`,
// `relu6(x + 3) / 6`. Keras 3 turns an operation applied to symbolic tensors inside a functional
// model into a node of an Operation (keras.src.ops.numpy.Add, Multiply, ...) whose call takes two
// positional arguments, each a tensor or a constant. minidl keeps such an operation as a layer,
// OperationImpl, with the constants stored in the layer.
//
//   KerasTensor x = Input({8, 8, 16});
//   KerasTensor s = keras_ops::multiply(keras_ops::add(x, 3.0), 1.0 / 6);  // two operation layers
//   KerasTensor p = GlobalAveragePooling2D({.keepdims = true})(x);          // (None, 1, 1, 16)
//   KerasTensor y = keras_ops::multiply(x, p);                              // (None, 8, 8, 16), broadcast
//   auto op = std::make_shared<OperationImpl>(OperationKind::kSubtract,    // 1 - x, on concrete tensors
//       std::vector<std::optional<Tensor>>{Tensor::scalar(1), std::nullopt});
//
// Shapes broadcast as NumPy's (keras.src.ops.operation_utils.broadcast_shapes): the shorter shape
// is padded with leading 1s, a 1 takes the other size, None meets a size as that size. Shapes that
// do not broadcast are a ValueError naming the operation and the layer, with Keras's text:
// "Multiply 'multiply': Cannot broadcast shape, the failure dim has value 4, which cannot be
// broadcasted to 3. Input shapes are: (None, 4) and (None, 3)."
//
// Gradients flow to the tensor arguments (summed over broadcast axes), never to constants.
// Maximum and Minimum give the whole gradient to the first argument on ties; Power's gradient
// with respect to a tensor exponent is taken as 0 where the base is not positive (autograd::pow).
//
// In files: the config is {"name": ...} only, as Keras writes it; the constants live in the call
// (layers/base/positional_args.h). A `.keras` config names the module keras.src.ops.numpy; a
// legacy `.h5` written by Keras 3 does not, so there an operation is told from the merge layer of
// the same class name by its call (two positional arguments rather than one list of tensors).
// Masks are not propagated (a Keras 3 operation computes none).
#pragma once

// The full JSON header: each argument keeps its constant as a json value.
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layers/base/keras_tensor.h"
#include "layers/base/layer.h"
#include "layers/base/positional_args.h"

namespace minidl {

// The binary operations of keras.src.ops.numpy that minidl computes, by Keras class name:
// Add, Subtract, Multiply, Divide, TrueDivide (Divide and TrueDivide compute the same float
// quotient), Maximum, Minimum, Power.
enum class OperationKind { kAdd, kSubtract, kMultiply, kDivide, kTrueDivide, kMaximum, kMinimum, kPower };

// "Add", "TrueDivide", ...
const char* operation_class_name(OperationKind kind);

class OperationImpl final : public Layer, public PositionalArgsLayer {
 public:
  // `args` holds the two positional arguments: std::nullopt for a tensor (the layer's inputs fill
  // them in order), else a constant (a scalar of shape (), or an array broadcast as NumPy does).
  // ValueError unless there are exactly two arguments and at least one is a tensor. `name` ""
  // gives the unique default ("add", "add_1", ...).
  OperationImpl(OperationKind kind, std::vector<std::optional<Tensor>> args, std::string name = "");
  // Both arguments tensors.
  explicit OperationImpl(OperationKind kind, std::string name = "");

  std::string class_name() const override { return operation_class_name(kind_); }
  OperationKind kind() const { return kind_; }
  // The number of tensor arguments (the layer's inputs).
  size_t tensor_count() const;

  // The broadcast shape of the arguments; ValueError as described above, or for a number of input
  // shapes other than tensor_count().
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  // {"name": ...}, as Keras's Operation.get_config.
  json get_config() const override;
  // Reads a Keras config ({"name"}; the common layer keys are accepted). The arguments start as two
  // tensors; a functional config sets its constants through set_positional_args.
  static std::shared_ptr<OperationImpl> from_config(OperationKind kind, const json& config);

  std::vector<std::optional<json>> positional_args() const override;
  void set_positional_args(const std::vector<std::optional<json>>& args) override;

 private:
  struct Arg {
    bool is_tensor = true;
    Variable constant{};  // no gradient
    json config{};        // the constant as it is written to a file
  };

  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
  std::vector<Tensor> compute_mask(const std::vector<Variable>& inputs, const std::vector<Tensor>& masks) override;
  std::vector<std::optional<Shape>> compute_mask_shape(const std::vector<Shape>& input_shapes,
                                                       const std::vector<std::optional<Shape>>& mask_shapes) override;

  // The two argument shapes for these input shapes (constants' shapes filled in).
  std::pair<Shape, Shape> argument_shapes(const std::vector<Shape>& input_shapes) const;
  // x1 op x2 on values already known to broadcast.
  Variable compute(const Variable& x1, const Variable& x2) const;
  static Arg constant_arg(const json& config, const std::string& owner);

  OperationKind kind_;
  std::vector<Arg> args_;
  bool args_set_from_config_ = false;
};

// Symbolic operations as Keras's keras.ops functions record them: each argument a KerasTensor or a
// constant (a number, or a Tensor written to files as a __numpy__ array); at least one a tensor
// (ValueError otherwise). Each call makes a new operation layer and returns its output.
namespace keras_ops {

class Operand {
 public:
  Operand(const KerasTensor& tensor) : tensor_(tensor) {}  // NOLINT: implicit, as Keras's arguments
  Operand(double constant);                                // NOLINT
  Operand(Tensor constant) : constant_(std::move(constant)) {}  // NOLINT

 private:
  friend KerasTensor apply(OperationKind kind, const Operand& x1, const Operand& x2);
  std::optional<KerasTensor> tensor_;
  Tensor constant_;
};

KerasTensor apply(OperationKind kind, const Operand& x1, const Operand& x2);
inline KerasTensor add(const Operand& x1, const Operand& x2) { return apply(OperationKind::kAdd, x1, x2); }
inline KerasTensor subtract(const Operand& x1, const Operand& x2) { return apply(OperationKind::kSubtract, x1, x2); }
inline KerasTensor multiply(const Operand& x1, const Operand& x2) { return apply(OperationKind::kMultiply, x1, x2); }
inline KerasTensor divide(const Operand& x1, const Operand& x2) { return apply(OperationKind::kDivide, x1, x2); }
inline KerasTensor true_divide(const Operand& x1, const Operand& x2) {
  return apply(OperationKind::kTrueDivide, x1, x2);
}
inline KerasTensor maximum(const Operand& x1, const Operand& x2) { return apply(OperationKind::kMaximum, x1, x2); }
inline KerasTensor minimum(const Operand& x1, const Operand& x2) { return apply(OperationKind::kMinimum, x1, x2); }
inline KerasTensor power(const Operand& x1, const Operand& x2) { return apply(OperationKind::kPower, x1, x2); }

}  // namespace keras_ops
}  // namespace minidl
