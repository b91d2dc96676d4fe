// ops/conv2d_algorithm.h — the process-wide choice of convolution algorithm:
// set_conv_algorithm("im2col") or MINIDL_CONV_ALGORITHM=im2col.
//
// ops::conv2d_forward/backward (ops/conv2d.h) compute a convolution by one of
// four methods. The names, as set_conv_algorithm, MINIDL_CONV_ALGORITHM,
// `minidl bench conv2d --algorithm` and bench_conv2d take them:
//   "auto"       the fastest method for each convolution (the default; see
//                ConvAlgorithm in ops/conv2d_workspace.h for the rule), and
//                for depthwise ones (one input channel per group) the direct
//                depthwise kernels of ops/depthwise_conv2d.h, forward and backward
//   "im2col"     unfold + one sgemm per tile (ops/im2col.h, ops/blas.h): the
//                path a reader follows from fit() to cblas_sgemm
//   "winograd"   F(4x4, 3x3) (ops/winograd.h): 3x3 kernels, stride 1, at least
//                8 channels and filters per group; forward and both gradients
//   "direct"     the direct loop (ops/conv2d_direct.h): the forward of
//                one-group convolutions with KH*KW*C <= 32; its backward is im2col's
//   "reference"  the naive double-precision loops of ops/conv2d_reference.h,
//                forward and backward (results rounded to float): for learners
//                and for checking the others; far too slow for real training
//
// Who follows it: every call of conv2d_forward/backward whose workspace's own
// algorithm is kAuto, the default. That is every convolution layer: Conv2D,
// and DepthwiseConv2D, SeparableConv2D and Conv2DTranspose as well, which are
// computed by the same two functions (a depthwise convolution is a grouped one,
// one channel per group; a transposed one is the input gradient of a Conv2D).
// Forcing "im2col" or "reference" computes depthwise convolutions that way too.
// A workspace set to another algorithm (Conv2DWorkspace::set_algorithm) keeps it.
//
// A forced method that cannot compute a convolution ("winograd" on a stride-2,
// 5x5 or 1-channel one, or on any DepthwiseConv2D; "direct" on a grouped one or
// one with more than 32 taps) raises ValueError naming the method and the
// convolution's sizes; "auto", "im2col" and "reference" compute every convolution.
//
//   minidl::set_conv_algorithm("im2col");     // every conv layer: im2col + sgemm
//   model.fit(...);
//   minidl::set_conv_algorithm("auto");
#pragma once

#include <string_view>

#include "ops/conv2d_workspace.h"

namespace minidl {

// The algorithm every convolution uses unless its workspace says otherwise.
// ValueError for a name other than the five above, listing them. Takes effect
// at the next convolution; thread-safe, but a convolution already running
// finishes with the method it started with.
void set_conv_algorithm(std::string_view name);

// The name of the current choice: "auto" unless set_conv_algorithm or
// MINIDL_CONV_ALGORITHM said otherwise. The environment variable is read once,
// at the first use of the choice (this call or the first convolution), unless
// set_conv_algorithm came first; an unknown value there is a ValueError naming
// the variable, raised by that first use (and every later one, until
// set_conv_algorithm replaces it).
std::string_view conv_algorithm();

// Reads MINIDL_CONV_ALGORITHM again now (unset or empty: "auto"), for programs
// and tests that change their environment. ValueError for an unknown value,
// leaving the choice as it was.
void set_conv_algorithm_from_environment();

namespace ops {

// The current process-wide choice, as conv2d_forward/backward read it (no
// allocation, one atomic load after the first call).
ConvAlgorithm process_conv_algorithm();

// The method a convolution run with this workspace uses: its own algorithm,
// or the process-wide one when that is kAuto.
ConvAlgorithm effective_conv_algorithm(const Conv2DWorkspace& ws);

// "auto", "im2col", "winograd", "direct", "reference".
std::string_view conv_algorithm_name(ConvAlgorithm a);

// The algorithm of one of those names; ValueError naming `what` (e.g.
// "set_conv_algorithm") and listing the valid names otherwise.
ConvAlgorithm parse_conv_algorithm(std::string_view name, std::string_view what);

// "auto", "im2col", "winograd", "direct", "reference" as one string, for messages.
inline constexpr std::string_view kConvAlgorithmNames =
    "\"auto\", \"im2col\", \"winograd\", \"direct\", \"reference\"";

}  // namespace ops

}  // namespace minidl
