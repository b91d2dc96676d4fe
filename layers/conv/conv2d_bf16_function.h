// layers/conv/conv2d_bf16_function.h — the differentiable 2-D convolution of the mixed_bfloat16
// policy: conv2d_variable (layers/conv/conv2d_function.h) with bfloat16 products.
//
// One tape entry (name "conv2d") around ops/conv2d_bf16.h: the input, the kernel
// and the bias are rounded to bfloat16 inside the op, the products are
// accumulated in float32, and the backward computes dx and dkernel from
// bfloat16 operands too (dy rounded, after the fused relu's mask). The
// gradients reach x, the float32 kernel and the bias unrounded, as the
// gradient of Keras's cast is the incoming one. The output is not rounded
// here: the layer rounds its outputs (layers/base/dtype_policy.h).
// conv2d_transpose_variable_bf16 is Conv2DTranspose's counterpart: its forward
// and both gradients through the same bfloat16 kernels.
//
//   Variable y = conv2d_variable_bf16(x, kernel, &bias, call, scratch);   // under mixed_bfloat16
#pragma once

#include <memory>

#include "layers/conv/conv2d_function.h"
#include "layers/conv/conv2d_transpose_function.h"

namespace minidl {

// conv2d_variable with bfloat16 products; same arguments, requirements and errors.
// Defined in layers/conv/conv2d_function.cpp beside conv2d_variable.
Variable conv2d_variable_bf16(const Variable& x, const Variable& kernel, const Variable* bias, const Conv2DCall& call,
                              const std::shared_ptr<ConvScratch>& scratch);

// conv2d_transpose_variable with bfloat16 products and bias; same arguments,
// requirements and errors. Defined in layers/conv/conv2d_transpose_function.cpp.
Variable conv2d_transpose_variable_bf16(const Variable& x, const Variable& kernel, const Variable* bias,
                                        const Conv2DTransposeCall& call, const std::shared_ptr<ConvScratch>& scratch);

}  // namespace minidl
