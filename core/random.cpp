// core/random.cpp — the global seedable generator (core/random.h).
#include "core/random.h"

namespace minidl {
namespace {
uint64_t g_seed = 0x5eed;
Generator& gen() {
  static Generator g(g_seed);
  return g;
}
}  // namespace

void set_random_seed(uint64_t seed) {
  g_seed = seed;
  gen().seed(seed);
}

uint64_t random_seed() { return g_seed; }

Generator& global_generator() { return gen(); }

void random_uniform(std::span<float> out, float low, float high) {
  std::uniform_real_distribution<float> d(low, high);
  for (float& v : out) v = d(gen());
}

void random_normal(std::span<float> out, float mean, float stddev) {
  std::normal_distribution<float> d(mean, stddev);
  for (float& v : out) v = d(gen());
}

uint64_t random_u64() { return gen()(); }

}  // namespace minidl
