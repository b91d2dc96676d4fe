// core/scratch.h — reusable per-thread working memory, leased by scope.
//
// A training step calls the same functions with the same sizes thousands of
// times. Code on that path that needs a temporary container (a list of one
// input, the values of a graph run, the work list of a tape teardown) leases
// one instead of constructing it:
//
//   ScratchLease<std::vector<Variable>> list;   // this thread's next free vector
//   list->assign(1, x);
//   f(*list);
//   // the lease ends: the vector is cleared (capacity kept) and given back
//
// Each thread keeps, per type T, a stack of T objects. A lease takes the
// object at the current depth and the next lease on the same thread (a
// nested call, a re-entrant backward) takes the one above it, so two live
// leases never share an object. An object is created the first time its depth
// is reached and then lives as long as the thread: in the steady state a lease
// allocates nothing. When the lease ends the object is cleared (T::clear(),
// or a custom reset) so that nothing it held outlives the scope.
//
// Rules: a lease is used only on the thread that took it, ends in reverse
// order of taking (scopes guarantee that), and nothing returns a reference
// into a leased object past the lease.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace minidl {

// How a leased object is emptied when its lease ends: clear() by default.
// Specialise for a type whose emptying is spelled differently.
template <class T>
struct ScratchReset {
  void operator()(T& value) const { value.clear(); }
};

template <class T>
class ScratchLease {
 public:
  ScratchLease() {
    Stack& s = stack();
    if (s.depth == s.items.size()) s.items.push_back(std::make_unique<T>());
    item_ = s.items[s.depth++].get();
  }
  ~ScratchLease() {
    ScratchReset<T>{}(*item_);
    --stack().depth;
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;

  T& operator*() const { return *item_; }
  T* operator->() const { return item_; }
  T& get() const { return *item_; }

 private:
  struct Stack {
    std::vector<std::unique_ptr<T>> items;  // items[d]: the object for depth d
    std::size_t depth = 0;                  // how many leases are live on this thread
  };
  static Stack& stack() {
    thread_local Stack s;
    return s;
  }

  T* item_;
};

}  // namespace minidl
