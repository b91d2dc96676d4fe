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
#include <memory>
#include <type_traits>
#include <utility>

namespace minidl {

// A non-owning reference to a callable, which must outlive the call: what
// parallel_for takes. A std::function parameter allocated a copy of any
// lambda capturing more than two pointers, on every parallel loop of every op.
template <class Sig>
class FunctionRef;
template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
                                              std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F&& f) noexcept  // NOLINT: implicit, like a std::function parameter
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(obj_, std::forward<Args>(args)...); }

 private:
  void* obj_;
  R (*call_)(void*, Args...);
};

void set_num_threads(int n);  // n >= 1; ValueError otherwise
int num_threads();

// Calls fn(begin, end) on disjoint chunks covering [0, n), using up to
// num_threads() threads; runs inline when n < min_chunk * 2 or one thread.
// Exceptions thrown by fn are rethrown in the caller.
// fn is only referenced (FunctionRef), never copied.
void parallel_for(int64_t n, FunctionRef<void(int64_t, int64_t)> fn, int64_t min_chunk = 1);

// Work split into `chunks` pieces whose boundaries the caller derives from the
// problem alone, never from the thread count, so that results do not depend
// on it (partial sums are kept per chunk and added in chunk order).
// parallel_chunks calls body(slot, c) for every c in [0, chunks): slot s runs
// the contiguous chunks [chunks*s/slots, chunks*(s+1)/slots) in increasing
// order on one thread, so per-slot scratch is never shared. Size that scratch
// with parallel_slots(chunks) (= min(num_threads(), chunks)) and pass the same
// number as `slots`. Exceptions are rethrown in the caller, as parallel_for.
int64_t parallel_slots(int64_t chunks);
void parallel_chunks(int64_t chunks, int64_t slots, FunctionRef<void(int64_t slot, int64_t chunk)> body);

}  // namespace minidl
