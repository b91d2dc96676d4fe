// ops/winograd.h — 3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3).
//
// A direct or im2col 3x3 convolution spends 9 multiply-adds per input channel
// on each output pixel. Winograd's F(4x4, 3x3) computes a 4x4 block of
// outputs from a 6x6 block of inputs with 36 multiplies per channel instead
// of 144, by moving both into a transformed space where the convolution is an
// element-wise product (Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2015):
//
//   Y = A^T [ (G g G^T) .* (B^T d B) ] A        g: 3x3 kernel, d: 6x6 input tile
//
//   B^T = | 4  0 -5  0  1  0 |   G = |  1/4    0     0   |   A^T = | 1  1  1  1  1  0 |
//         | 0 -4 -4  1  1  0 |       | -1/6  -1/6  -1/6  |         | 0  1 -1  2 -2  0 |
//         | 0  4 -4 -1  1  0 |       | -1/6   1/6  -1/6  |         | 0  1  1  4  4  0 |
//         | 0 -2 -1  2  1  0 |       |  1/24  1/12  1/6  |         | 0  1 -1  8 -8  1 |
//         | 0  2 -1 -2  1  0 |       |  1/24 -1/12  1/6  |
//         | 0  4  0 -5  0  1 |       |  0     0     1    |
//
// Summed over input channels, the element-wise products of all tiles become
// 36 independent matrix products, one per transformed position e = 0..35:
//
//   M_e [tiles, OC] = V_e [tiles, C] * U_e [C, OC]
//
// so the multiplies still run in OpenBLAS's sgemm, 4x fewer of them. The
// transforms multiply by up to 8 and divide by up to 24, so the result differs
// from the direct sum by more float32 rounding than im2col's: about 1e-6 of the
// tensor's largest value (tests compare with a double reference at 1e-5 of it;
// the Keras conformance cases allow 1e-4).
//
// Layout. Everything is NHWC, so one pixel's channels are contiguous and every
// transform works on 16 channels at a time (one vector register). Tiles are
// processed in blocks (one block of V and M is about 1/4 MiB, so it stays in the
// core's L2 between the transform that writes it and the GEMM that reads it):
//   V [block, 36, C]    transformed inputs
//   U [G, 36, CG, OCG]  transformed kernel, computed once per call, or once per
//                       kernel version when the caller passes one (forward only)
//   M [block, 36, OC]   products, turned into 4x4 outputs by A^T M A
// Groups share the transforms and use their own column blocks of V, U and M.
// Dilation d is handled by tiling the output in a dilated pattern: a tile holds
// outputs (y0 + d*i, x0 + d*j), 0 <= i, j < 4, whose receptive fields form a
// 6x6 input block with spacing d.
//
// The input gradient of a stride-1 convolution is itself a stride-1
// convolution of dy with the kernel flipped in space and transposed in
// channels, so winograd_conv3x3_backward_input reuses the same machinery. The
// kernel gradient runs the products backwards: dU_e = V_e^T (A dy A^T)_e.
#pragma once

#include <cstdint>

#include "ops/conv2d_workspace.h"
#include "ops/im2col.h"

namespace minidl::ops {

// True when the Winograd path computes this convolution: a 3x3 kernel, stride
// 1 (any dilation and padding), and groups wide enough (at least
// kWinogradMinChannels input channels and filters per group) that the
// transforms cost less than the multiplies they save.
constexpr int64_t kWinogradMinChannels = 8;
bool winograd_applicable(const Conv2DGeometry& g, int64_t groups, int64_t OC);

// Same contract as conv2d_forward (ops/conv2d.h); requires winograd_applicable.
// y [N, OH, OW, OC] is fully overwritten. kernel_version, when not 0, is the
// kernel's version (autograd's weight_version): the transformed kernel U is
// then kept in ws and reused by later calls with the same kernel, version and
// groups instead of being recomputed (batch-1 inference spends most of its
// time there otherwise). 0 recomputes U on every call.
void winograd_conv3x3_forward(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g,
                              int64_t groups, int64_t OC, float* y, Conv2DWorkspace& ws, bool relu,
                              uint64_t kernel_version = 0);

// dx [N, H, W, C] = dL/dx of conv2d_forward given dy [N, OH, OW, OC], fully
// overwritten. relu_y as in conv2d_backward (dy taken as 0 where relu_y <= 0),
// or null. Requires winograd_applicable.
void winograd_conv3x3_backward_input(const float* kernel, const float* dy, const Conv2DGeometry& g, int64_t groups,
                                     int64_t OC, float* dx, Conv2DWorkspace& ws, const float* relu_y);

// dkernel [3, 3, C/G, OC] = dL/dkernel of conv2d_forward, fully overwritten:
// the gradient of each M_e = V_e U_e is dU_e = V_e^T (A dy A^T)_e, summed over
// all tiles, and dkernel = G^T dU G. dbias [OC], when not null, is overwritten
// with the sum of dy, taken in the same pass. relu_y as above. Requires
// winograd_applicable and a non-null dkernel.
void winograd_conv3x3_backward_kernel(const float* x, const float* dy, const Conv2DGeometry& g, int64_t groups,
                                      int64_t OC, float* dkernel, float* dbias, Conv2DWorkspace& ws,
                                      const float* relu_y);

// The matrix products the forward pass runs, for benchmarks (bench/bench_conv2d
// times them alone): `tiles` tiles in blocks of `block`; per block, group and
// transformed position (E of them), a [rows <= block, CG] x [CG, OCG] product.
// `direct_loops`: small groups use minidl's own product loops, not sgemm.
struct WinogradProducts {
  int64_t tiles, block, E, CG, OCG;
  bool direct_loops;
};
WinogradProducts winograd_products(const Conv2DGeometry& g, int64_t groups, int64_t OC);

}  // namespace minidl::ops
