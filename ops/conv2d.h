// ops/conv2d.h — forward and backward of a grouped, strided, dilated 2-D convolution.
//
// Layouts are Keras's channels_last ones (channels_first is converted by the layer):
//   x       [N, H, W, C]          input
//   kernel  [KH, KW, C/G, OC]     Keras kernel; as a matrix [KH*KW*C/G, OC]
//   bias    [OC]
//   y, dy   [N, OH, OW, OC]       output and its gradient
// with the geometry (sizes, strides, dilation, padding) from ops/im2col.h
// make_conv_geometry. Group gi (0 <= gi < G) maps input channels
// [gi*C/G, (gi+1)*C/G) to output channels [gi*OC/G, (gi+1)*OC/G), as Keras's
// Conv2D(groups=G) does.
//
// Method: the N*OH*OW output pixels are the rows of one matrix. For each group
// im2col unfolds a block of rows into col [rows, KH*KW*C/G], and one GEMM
//   y[rows, OC/G] = col * kernel_g          (ldc = OC: the group's column block)
// computes them. The backward reuses the same unfolding:
//   dkernel_g = col^T * dy_g     dx_g = col2im(dy_g * kernel_g^T)     dbias = sum dy.
// The rows are processed in tiles sized by Conv2DWorkspace (about 1 MiB of
// columns), so a tile is multiplied while it is still in the core's cache and a
// large batch never materialises its whole unfolded matrix. A 1x1 kernel with
// stride 1 and no padding skips im2col: x itself is the [N*H*W, C] matrix.
//
// Threads: the batch is split into 2 to 8 contiguous chunks of whole images
// (more for more output rows), a number fixed by the batch and the layer,
// never by the thread count; threads
// take runs of chunks, and each chunk unfolds and multiplies its own tiles with
// single-threaded GEMMs. dkernel and dbias are summed per chunk, then added in
// chunk order, so results are the same bits on any number of threads. With a
// single image, its tiles run one after another and the im2col/col2im passes
// and GEMMs inside them are split across threads instead. The Winograd path
// works the same way on fixed blocks of tiles.
//
// Fused relu: conv2d_forward(..., relu = true) applies max(0, .) to each tile
// right after its GEMM; conv2d_backward(..., relu_y = y) masks dy by y > 0
// tile by tile, so neither needs a separate pass over the whole output.
//
//   ops::Conv2DGeometry g = ops::make_conv_geometry(N, H, W, C, 3, 3, 1, 1, 1, 1, /*same=*/true);
//   ops::Conv2DWorkspace ws;                  // keep it alive across calls
//   ops::conv2d_forward(x, k, b, g, 1, OC, y, ws);
#pragma once

#include <cstdint>

#include "ops/conv2d_workspace.h"
#include "ops/im2col.h"

namespace minidl::ops {

// y = conv(x, kernel) + bias, then max(0, y) when relu; y: [N, OH, OW, OC],
// fully overwritten. bias may be null (no bias). x, kernel, y must not overlap.
// Requires g from make_conv_geometry (or an equivalent hand-made geometry in
// which every output window lies inside the padded input).
// kernel_version, when not 0, identifies the kernel's values (autograd's
// weight_version): a method that transforms the kernel first (Winograd) keeps
// the transform in ws and reuses it while the version stays the same. Pass 0
// (the default) when the values may change without a new version.
// Throws ValueError when groups < 1, OC < 1, C or OC is not divisible by groups,
// the geometry is inconsistent, or a required pointer is null.
void conv2d_forward(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g, int64_t groups,
                    int64_t OC, float* y, Conv2DWorkspace& ws, bool relu = false, uint64_t kernel_version = 0);

// Gradients of conv2d_forward given dy = dL/dy [N, OH, OW, OC]. Each of
//   dx       [N, H, W, C]          dL/dx
//   dkernel  [KH, KW, C/G, OC]     dL/dkernel
//   dbias    [OC]                  dL/dbias (sum of dy over N, OH, OW)
// is computed only when its pointer is non-null, and is OVERWRITTEN, not
// accumulated into: callers that accumulate gradients add the result themselves.
// x is read only for dkernel and may be null otherwise; kernel only for dx.
// relu_y, when not null, is the output of a forward with relu = true: dy is
// then taken as zero wherever relu_y <= 0 (the relu's gradient, relu'(0) = 0).
// With N = 0, dkernel and dbias are zero. Same requirements and ValueErrors as
// conv2d_forward; outputs must not overlap inputs or each other.
void conv2d_backward(const float* x, const float* kernel, const float* dy, const Conv2DGeometry& g, int64_t groups,
                     int64_t OC, float* dx, float* dkernel, float* dbias, Conv2DWorkspace& ws,
                     const float* relu_y = nullptr);

// Multiply-adds of one forward pass, N*OH*OW*OC*KH*KW*C/G (for GFLOP/s: x2).
// The backward costs about twice as much when both dx and dkernel are wanted.
int64_t conv2d_macs(const Conv2DGeometry& g, int64_t groups, int64_t OC);

}  // namespace minidl::ops
