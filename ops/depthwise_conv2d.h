// ops/depthwise_conv2d.h — depthwise 2-D convolution computed directly on NHWC buffers.
//
// A depthwise convolution convolves each input channel alone with its own M
// filters (M: Keras's depth_multiplier), giving output channel c*M + m:
//
//   y[n, oh, ow, c*M + m] = b[c*M + m] + sum over (kh, kw) of
//       x[n, oh*SH - pad_top + kh*DH, ow*SW - pad_left + kw*DW, c] * k[kh, kw, c, m]
//
// (taps outside the image read zero). It is the grouped convolution of
// ops/conv2d.h with groups = C and C*M filters, and the kernel [KH, KW, C, M]
// is the same memory as that convolution's [KH, KW, 1, C*M]. Through im2col
// each group would be a GEMM with one input channel: C tiny products per
// tile. Here every output pixel instead sums its KH*KW taps over a block of up
// to 64 neighbouring channels at once, contiguous in NHWC for x, y and the
// kernel alike, so the innermost loop is a few vector multiply-adds held in
// registers across the taps. Work is split over (output row, channel block)
// items with core/threads.h, so a batch of images and a single image with many
// channels both use every thread.
//
//   x, dx   [N, H, W, C]            input and its gradient
//   kernel  [KH, KW, C, M]          Keras's depthwise_kernel; dkernel likewise
//   bias    [C*M]
//   y, dy   [N, OH, OW, C*M]        output and its gradient
//
// with the geometry (sizes, strides, dilation, padding) of make_conv_geometry
// (ops/im2col.h). With M > 1 the input is first widened to [N, H, W, C*M]
// (each channel repeated M times) in the workspace, so one loop serves every M.
// The backward computes dx as the transposed gather (each input pixel sums
// the output pixels its taps reach) and dkernel and dbias as sums over the
// batch's output rows in chunks fixed by the problem, never by the thread
// count, added in chunk order: results are the same bits on any number of threads.
//
// ops::conv2d_forward/backward take this path for every convolution with one
// input channel per group when the algorithm is "auto" (ops/conv2d_algorithm.h):
// DepthwiseConv2D, SeparableConv2D's depthwise step, and Conv2D with
// groups == input channels.
#pragma once

#include <cstdint>

#include "ops/conv2d_workspace.h"
#include "ops/im2col.h"

namespace minidl::ops {

// True when conv2d_forward/backward with `groups` and `OC` filters is a
// depthwise convolution: one input channel per group (groups == C) and OC a
// multiple of C.
bool depthwise_applicable(const Conv2DGeometry& g, int64_t groups, int64_t OC);

// y = depthwise(x, kernel) + bias, then max(0, y) when relu; y [N, OH, OW, C*M]
// fully overwritten. bias may be null. x, kernel and y must not overlap.
// ValueError when M < 1, the geometry is inconsistent (as conv2d_forward
// checks it) or a required pointer is null.
void depthwise_conv2d_forward(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g,
                              int64_t M, float* y, Conv2DWorkspace& ws, bool relu = false);

// Gradients given dy = dL/dy [N, OH, OW, C*M]: dx [N, H, W, C], dkernel
// [KH, KW, C, M] and dbias [C*M], each computed only when its pointer is not
// null and OVERWRITTEN. x is read only for dkernel, kernel only for dx.
// relu_y, when not null, is the output of a forward with relu: dy is taken as
// 0 wherever relu_y <= 0. With N = 0, dkernel and dbias are zero. Same
// ValueErrors as the forward; outputs must not overlap inputs or each other.
void depthwise_conv2d_backward(const float* x, const float* kernel, const float* dy, const Conv2DGeometry& g,
                               int64_t M, float* dx, float* dkernel, float* dbias, Conv2DWorkspace& ws,
                               const float* relu_y = nullptr);

}  // namespace minidl::ops
