// tests/layers/core_layers_testing.h — helpers for the core layer tests
// (dense, reshaping, activation layers, dropout, masking, merge).
#pragma once

// GCC 12 reports members without a default initializer that a designated
// initializer leaves out (GCC bug 96868), and the common layer options
// (MINIDL_COMMON_LAYER_OPTIONS) and CallArgs have such members. The tests use
// Keras-style designated initializers throughout, so the warning is off here.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "core/errors.h"
#include "core/random.h"
#include "core/tensor.h"
#include "layers/base/registry.h"
#include "testing.h"

namespace minidl::core_layers_testing {

// A tensor with U[-1, 1) entries from its own seed.
inline Tensor random_tensor(const Shape& shape, uint64_t seed) {
  set_random_seed(seed);
  return Tensor::uniform(shape, -1.f, 1.f);
}

// Serializes, rebuilds through the registry and serializes again: the two
// configs must be identical (Keras's from_config(get_config()) round trip).
inline ::testing::AssertionResult RoundTrips(const Layer& layer) {
  const json a = serialize_layer(layer);
  const LayerPtr b = layer_from_config(a);
  const json c = serialize_layer(*b);
  if (a != c) return ::testing::AssertionFailure() << "\n  before: " << a.dump() << "\n  after:  " << c.dump();
  return ::testing::AssertionSuccess();
}

// Runs f, expecting exception E whose message contains every one of `parts`.
template <class E, class F>
::testing::AssertionResult ThrowsWith(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const auto& p : parts)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << p << "\"";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

// Multi-index helpers for naive loops over row-major tensors.
inline std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

inline int64_t ravel(const std::vector<int64_t>& idx, const Shape& shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + idx[d];
  return flat;
}

}  // namespace minidl::core_layers_testing
