// autograd/variable_version.h — a number that changes whenever a Variable's value may have changed.
//
// Caches derived from a weight (the Winograd transform of a convolution
// kernel, ops/winograd.h) stay valid while the weight's version is the one
// they were computed for. Every Variable gets a fresh version when it is made,
// and another on every call of mutable_value() or assign(): the paths through
// which optimizers, constraints, set_weights and weight loading write. Versions
// come from one process-wide counter, so two different Variables never share
// one, even when one is made where another was freed, and a version is never 0.
//
//   Variable k(Tensor::ones({3, 3, 8, 8}));
//   uint64_t v = weight_version(k);
//   k.mutable_value()[0] = 2.f;        // weight_version(k) != v from here on
//
// Writes that reach the storage without one of those calls (through a copy of
// value(), or through a reference from mutable_value() kept across later reads)
// do not change the version: call mutable_value() again before the next read.
// (It sits in its own header rather than in variable.h, which nearly every
// file includes.)
#pragma once

#include <cstdint>

#include "autograd/variable.h"

namespace minidl {

// The current version of v's value (never 0). RuntimeError on an undefined Variable.
uint64_t weight_version(const Variable& v);

}  // namespace minidl
