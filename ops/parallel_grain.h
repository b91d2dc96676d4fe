// ops/parallel_grain.h — the one rule for how much work a parallel chunk must carry.
//
// parallel_for (core/threads.h) hands each extra chunk to a pool worker. Waking
// the worker and moving the chunk's data into its cache cost a fixed amount; a
// chunk that does less work than that makes the loop slower, not faster.
//
// The rule: a chunk carries at least kChunkWork units of work. One unit is one
// element of a memory-bound map (a load, one or two flops, a store: add, scale,
// relu, a copy), Cost::kMemory. An element whose function costs about as much
// as a transcendental (exp, log, sqrt, pow, tanh, erf) or a small window
// (a pooling window, a softmax row's exp and sum) counts Cost::kCompute units.
// Kernels that split items of several elements each (rows, images, matrices)
// ask for grain(cost, elements_per_item) items per chunk.
//
// So memory-bound maps split only from a few hundred thousand elements, where
// each thread streams its own megabyte, and compute-bound loops split from a
// few tens of thousands. Chunks never change a result: every kernel that uses
// this rule writes each output element from exactly one chunk, so the rule
// affects speed only (docs/PERFORMANCE.md has the measured costs).
#pragma once

#include <cstdint>

#include "core/threads.h"

namespace minidl::ops {

// Units of work per element (see above).
enum class Cost : int64_t { kMemory = 1, kCompute = 16 };

// The least work one chunk carries, in units.
inline constexpr int64_t kChunkWork = int64_t{1} << 18;

// Items per chunk (at least 1) when each item is `elements_per_item` elements
// of the given cost: the min_chunk argument of parallel_for.
constexpr int64_t grain(Cost cost = Cost::kMemory, int64_t elements_per_item = 1) {
  const int64_t work = static_cast<int64_t>(cost) * (elements_per_item > 1 ? elements_per_item : 1);
  return work >= kChunkWork ? 1 : kChunkWork / work;
}

// Elements per chunk for the two costs, as plain constants.
inline constexpr int64_t kElementwiseGrain = grain(Cost::kMemory);
inline constexpr int64_t kComputeGrain = grain(Cost::kCompute);

// f(i) for every item i in [0, n) (an image, a row), the items split over
// threads by the rule, each item being `elements_per_item` elements of `cost`.
template <class F>
void for_each_item(int64_t n, Cost cost, int64_t elements_per_item, F&& f) {
  parallel_for(
      n,
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) f(i);
      },
      grain(cost, elements_per_item));
}

}  // namespace minidl::ops
