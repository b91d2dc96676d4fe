// ops/parallel_grain.h — internal to ops: how much work justifies a thread.
//
// parallel_for (core/threads.h) wakes pool workers; below these sizes the
// wake-up costs more than the loop, so kernels pass them as min_chunk.
#pragma once

#include <cstdint>

namespace minidl::ops {

// Elements per chunk for memory-bound elementwise maps.
inline constexpr int64_t kElementwiseGrain = int64_t{1} << 16;

// Elements per chunk for loops that do a few flops per element (exp, pooling windows).
inline constexpr int64_t kComputeGrain = int64_t{1} << 14;

}  // namespace minidl::ops
