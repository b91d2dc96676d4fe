// layers/base/positional_args.h — the interface of a layer called with constants among its positional
// arguments, as Keras 3 records an operation applied to symbolic tensors: `x + 3` is the operation
// keras.src.ops.numpy.Add called with the arguments [x, 3.0].
//
// The functional graph reads and writes such calls through this interface. A node of the layer is
// written as Keras 3 writes it, {"args": [...], "kwargs": {}}, each argument either a
// {"class_name": "__keras_tensor__", ...} (the layer's next input, in order) or the constant as Keras
// serializes it: a plain number, or {"class_name": "__numpy__" | "__tensor__", "config": {"value",
// "dtype"}} for an array. Reading a config hands the constants to the layer before it is called on
// its tensor arguments. Implemented by OperationImpl (layers/merge/operation_layers.h).
#pragma once

#include <optional>
#include <vector>

#include "layers/base/config_utils.h"

namespace minidl {

// The module Keras 3 names for its numpy-style operations in a `.keras` config. Their layers are
// registered (layers/base/registry.h) as "<module>.<class>", e.g. "keras.src.ops.numpy.Add", apart
// from the merge layer "Add" whose class name they share.
inline constexpr const char* kKerasNumpyOpsModule = "keras.src.ops.numpy";

// True when a layer entry of a functional config is a Keras 3 operation rather than the layer of
// the same class name: its module (a `.keras` config), its class "keras.src.ops.numpy.<Class>", or
// a call with other than one positional argument (a legacy `.h5` config, where Keras 3 writes no
// module) says so.
bool is_operation_entry(const json& entry);

class PositionalArgsLayer {
 public:
  virtual ~PositionalArgsLayer() = default;

  // One entry per positional argument of the layer's call, in order: std::nullopt for a tensor
  // argument (the layer's inputs fill them in order), else the constant as Keras serializes it.
  virtual std::vector<std::optional<json>> positional_args() const = 0;

  // Sets the positional arguments of a call read from a config, in the form positional_args()
  // returns. ValueError naming the layer when they do not fit it (wrong count, no tensor, a
  // constant it cannot read), or differ from the constants an earlier call gave it.
  virtual void set_positional_args(const std::vector<std::optional<json>>& args) = 0;
};

}  // namespace minidl
