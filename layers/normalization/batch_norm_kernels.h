// layers/normalization/batch_norm_kernels.h — internal to layers/: the fused, differentiable
// batch-normalization kernels behind BatchNormalization.
//
// The input is read as a [A, P, B] block: P features (the product of the
// normalized axes, which must be contiguous in memory), statistics taken over
// the A * B positions of each feature. NHWC with axis 3 is [N*H*W, C, 1]; NCHW
// with axis 1 is [N, C, H*W]; a Dense output with axis 1 is [N, C, 1].
//
// gamma and beta are Variables of P elements (any shape, e.g. (C,) or the
// Keras multi-axis (1, H, 1, C)); an undefined Variable means "absent"
// (scale=False: gamma = 1; center=False: beta = 0). Each function records one
// GradFn (make_result) over (x, gamma, beta) and computes only the gradients
// that are needed. Statistics are accumulated in double.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/variable.h"
#include "core/tensor.h"

namespace minidl::detail {

struct BatchNormLayout {
  int64_t A = 1, P = 1, B = 1;
};

// Per-feature batch statistics: mean and biased variance (divided by n = A*B), [P] each,
// and n itself (over all replicas when a CrossReplicaSum is set).
struct BatchMoments {
  Tensor mean, variance;
  int64_t count = 0;
};

// The epsilon BatchNormalization computes with for an input of `rank` normalized
// on `axes`: tf.keras 2 runs TensorFlow's fused kernel for a 4-D input
// normalized on axis 1 or 3, which raises epsilon to cuDNN's minimum 1.001e-5.
float batch_norm_epsilon(double epsilon, int rank, const std::vector<int>& axes);

// Training mode: y = gamma * (x - mean) / sqrt(var + epsilon) + beta with the
// batch mean and biased variance, which are also returned in *moments (if not
// null). Backward is the standard batch-norm gradient through the statistics:
//   dbeta = sum(dy), dgamma = sum(dy * xhat),
//   dx = gamma / (n * sqrt(var + eps)) * (n * dy - dbeta - xhat * dgamma).
// Requires x.numel() == A * P * B and P-element gamma/beta. With a
// CrossReplicaSum set (layers/normalization/cross_replica.h) the statistics,
// and the sums in dx, are those of the global batch over all replicas.
Variable batch_norm_training(const Variable& x, const Variable& gamma, const Variable& beta,
                             const BatchNormLayout& layout, float epsilon, BatchMoments* moments);

// Inference mode with fixed statistics mean/variance ([P] or any P-element
// shape; copied, so later in-place updates do not affect backward):
//   y = x * a + (beta - mean * a),  a = gamma / sqrt(variance + epsilon)
// (TensorFlow's nn.batch_normalization formula). Backward: dx = dy * a,
// dgamma = sum(dy * (x - mean) / sqrt(variance + eps)), dbeta = sum(dy).
Variable batch_norm_inference(const Variable& x, const Variable& gamma, const Variable& beta, const Tensor& mean,
                              const Tensor& variance, const BatchNormLayout& layout, float epsilon);

}  // namespace minidl::detail
