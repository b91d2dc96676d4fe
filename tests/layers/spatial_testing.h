// tests/layers/spatial_testing.h — helpers for the spatial layer tests (pooling,
// global pooling, batch normalization, padding, cropping, upsampling, spatial dropout).
#pragma once

// GCC 12 warns about members a designated initializer leaves out when they have
// no default member initializer (GCC bug 96868); MINIDL_COMMON_LAYER_OPTIONS
// and CallArgs have such members, and these tests use Keras-style designated
// initializers throughout.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "core/errors.h"
#include "core/random.h"
#include "core/tensor.h"
#include "layers/base/registry.h"
#include "testing.h"

namespace minidl::spatial_testing {

// U[-1, 1) entries from their own seed.
inline Tensor random_tensor(const Shape& shape, uint64_t seed) {
  set_random_seed(seed);
  return Tensor::uniform(shape, -1.f, 1.f);
}

// Distinct values 0.1 apart in a random order: max pooling's argmax cannot flip
// under gradcheck's 1e-2 steps.
inline Tensor distinct_tensor(const Shape& shape, uint64_t seed) {
  Tensor t(shape);
  std::vector<int64_t> order(static_cast<size_t>(t.numel()));
  std::iota(order.begin(), order.end(), 0);
  set_random_seed(seed);
  std::shuffle(order.begin(), order.end(), global_generator());
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = 0.1f * static_cast<float>(order[i]) - 0.05f * t.numel();
  return t;
}

inline CallArgs training_args() {
  CallArgs a;
  a.training = true;
  return a;
}

// from_config(get_config()) through the registry gives an identical config.
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

// Gradcheck of a layer's concrete call with respect to its input (and any
// further leaves passed, e.g. weights, which f must use through the layer).
template <class L>
::testing::AssertionResult GradOk(L& layer, const Tensor& x, const CallArgs& args = {},
                                  autograd::GradcheckOptions opts = {}) {
  Variable xv(x.clone(), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return layer(v[0], args); }, {xv}, opts);
  if (!r.ok) return ::testing::AssertionFailure() << r.message;
  return ::testing::AssertionSuccess();
}

// Reads an NHWC-logical element of a 4-D tensor in either layout.
inline double at4(const Tensor& t, bool channels_first, int64_t n, int64_t h, int64_t w, int64_t c) {
  const Shape& s = t.shape();
  if (channels_first) return t[((n * s[1] + c) * s[2] + h) * s[3] + w];
  return t[((n * s[1] + h) * s[2] + w) * s[3] + c];
}

}  // namespace minidl::spatial_testing
