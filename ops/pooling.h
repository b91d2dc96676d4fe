// ops/pooling.h — 2-D max and average pooling on raw NHWC buffers, and their adjoints.
//
// Dimension alphabet as in ops/im2col.h: N batch, H/W input rows/cols, C
// channels, KH/KW pool window, SH/SW strides, OH/OW output rows/cols.
//
// Padding follows TensorFlow (and so Keras): "valid" uses only whole windows;
// "same" gives OH = ceil(H / SH) and pads a total of max((OH-1)*SH + KH - H, 0)
// rows, the odd row at the bottom (likewise columns, odd one at the right).
// Padded cells never take part: max pooling ignores them and average pooling
// divides by the number of real (non-padded) cells in each window, as
// tf.nn.avg_pool does. 1-D pooling is the H = 1 (KH = SH = 1) case.
//
//   Pool2DGeometry g = make_pool_geometry(N, H, W, C, 2, 2, 2, 2, /*same_padding=*/false);
//   max_pool2d(x, g, y, argmax.data());            // y: [N, OH, OW, C]
//   max_pool2d_backward(dy, argmax.data(), g, dx); // dx: [N, H, W, C]
//
// Kernels parallelise over the batch with core/threads.h parallel_for.
// Buffers must not overlap. Every backward kernel overwrites dx completely.
#pragma once

#include <cstdint>

namespace minidl::ops {

struct Pool2DGeometry {
  int64_t N = 1, H = 0, W = 0, C = 0;  // input (NHWC)
  int64_t KH = 1, KW = 1;              // pool window
  int64_t SH = 1, SW = 1;              // strides
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t OH = 0, OW = 0;  // output; filled by make_pool_geometry
};

// Output length of one spatial axis, as Keras computes it for pooling:
// valid: floor((in - k) / stride) + 1, same: ceil(in / stride). An unknown
// length (-1) gives -1. ValueError when k or stride < 1, when in < -1, or when
// a "valid" window does not fit (in < k).
int64_t pool_output_length(int64_t in, int64_t k, bool same_padding, int64_t stride);

// Fills every field, padding included, for input [N, H, W, C].
// Requires N, C >= 0, H, W >= 1, window and strides >= 1; ValueError naming
// the received values otherwise, or when a "valid" window is larger than the input.
Pool2DGeometry make_pool_geometry(int64_t N, int64_t H, int64_t W, int64_t C, int64_t KH, int64_t KW, int64_t SH,
                                  int64_t SW, bool same_padding);

// y[N, OH, OW, C] = max over each window. If argmax is not null it receives,
// per output value, the flat index into x (((n*H + h)*W + w)*C + c) of the
// chosen cell — the first maximum in (kh, kw) scan order; a NaN wins over numbers.
// ValueError on an inconsistent geometry (see make_pool_geometry) or null buffers.
void max_pool2d(const float* x, const Pool2DGeometry& g, float* y, int64_t* argmax = nullptr);

// dx[N, H, W, C] = scatter of dy[N, OH, OW, C] onto the recorded argmax cells
// (overlapping windows add up). ValueError if an index lies outside its own image.
void max_pool2d_backward(const float* dy, const int64_t* argmax, const Pool2DGeometry& g, float* dx);

// As above, but recomputes the argmax from the forward input x[N, H, W, C].
void max_pool2d_backward_from_input(const float* x, const float* dy, const Pool2DGeometry& g, float* dx);

// y[N, OH, OW, C] = mean over the real cells of each window.
void avg_pool2d(const float* x, const Pool2DGeometry& g, float* y);

// dx[N, H, W, C]: each dy value spread evenly over the real cells of its window.
void avg_pool2d_backward(const float* dy, const Pool2DGeometry& g, float* dx);

// Global pooling over H and W: x[N, H, W, C] -> y[N, C] (Keras
// GlobalAveragePooling2D / GlobalMaxPooling2D with channels_last; keepdims is
// just a reshape of y). Require N, C >= 0 and H, W >= 1 (ValueError).
void global_avg_pool2d(const float* x, int64_t N, int64_t H, int64_t W, int64_t C, float* y);
void global_avg_pool2d_backward(const float* dy, int64_t N, int64_t H, int64_t W, int64_t C, float* dx);

// argmax (nullable) receives [N, C] flat indices into x, first maximum in (h, w) order.
void global_max_pool2d(const float* x, int64_t N, int64_t H, int64_t W, int64_t C, float* y,
                       int64_t* argmax = nullptr);
// dx[N, H, W, C] is zero except dy[n, c] at argmax[n, c]. ValueError for an index outside its image.
void global_max_pool2d_backward(const float* dy, const int64_t* argmax, int64_t N, int64_t H, int64_t W, int64_t C,
                                float* dx);

}  // namespace minidl::ops
