// tests/support/counting_new.h — a global operator new that counts its calls.
//
// counting_new.cpp replaces every form of the global operator new/delete
// (plain, sized, aligned, nothrow, array) for the test_alloc executable only:
// the library is untouched, so what the counter sees is what a user program
// would see. Every call to any operator new adds one to a global atomic
// counter, from any thread.
//
// For diagnosis, start_tracing() also records a short backtrace of each call
// (into a fixed buffer, so tracing itself allocates nothing while it runs) and
// print_trace() prints the distinct call stacks, most frequent first:
//
//   MINIDL_ALLOC_TRACE=1 ./test_alloc    // the tests trace when this is set
//   MINIDL_ALLOC_TRACE=200 ./test_alloc  // ... and print up to 200 stacks (default 40)
#pragma once

#include <cstdint>
#include <cstdio>

namespace minidl::testing {

// Calls to any global operator new since the program started.
int64_t allocation_count();

// Starts recording a backtrace per operator new call (clears earlier records).
void start_tracing();
// Stops recording.
void stop_tracing();
// Prints the recorded stacks grouped and counted to `out`, at most `max_stacks`.
void print_trace(std::FILE* out, int max_stacks = 40);

// True when MINIDL_ALLOC_TRACE is set in the environment.
bool tracing_requested();
// How many stacks print_trace shows: MINIDL_ALLOC_TRACE's value when above 1, else 40.
int traced_stacks_to_print();

// Counts the operator new calls made by `f()`, tracing them when requested.
template <class F>
int64_t count_allocations(F&& f) {
  const bool trace = tracing_requested();
  if (trace) start_tracing();
  const int64_t before = allocation_count();
  f();
  const int64_t n = allocation_count() - before;
  if (trace) {
    stop_tracing();
    print_trace(stderr, traced_stacks_to_print());
  }
  return n;
}

}  // namespace minidl::testing
