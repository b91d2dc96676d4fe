// autograd/functions_norm.h — differentiable normalization functions (layer normalization).
//
// Kept apart from autograd/functions.h: a fused function with its own
// backward, over the ops/layer_norm.h kernels, rather than a composition of
// the primitives there.
#pragma once

#include <cstdint>

#include "autograd/variable.h"

namespace minidl::autograd {

// Layer normalization of x read as [rows, features]: every run of `features`
// contiguous values (the trailing axes of x) is normalized on its own,
//   y = (x - mean) / sqrt(var + epsilon) * gamma + beta,
// mean and biased variance over the row; with rms_scaling, y = x / sqrt(var +
// epsilon) * gamma (Keras's deprecated mode: not centered, no beta). gamma and
// beta hold `features` elements each, in any shape (e.g. Keras's (H, W, C) for
// axis [1, 2, 3]); an undefined Variable means absent (gamma = 1, beta = 0).
// The result has x's shape and records one GradFn "layer_norm" over (x, gamma,
// beta) that computes only the gradients needed (ops/layer_norm.h gives the
// formulas). ValueError when x is undefined, features <= 0 or does not divide
// x's size, a parameter has the wrong element count, beta is given with
// rms_scaling, or epsilon is negative or not finite.
Variable layer_norm(const Variable& x, const Variable& gamma, const Variable& beta, int64_t features,
                    float epsilon, bool rms_scaling = false);

}  // namespace minidl::autograd
