// autograd/variable.h — reverse-mode automatic differentiation, the tape.
//
// A Variable is a shared handle to (value, grad, requires_grad, grad_fn).
// Every differentiable operation (autograd/functions.h) computes its value with
// ops/ and, when any input requires a gradient and grad mode is on, records a
// GradFn: the tape entry that knows its inputs and how to turn the gradient of
// its output into gradients of its inputs. The GradFn's closure is the per-call
// context: tensors saved in forward live there, never in a Layer, which is what
// makes shared layers and re-entrant calls correct.
//
//   Variable w(Tensor::from_data({2}, {1, 2}), /*requires_grad=*/true);
//   Variable y = autograd::sum(autograd::square(w));   // y = 1 + 4
//   y.backward();                                      // w.grad() == [2, 4]
//
// backward() sorts the tape topologically from the root and sweeps it in
// reverse; gradients accumulate with += (so a variable used twice gets both
// contributions, and leaf .grad accumulates across backward calls until
// zero_grad()). After the sweep the saved tensors are released unless
// retain_graph is true; going backward through a released graph again is a
// RuntimeError.
//
// (Naming: a GradFn is the autograd tape entry. Keras's record of a symbolic
// layer call is a Node, in layers/base/node.h. The two are never mixed.)
#pragma once

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/backward_fn.h"
#include "core/memory.h"
#include "core/tensor.h"

namespace minidl {

class GradFn;
class Variable;

// A list of Variables made fresh on every training step: a tape entry's
// inputs, and what Layer::call returns. It reads like a std::vector<Variable>
// but its buffer comes from the small-object pool (core/memory.h), like
// BackwardFn's and Grads', since a plain std::vector would malloc each time.
// Build one from a std::vector<Variable> with its iterators, and back the
// same way.
using VariableList = std::vector<Variable, PoolAllocator<Variable>>;

class Variable {
 public:
  Variable() = default;  // undefined handle; every accessor below throws RuntimeError on it
  // A leaf holding `value` (shared, not copied).
  explicit Variable(Tensor value, bool requires_grad = false, std::string name = "");

  bool defined() const { return static_cast<bool>(impl_); }

  const Tensor& value() const;
  // Mutable access to the value, for optimizers and set_weights (in place, no tape).
  Tensor& mutable_value();
  // Copies `value` into the existing storage in place (views of it see the new
  // values). ValueError naming both shapes when the shape differs.
  void assign(const Tensor& value);

  const Shape& shape() const { return value().shape(); }
  int rank() const { return value().rank(); }

  // Gradient accumulated by backward(); undefined (Tensor::defined() false) if none yet.
  const Tensor& grad() const;
  // The stored gradient tensor itself (undefined if none); backward() adds into it in place.
  Tensor& mutable_grad();
  // Stores a copy of g as the gradient (ValueError naming both shapes if g's shape differs).
  void set_grad(const Tensor& g);
  void zero_grad();  // drops the gradient

  bool requires_grad() const;
  // Only leaves may change this (RuntimeError on a non-leaf).
  void set_requires_grad(bool r);
  bool is_leaf() const;  // no grad_fn
  const std::shared_ptr<GradFn>& grad_fn() const;  // null for a leaf

  const std::string& name() const;
  void set_name(std::string name);

  // Computes gradients of this variable with respect to every leaf that
  // requires a gradient and adds them into the leaves' .grad (intermediate
  // variables keep no .grad). `seed` is dL/d(this); it may be omitted only when
  // this is a one-element tensor (RuntimeError otherwise, as in PyTorch).
  // ValueError if seed's shape differs from this variable's. RuntimeError when
  // this variable does not require a gradient, or when the graph was already
  // released by an earlier backward without retain_graph.
  void backward(const Tensor& seed = Tensor(), bool retain_graph = false) const;

  // A new leaf sharing the value, with no history and requires_grad false.
  Variable detach() const;

  // Identity of the underlying variable (for maps keyed by variable).
  const void* id() const { return impl_.get(); }
  bool same_as(const Variable& other) const { return impl_ == other.impl_; }

