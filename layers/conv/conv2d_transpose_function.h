// layers/conv/conv2d_transpose_function.h — the differentiable transposed 2-D
// convolution Conv2DTranspose calls, and Keras's output-length rule.
//
// A transposed convolution is the adjoint of a convolution. Take the forward
// convolution A that maps an image u [N, OH, OW, F] (the transposed conv's
// OUTPUT size) with kernel K [KH, KW, F, IC] — Keras's Conv2DTranspose kernel,
// read as an ordinary conv kernel with F input and IC output channels — to
// [N, H, W, IC]. Then
//   y = A_K^T x         (col2im of x * K^T: ops::conv2d_backward's dx path)
//   dL/dx = A_K g       (ops::conv2d_forward of the output gradient g)
//   dL/dK = col(g)^T x  (ops::conv2d_backward's dkernel path with input g, dy = x)
//   dL/dbias = sum of g over batch, rows and cols
// which is what tf.nn.conv2d_transpose computes: the gradient of a conv2d with
// the same strides, dilation and padding, whose input has the output's size.
// "same" padding is split as TensorFlow splits it for that forward conv.
//
//   auto scratch = std::make_shared<ConvScratch>();
//   Conv2DTransposeCall c{.strides = 2, .same_padding = true, .out_rows = 8, .out_cols = 8};
//   Variable y = conv2d_transpose_variable(x, kernel, &bias, c, scratch);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "autograd/variable.h"
#include "layers/conv/conv2d_function.h"
#include "layers/conv/conv_utils.h"

namespace minidl {

// Keras's conv_utils.deconv_output_length for one axis (None = -1 in gives -1 out):
// with k' = (k - 1) * dilation + 1,
//   no output_padding:  valid  in*stride + max(k' - stride, 0)    same  in*stride
//   output_padding p:   (in - 1)*stride + k' - 2*pad + p,  pad = k'/2 (same) or 0 (valid).
// ValueError when in < -1 or k, stride, dilation < 1.
int64_t deconv_output_length(int64_t in, int64_t k, bool same_padding, std::optional<int64_t> output_padding,
                             int64_t stride, int64_t dilation);

// The geometry of one transposed-conv call: that of the forward conv it is the
// adjoint of (input rows/cols = out_rows/out_cols), plus the fused parts.
struct Conv2DTransposeCall {
  IntPair strides = 1;
  IntPair dilation_rate = 1;
  bool same_padding = false;
  bool channels_first = false;
  int64_t out_rows = 0, out_cols = 0;  // from deconv_output_length
  bool fuse_relu = false;
};

// y = [relu](conv_transpose(x, kernel) + bias), one tape entry named
// "conv2d_transpose" with inputs {x, kernel} or {x, kernel, *bias}; bias may be
// null. x is [N, H, W, IC] (channels_last) or [N, IC, H, W] (channels_first);
// kernel [KH, KW, F, IC]; bias [F]; y [N, out_rows, out_cols, F] or
// [N, F, out_rows, out_cols]. Backward computes only the gradients asked for.
// Requires that the forward conv of an out_rows x out_cols image gives H x W
// (always true for out sizes from deconv_output_length, except "same" with an
// explicit output_padding and an even dilated kernel). Throws ValueError when
// shapes disagree or that requirement fails, RuntimeError for undefined variables.
Variable conv2d_transpose_variable(const Variable& x, const Variable& kernel, const Variable* bias,
                                   const Conv2DTransposeCall& call, const std::shared_ptr<ConvScratch>& scratch);

}  // namespace minidl
