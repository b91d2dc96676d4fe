// core/random.h — one global, seedable random generator.
//
// set_random_seed(s) makes every random draw in minidl (initializers, Dropout
// masks, shuffling, Tensor::uniform/normal) reproducible. Without a call the
// seed is fixed at 0x5eed, so runs are reproducible by default too.
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace minidl {

using Generator = std::mt19937_64;

void set_random_seed(uint64_t seed);
uint64_t random_seed();  // the last seed set

// The global generator (not thread-safe: draw from one thread).
Generator& global_generator();

// Fills with U[low, high) / N(mean, stddev) from the global generator.
void random_uniform(std::span<float> out, float low, float high);
void random_normal(std::span<float> out, float mean, float stddev);

// A 64-bit value from the global generator, to seed per-call generators.
uint64_t random_u64();

}  // namespace minidl