  // Internal: used by functions.cpp / engine.cpp to build results. The
  // definition lives in autograd/variable_impl.h.
  struct Impl;
  explicit Variable(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  const std::shared_ptr<Impl>& impl() const { return impl_; }

 private:
  Impl& checked_impl() const;  // RuntimeError on an undefined handle

  std::shared_ptr<Impl> impl_;
};


// A gradient being summed during one backward sweep (internal to the engine,
// autograd/engine.cpp, which keeps it on the tape entries themselves so that a
// sweep needs no maps). The first contribution is kept as given (it may alias
// the seed or another gradient); the second allocates a fresh sum, which later
// contributions are added into in place.
struct GradSum {
  Tensor sum;
  bool owned = false;
  void add(const Tensor& g);
  void reset() {
    sum = Tensor();
    owned = false;
  }
};

// One entry on the tape.
class GradFn {
 public:
  // `name` is for messages; it is kept inline, cut to kMaxNameLength
  // characters, so recording an entry never allocates for it.
  GradFn(std::string_view name, std::span<const Variable> inputs, BackwardFn backward);
  // Tears down the chain of unshared GradFns behind this one iteratively, so
  // dropping a graph thousands of entries deep cannot overflow the stack.
  ~GradFn();
  GradFn(const GradFn&) = delete;
  GradFn& operator=(const GradFn&) = delete;

  static constexpr std::size_t kMaxNameLength = 31;
  std::string_view name() const { return {name_, name_length_}; }
  const VariableList& inputs() const { return inputs_; }
  // needs_grad()[i] == inputs()[i].requires_grad(), read at call time.
  std::vector<bool> needs_grad() const;
  // Runs the backward closure. RuntimeError if released ("...graph has been
  // freed... use retain_graph=true") or if it returns the wrong number of
  // tensors or a tensor whose shape differs from its input's.
  Grads apply(const Tensor& grad_out);
  // Frees the saved context (the closure); the inputs stay, so the graph can
  // still be walked and printed.
  void release();
  bool released() const { return !backward_; }

  // Internal to the engine: this entry's state during a backward sweep
  // (visited by the topological sort, the summed output gradient, whether
  // grad() asked to keep it). Reset when the sweep ends.
  struct SweepState {
    GradSum grad;
    bool visited = false;
    bool keep = false;
  };
  SweepState& sweep_state() { return sweep_; }

 private:
  char name_[kMaxNameLength + 1] = {};
  std::size_t name_length_ = 0;
  VariableList inputs_;
  BackwardFn backward_;
  SweepState sweep_;
};

// The way every differentiable operation records itself: wraps `value` in a
// Variable; if grad mode is on and any input requires a gradient, attaches a
// GradFn(name, inputs, backward) and the result requires a gradient; otherwise
// the result is a plain leaf that does not. This is how Conv2D, pooling and
// losses plug their own fused kernels into the tape. ValueError if an input is
// undefined. Capture only what backward needs (tensors share storage, so
// capturing a Tensor is cheap; avoid capturing Variables).
Variable make_result(Tensor value, std::span<const Variable> inputs, std::string_view name, BackwardFn backward);
// The same for a braced list of inputs: make_result(y, {a, b}, "add", ...).
inline Variable make_result(Tensor value, std::initializer_list<Variable> inputs, std::string_view name,
                            BackwardFn backward) {
  return make_result(std::move(value), std::span<const Variable>(inputs.begin(), inputs.size()), name,
                     std::move(backward));
}
inline Variable make_result(Tensor value, const std::vector<Variable>& inputs, std::string_view name,
                            BackwardFn backward) {
  return make_result(std::move(value), std::span<const Variable>(inputs), name, std::move(backward));
}

// Grad mode. NoGradGuard turns recording off in its scope (thread-local), as
// torch::NoGradGuard does; used by predict/evaluate and optimizers. Guards nest.
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// Gradients of `output` (seeded with `seed`, or 1 for a one-element output)
// with respect to `inputs` (leaves or intermediates), returned rather than
// accumulated into .grad (leaves' .grad untouched). An input the output does
// not depend on, or one that does not require a gradient, gets an undefined
// Tensor (like Keras's None). The returned tensors may share storage with the
// seed or with each other: clone() before changing them in place. Errors as for
// Variable::backward; ValueError if an input is undefined.
std::vector<Tensor> grad(const Variable& output, const std::vector<Variable>& inputs, const Tensor& seed = Tensor(),
                         bool retain_graph = false);

}  // namespace minidl
