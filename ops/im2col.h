// ops/im2col.h — unfold image patches into matrix rows (NHWC), and fold them back.
//
// Dimension alphabet used across minidl's conv code:
//   N batch, H/W input rows/cols, C input channels, KH/KW kernel, OH/OW output,
//   SH/SW strides, DH/DW dilation, OC output channels (filters), G groups.
//
// For one image x[H, W, C], im2col writes col[OH*OW, KH*KW*C]: row (oh, ow)
// holds the receptive field of output pixel (oh, ow), ordered (kh, kw, c) —
// the same order as a Keras kernel (KH, KW, C, OC) flattened to [KH*KW*C, OC],
// so the convolution is one GEMM  y[OH*OW, OC] = col * kernel  with no transposes.
// Padding cells are zeros. col2im is the adjoint: it scatter-adds rows back.
#pragma once

#include <cstdint>

#include "core/shape.h"

namespace minidl::ops {

struct Conv2DGeometry {
  int64_t N = 1, H = 0, W = 0, C = 0;   // input (NHWC)
  int64_t KH = 1, KW = 1;               // kernel
  int64_t SH = 1, SW = 1;               // strides
  int64_t DH = 1, DW = 1;               // dilation
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t OH = 0, OW = 0;               // output; filled by make_conv_geometry
};

// Keras/TensorFlow output size and padding. padding is "valid" or "same"
// (already lower-cased). For "same", the total padding
// max((O-1)*S + (K-1)*D + 1 - I, 0) is split with the odd pixel at the
// bottom/right. ValueError when the dilated kernel does not fit a "valid" input,
// and when N < 0 or any of H, W, C, KH, KW, SH, SW, DH, DW < 1 (N = 0, an empty
// batch, is allowed).
Conv2DGeometry make_conv_geometry(int64_t N, int64_t H, int64_t W, int64_t C, int64_t KH, int64_t KW, int64_t SH,
                                  int64_t SW, int64_t DH, int64_t DW, bool same_padding);

// The argument checks of an output-length rule: ValueError, naming `who`, unless
// k, stride and dilation are >= 1 and in >= -1 (-1 is an unknown length, None).
void check_length_arguments(int64_t in, int64_t k, int64_t stride, int64_t dilation, const char* who);

// Output length of one spatial axis (Keras conv_output_length); -1 in gives -1 out.
// "valid": ceil((in - (k-1)*dilation) / stride), 0 when the dilated kernel does not
// fit; "same": ceil(in / stride). ValueError when in < -1 or k, stride, dilation < 1.
int64_t conv_output_length(int64_t in, int64_t k, bool same_padding, int64_t stride, int64_t dilation);

// One image. x: [H, W, C] with row stride C (channels of one pixel are contiguous),
// but only channels [c0, c0+CG) are unfolded (for groups; CG = C when G = 1).
// col: [OH*OW, KH*KW*CG], fully overwritten.
void im2col(const float* x, const Conv2DGeometry& g, int64_t c0, int64_t CG, float* col);

// Adjoint of im2col: dx[H, W, C] channels [c0, c0+CG) += fold(col). dx is NOT zeroed.
void col2im(const float* col, const Conv2DGeometry& g, int64_t c0, int64_t CG, float* dx);

// Row ranges, for callers that tile one image's unfolded matrix to bound memory.
// Rows are output pixels p = oh*OW + ow, 0 <= p0 <= p1 <= OH*OW. im2col_rows writes
// rows [p0, p1) of the full unfolded matrix to col: [p1-p0, KH*KW*CG];
// col2im_rows scatter-adds such a block into dx (not zeroed). im2col/col2im are
// the p0 = 0, p1 = OH*OW cases. Cells of dx outside the image are never touched,
// whatever the geometry's padding. Requires CG >= 1, c0 + CG <= C; no checks.
void im2col_rows(const float* x, const Conv2DGeometry& g, int64_t c0, int64_t CG, int64_t p0, int64_t p1, float* col);
void col2im_rows(const float* col, const Conv2DGeometry& g, int64_t c0, int64_t CG, int64_t p0, int64_t p1,
                 float* dx);
// im2col_rows on bfloat16 patterns (ops/bf16_convert.h), which it moves unchanged.
void im2col_rows(const uint16_t* x, const Conv2DGeometry& g, int64_t c0, int64_t CG, int64_t p0, int64_t p1,
                 uint16_t* col);

}  // namespace minidl::ops
