// tests/support/tensors.h — test inputs: seeded random tensors and buffers,
// and double-precision results rounded back into tensors.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"

namespace minidl::testing {

// U[-1, 1) entries from the library's generator, reseeded with `seed`.
inline Tensor random_tensor(const Shape& shape, uint64_t seed) {
  set_random_seed(seed);
  return Tensor::uniform(shape, -1.f, 1.f);
}

// U[lo, hi) entries drawn from `rng`, so a test's tensors follow one another.
inline Tensor random_tensor(const Shape& shape, std::mt19937_64& rng, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> u(lo, hi);
  Tensor t(shape);
  for (float& v : t.span()) v = u(rng);
  return t;
}

// n floats U[-1, 1) drawn from `rng`, for the kernels that work on raw buffers.
inline std::vector<float> random_floats(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& f : v) f = u(rng);
  return v;
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

// A tensor of `shape` from doubles (from `offset` on), rounded to float.
inline Tensor to_tensor(const Shape& shape, const std::vector<double>& v, size_t offset = 0) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(v.at(offset + static_cast<size_t>(i)));
  return t;
}

}  // namespace minidl::testing
