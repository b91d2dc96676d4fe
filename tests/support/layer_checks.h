// tests/support/layer_checks.h — checks every layer test makes: the Keras
// config round trip through the registry, and a gradient check of a layer's
// concrete call.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "autograd/gradcheck.h"
#include "core/tensor.h"
#include "layers/base/registry.h"

namespace minidl::testing {

// Serializes, rebuilds through the registry and serializes again: the two
// configs must be identical (Keras's from_config(get_config()) round trip).
inline ::testing::AssertionResult RoundTrips(const Layer& layer) {
  const json a = serialize_layer(layer);
  const LayerPtr b = layer_from_config(a);
  const json c = serialize_layer(*b);
  if (a != c) return ::testing::AssertionFailure() << "\n  before: " << a.dump() << "\n  after:  " << c.dump();
  return ::testing::AssertionSuccess();
}

// CallArgs with training = true (Dropout, BatchNormalization).
inline CallArgs training_args() {
  CallArgs a;
  a.training = true;
  return a;
}

// Gradcheck of a layer's concrete call with respect to its input.
template <class L>
::testing::AssertionResult GradOk(L& layer, const Tensor& x, const CallArgs& args = {},
                                  autograd::GradcheckOptions opts = {}) {
  Variable xv(x.clone(), true);
  auto r = autograd::gradcheck([&](const std::vector<Variable>& v) { return layer(v[0], args); }, {xv}, opts);
  if (!r.ok) return ::testing::AssertionFailure() << r.message;
  return ::testing::AssertionSuccess();
}

}  // namespace minidl::testing
