// layers/base/dtype_policy.h — Keras's dtype policies: a layer's compute and variable dtypes.
//
//   set_global_policy("mixed_bfloat16");   // keras.mixed_precision.set_global_policy
//   Dense d(10);                           // d->dtype_policy().name() == "mixed_bfloat16"
//   Dense e(10, {.dtype = "float32"});     // one layer kept in float32
//
// minidl computes with two policies: "float32" (the default) and
// "mixed_bfloat16" (compute dtype bfloat16, variable dtype float32). Under
// mixed_bfloat16, as in Keras, a layer's floating-point inputs are cast to
// bfloat16, Dense and the convolution layers (Conv2D, DepthwiseConv2D,
// SeparableConv2D, Conv2DTranspose) multiply bfloat16 operands with float32
// accumulation (ops/gemm_bf16.h, ops/conv2d_bf16.h), and the layer's outputs
// are bfloat16.
// bfloat16 values are kept in float32 storage, rounded to the nearest
// bfloat16: the numbers are Keras's, whichever GEMM ran. Variables, the
// optimizer and the loss stay float32; bfloat16 needs no loss scaling (Keras
// scales the loss for mixed_float16 only). The gradient of a cast is the
// identity, as the gradient of Keras's cast is the incoming gradient.
//
// Policy names Keras accepts but minidl does not compute with
// ("mixed_float16", "float16", "bfloat16", "float64", integer dtypes) raise a
// ValueError saying so; names Keras rejects raise Keras's own ValueError.
#pragma once

#include <string>

#include "autograd/variable.h"

namespace minidl {

class DTypePolicy {
 public:
  // The global policy (global_policy()).
  DTypePolicy();
  // ValueError for a name minidl does not compute with or Keras does not know.
  explicit DTypePolicy(const std::string& name);

  const std::string& name() const { return name_; }
  // "float32" or "bfloat16".
  const std::string& compute_dtype() const { return compute_dtype_; }
  // Always "float32".
  const std::string& variable_dtype() const { return variable_dtype_; }
  // compute_dtype() == "bfloat16".
  bool computes_in_bfloat16() const { return bfloat16_; }
  bool operator==(const DTypePolicy& o) const { return name_ == o.name_; }

 private:
  std::string name_, compute_dtype_, variable_dtype_;
  bool bfloat16_ = false;
};

// keras.mixed_precision.set_global_policy / keras.config.set_dtype_policy: the
// policy of every layer constructed afterwards without a `dtype`. One setting
// for the process (not per thread), read when a layer is constructed.
void set_global_policy(const std::string& name);
void set_global_policy(const DTypePolicy& policy);
// keras.mixed_precision.global_policy / keras.config.dtype_policy: "float32" until set.
DTypePolicy global_policy();

// x with every element rounded to the nearest bfloat16 (ops::round_to_bfloat16),
// a new tensor on the tape whose gradient is the incoming one.
Variable cast_to_bfloat16(const Variable& x);

}  // namespace minidl
