// autograd/backward_fn.h — the callable a tape entry runs in backward.
//
// Grads and BackwardFn are what autograd::make_result (autograd/variable.h)
// takes from every differentiable operation; see there for how they are used.
#pragma once

#include <cstddef>
#include <iterator>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/memory.h"
#include "core/tensor.h"

namespace minidl {

// The gradients a backward closure returns, one per input: a std::vector
// whose buffer comes from the small-object pool (core/memory.h), since every
// tape entry returns one on every step.
using Grads = std::vector<Tensor, PoolAllocator<Tensor>>;

// How a GradFn turns the output gradient into input gradients. Called once per
// backward sweep with dL/d(output); returns one tensor per input, shaped like
// that input (an undefined Tensor for inputs with needs_grad[i] == false; an
// undefined Tensor elsewhere means "no contribution"). Must not modify grad_out.
//
// A BackwardFn is built from any callable taking (const Tensor& grad_out,
// const std::vector<bool>& needs_grad) and returning Grads or a
// std::vector<Tensor> (usually a lambda whose captures are the op's saved
// tensors), or from nullptr (empty). It behaves like std::function, but it is
// move-only and keeps the callable in the small-object pool (core/memory.h).
//
// Why not std::function: every op of every training step records one closure,
// and std::function allocates for each of them. libstdc++ keeps a callable
// inline only when it is trivially copyable and at most two pointers in size;
// a closure holding one Tensor (96 bytes) is neither, so each construction
// calls operator new once (measured: 100 constructions, 100 calls; the same
// closures through BackwardFn, none). std::move_only_function is C++23. The
// pool serves the closures with no allocation in the steady state, which
// tests/alloc checks. Returning Grads rather than std::vector<Tensor> saves
// one more allocation per call.
class BackwardFn {
 public:
  BackwardFn() noexcept = default;
  BackwardFn(std::nullptr_t) noexcept {}  // NOLINT: empty, as std::function
  template <class F, class = std::enable_if_t<
                         !std::is_same_v<std::decay_t<F>, BackwardFn> &&
                         (std::is_invocable_r_v<Grads, std::decay_t<F>&, const Tensor&, const std::vector<bool>&> ||
                          std::is_invocable_r_v<std::vector<Tensor>, std::decay_t<F>&, const Tensor&,
                                                const std::vector<bool>&>)>>
  BackwardFn(F&& f) {  // NOLINT: implicit, as std::function
    using Fn = std::decay_t<F>;
    static_assert(alignof(Fn) <= 16, "BackwardFn: the pool's blocks are 16-byte aligned");
    void* mem = pool_allocate(sizeof(Fn));
    try {
      obj_ = new (mem) Fn(std::forward<F>(f));
    } catch (...) {
      pool_deallocate(mem, sizeof(Fn));
      throw;
    }
    static constexpr Ops ops{
        [](void* o, const Tensor& g, const std::vector<bool>& n) -> Grads {
          if constexpr (std::is_invocable_r_v<Grads, Fn&, const Tensor&, const std::vector<bool>&>) {
            return (*static_cast<Fn*>(o))(g, n);
          } else {
            std::vector<Tensor> v = (*static_cast<Fn*>(o))(g, n);
            return Grads(std::make_move_iterator(v.begin()), std::make_move_iterator(v.end()));
          }
        },
        [](void* o) noexcept {
          static_cast<Fn*>(o)->~Fn();
          pool_deallocate(o, sizeof(Fn));
        }};
    ops_ = &ops;
  }
  BackwardFn(BackwardFn&& other) noexcept : obj_(other.obj_), ops_(other.ops_) {
    other.obj_ = nullptr;
    other.ops_ = nullptr;
  }
  BackwardFn& operator=(BackwardFn&& other) noexcept {
    if (this != &other) {
      reset();
      std::swap(obj_, other.obj_);
      std::swap(ops_, other.ops_);
    }
    return *this;
  }
  BackwardFn& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  ~BackwardFn() { reset(); }

  explicit operator bool() const noexcept { return obj_ != nullptr; }
  // Calls the callable; requires a non-empty BackwardFn.
  Grads operator()(const Tensor& grad_out, const std::vector<bool>& needs_grad) const {
    return ops_->invoke(obj_, grad_out, needs_grad);
  }

 private:
  struct Ops {
    Grads (*invoke)(void*, const Tensor&, const std::vector<bool>&);
    void (*destroy)(void*) noexcept;
  };
  void reset() noexcept {
    if (obj_) ops_->destroy(obj_);
    obj_ = nullptr;
    ops_ = nullptr;
  }
  void* obj_ = nullptr;
  const Ops* ops_ = nullptr;
};

}  // namespace minidl
