// ops/layer_norm.h — layer-normalization kernels on [rows, features] buffers.
//
// Each row of `features` contiguous values is normalized on its own (Keras's
// LayerNormalization with the normalized axes brought last). Per row, with
// P = features:
//   mean = sum(x) / P,   var = sum((x - mean)^2) / P   (two passes, in double)
//   rstd = 1 / sqrt(var + epsilon)
// and the output
//   standard:      y = (x - mean) * rstd * gamma + beta
//   rms_scaling:   y = x * rstd * gamma             (Keras's deprecated mode: the
//                  input is divided by the standard deviation, not centered, and
//                  there is no beta)
// gamma and beta hold P values; a null pointer means "absent" (gamma = 1, beta = 0).
// The per-row mean and rstd are returned for the backward pass.
//
// Rows are split over threads by the ops/parallel_grain.h rule; every output
// element is written by one row's computation and the parameter gradients are
// summed over rows in row order, so results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace minidl::ops {

struct LayerNormSizes {
  int64_t rows = 0, features = 0;
};

// y, mean and rstd: rows * features, rows and rows floats. ValueError for
// negative sizes or a negative or non-finite epsilon.
void layer_norm_forward(const float* x, const float* gamma, const float* beta, LayerNormSizes sizes, float epsilon,
                        bool rms_scaling, float* y, float* mean, float* rstd);

// Gradients from dy and the forward's x, mean and rstd. Each output pointer may
// be null (that gradient is not computed); dbeta is ignored with rms_scaling.
//   standard: xhat = (x - mean) * rstd, g = dy * gamma
//             dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
//             dgamma = sum over rows of dy * xhat, dbeta = sum over rows of dy
//   rms:      g = dy * gamma, S = sum(g * x) per row
//             dx = rstd * (g - (x - mean) * rstd^2 * S / P)
//             dgamma = sum over rows of dy * x * rstd
// (the means inside a row are over its features). dgamma and dbeta are
// overwritten, not accumulated into.
void layer_norm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                         LayerNormSizes sizes, bool rms_scaling, float* dx, float* dgamma, float* dbeta);

}  // namespace minidl::ops
