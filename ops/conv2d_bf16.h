// ops/conv2d_bf16.h — the 2-D convolution of Keras's mixed_bfloat16 policy: bfloat16 operands,
// products accumulated in float32, forward and backward.
//
// Same layouts, geometry, groups and arguments as ops/conv2d.h. What differs is
// the arithmetic, which is that of a bfloat16 convolution in Keras (TensorFlow
// and oneDNN multiply the rounded operands directly and accumulate in float32):
//
//   y       = conv(bf16(x), bf16(kernel)) + bf16(bias)       then max(0, y) when relu
//   dx      = conv^T(bf16(dy'), bf16(kernel))                 dy' = dy masked by relu_y > 0
//   dkernel = sum over pixels of bf16(x) * bf16(dy')
//   dbias   = sum of dy' (in double, as ops::conv2d_backward sums it)
//
// bf16 is ops::round_to_bfloat16 (ties to even). The results are float32 sums,
// not rounded to bfloat16: the layer rounds its output, as Dense's bfloat16
// GEMM leaves it to the layer (layers/base/dtype_policy.h).
//
// Method: the operands are rounded once into a per-thread buffer (grown to the
// largest call, then reused) -- for oneDNN straight into bfloat16 patterns
// (ops/bf16_convert.h), the relu mask, the bias gradient and the rounding of
// dy in one pass, and im2col moving patterns -- then every product is im2col + GEMM in
// cache-sized tiles (Conv2DWorkspace's tiling), on whole-image chunks fixed by
// the batch and the layer, never by the thread count; partial kernel and bias
// gradients are added in chunk order, so the bits do not depend on the thread
// count. Winograd is never used: its transforms change the operands of the
// products. The GEMM is oneDNN's bfloat16 GEMM where the CPU has AVX512_BF16
// (ops/gemm_bf16.h), else the float32 GEMM on the rounded operands: a product
// of two bfloat16 values is exact in float32, so both compute the same sums up
// to their order. A depthwise convolution (one input channel per group, the
// "auto" algorithm) runs the direct depthwise kernels of ops/depthwise_conv2d.h
// on the rounded operands instead, the same arithmetic without C tiny GEMMs.
#pragma once

#include <cstdint>

#include "ops/conv2d_workspace.h"
#include "ops/im2col.h"

namespace minidl::ops {

// Which GEMM multiplies: kAuto is oneDNN's bfloat16 GEMM where
// bf16_gemm_available(), else the float32 one (with gemm_bf16's one warning
// line per process). kOneDnn forces oneDNN's (which may emulate bfloat16 on a
// CPU without AVX512_BF16: for tests); ValueError when minidl was built without
// it. kFloat32 forces the float32 GEMM on the rounded operands.
enum class Bf16Gemm { kAuto, kOneDnn, kFloat32 };

// y = [relu](conv(bf16(x), bf16(kernel)) + bf16(bias)), y [N, OH, OW, OC]
// fully overwritten; bias may be null. Same requirements and ValueErrors as
// conv2d_forward.
void conv2d_forward_bf16(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g,
                         int64_t groups, int64_t OC, float* y, Conv2DWorkspace& ws, bool relu = false,
                         Bf16Gemm gemm = Bf16Gemm::kAuto);

// dx, dkernel, dbias as above, each computed only when its pointer is not null
// and OVERWRITTEN; x is read only for dkernel, kernel only for dx; relu_y as in
// conv2d_backward. Same requirements and ValueErrors as conv2d_backward.
void conv2d_backward_bf16(const float* x, const float* kernel, const float* dy, const Conv2DGeometry& g,
                          int64_t groups, int64_t OC, float* dx, float* dkernel, float* dbias, Conv2DWorkspace& ws,
                          const float* relu_y = nullptr, Bf16Gemm gemm = Bf16Gemm::kAuto);

}  // namespace minidl::ops
