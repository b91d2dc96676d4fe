// ops/parallel_grain.h — internal to ops: how much work justifies a thread.
//
// parallel_for (core/threads.h) wakes pool workers; below these sizes the
// wake-up costs more than the loop, so kernels pass them as min_chunk.
//
// Measured with ops micro-timings on the shared 2-core build box: under the
// usual load (load average ~15) the second thread gave no speed-up for any
// kernel, and memory-bound maps of 1M floats got up to ~1.5x slower. So the
// memory-bound grain is large (only multi-megabyte maps split), while loops
// with real arithmetic per element split earlier. Revisit on an idle machine.
#pragma once

#include <cstdint>

namespace minidl::ops {

// Elements per chunk for memory-bound elementwise maps (add, scale, copies).
inline constexpr int64_t kElementwiseGrain = int64_t{1} << 18;

// Elements per chunk for loops that do a few flops per element (exp, pooling windows).
inline constexpr int64_t kComputeGrain = int64_t{1} << 14;

}  // namespace minidl::ops
