// layers/conv/conv2d_function.h — the differentiable 2-D convolution the conv layers call.
//
// One tape entry (autograd make_result, name "conv2d") around ops/conv2d.h:
//   y = act(conv(x, kernel) + bias)    act = identity, or relu when fuse_relu
// in either Keras layout. The kernel is always Keras's [KH, KW, C/G, OC]; x and y
// are NHWC for channels_last and NCHW for channels_first, which is transposed to
// NHWC on the way in and back on the way out (ops/transpose.h), since the kernels
// compute in NHWC only. The backward computes only the gradients asked for:
// dx (conv2d_backward's col2im path), dkernel (col^T * dy) and dbias (sum of dy).
//
//   auto scratch = std::make_shared<ConvScratch>();   // one per layer, reused
//   Variable y = conv2d_variable(x, kernel, &bias, {.strides = 2, .same_padding = true}, scratch);
//
// Per-call state (the NHWC input, the kernel, the output for the relu mask)
// lives in the backward closure, never in the scratch, so a layer may be called
// several times before any backward runs.
#pragma once

#include <memory>
#include <mutex>

#include "autograd/variable.h"
#include "layers/conv/conv_utils.h"
#include "ops/conv2d.h"

namespace minidl {

// Reusable scratch memory (the im2col buffer) shared by a layer's forward and
// backward calls. Calls lock it, so one layer may be used from several threads
// (they then take turns); it holds no per-call state.
struct ConvScratch {
  std::mutex mu;
  ops::Conv2DWorkspace workspace;
};

// The geometry and fused parts of one convolution call.
struct Conv2DCall {
  IntPair strides = 1;
  IntPair dilation_rate = 1;
  bool same_padding = false;   // Keras "same" (TF split: odd pixel bottom/right), else "valid"
  bool channels_first = false;
  int64_t groups = 1;
  bool fuse_relu = false;      // apply relu in the output pass (and mask the gradient)
};

// y = [relu](conv(x, kernel) + bias), recorded on the tape with inputs
// {x, kernel} or {x, kernel, *bias}. bias may be null.
// Requires x rank 4 in the call's layout with C channels, kernel
// [KH, KW, C/groups, OC], bias [OC], OC divisible by groups.
// Throws ValueError (from ops, without a layer name: layers check first and
// give better messages) when the shapes disagree or the dilated kernel does not
// fit a "valid" input; RuntimeError for undefined variables.
Variable conv2d_variable(const Variable& x, const Variable& kernel, const Variable* bias, const Conv2DCall& call,
                         const std::shared_ptr<ConvScratch>& scratch);

}  // namespace minidl
