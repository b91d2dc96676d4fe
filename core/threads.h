// core/threads.h — one thread-count setting for the whole library.
//
// set_num_threads(n) governs minidl's parallel loops (parallel_for below),
// including its matrix products: ops/blas runs OpenBLAS single-threaded on
// blocks that parallel_for hands out, so only one thread pool ever runs. The default is
// the MINIDL_NUM_THREADS environment variable, else the number of cores.
//
// parallel_for uses a small persistent pool whose workers sleep on a
// condition variable (no spinning).
#pragma once

#include <cstdint>
#include <functional>

namespace minidl {

void set_num_threads(int n);  // n >= 1; ValueError otherwise
int num_threads();

// Calls fn(begin, end) on disjoint chunks covering [0, n), using up to
// num_threads() threads; runs inline when n < min_chunk * 2 or one thread.
// Exceptions thrown by fn are rethrown in the caller.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t min_chunk = 1);

}  // namespace minidl
