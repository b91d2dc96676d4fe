// ops/conv2d_direct.h — forward convolution computed directly, for inputs with few channels.
//
// When an output pixel's receptive field is small (KH*KW*C/G at most
// kDirectMaxTaps values: a first layer on grey or RGB images), im2col + GEMM
// spends its time unfolding and in a GEMM with K = 9 or 27, far from sgemm's
// speed. The direct loop instead builds one output row at a time, in L1:
//
//   y[n, oh, ow, o] = b[o] + sum over (kh, kw, c) of x[n, ih, iw, c] * k[kh, kw, c, o]
//
// with ih = oh*SH - pad_top + kh*DH, iw = ow*SW - pad_left + kw*DW (taps
// outside the image skipped): for each tap, every pixel of the row adds its
// input value times the tap's kernel row, a vector multiply-add over the OC
// filters. Output rows (n, oh) are split across threads. Only the
// forward pass: the backward of such a layer is dominated by its kernel
// gradient, which im2col's GEMM computes well (K = N*OH*OW there).
#pragma once

#include <cstdint>

#include "ops/im2col.h"

namespace minidl::ops {

constexpr int64_t kDirectMaxTaps = 32;

// True when conv2d_forward computes this convolution directly: one group and
// KH*KW*C <= kDirectMaxTaps.
bool direct_applicable(const Conv2DGeometry& g, int64_t groups);

// Same contract as conv2d_forward (ops/conv2d.h); ValueError unless
// direct_applicable. y [N, OH, OW, OC] is fully overwritten.
void conv2d_direct_forward(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g,
                           int64_t groups, int64_t OC, float* y, bool relu);

}  // namespace minidl::ops
