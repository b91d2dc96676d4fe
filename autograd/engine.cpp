// autograd/engine.cpp — the backward engine: topological sort of the tape, reverse sweep.
//
// The sort is an explicit-stack DFS (graphs can be thousands of entries deep,
// so no recursion). Reverse post-order puts every GradFn after all of its
// consumers, so by the time a GradFn is applied every gradient flowing into its
// output has been summed.
#include <algorithm>
#include <utility>
#include <vector>

#include "autograd/backward_observer.h"
#include "autograd/variable.h"
#include "autograd/variable_impl.h"
#include "core/errors.h"
#include "core/scratch.h"
#include "ops/elementwise.h"

namespace minidl {

void GradSum::add(const Tensor& g) {
  if (!sum.defined()) {
    sum = g;
  } else if (!owned) {
    sum = ops::add(sum, g);
    owned = true;
  } else {
    ops::axpy(1.f, g, sum);
  }
}

namespace {

thread_local BackwardObserver* t_observer = nullptr;

Tensor checked_seed(const Variable& root, const Tensor& seed) {
  const Variable::Impl& impl = *root.impl();
  MINIDL_CHECK(impl.requires_grad, RuntimeError,
               "backward: variable '{}' of shape {} does not require a gradient and has no grad_fn (did an input "
               "set requires_grad, and was grad mode on?)",
               impl.name, shape_str(impl.value.shape()));
  if (!seed.defined()) {
    MINIDL_CHECK(impl.value.numel() == 1, RuntimeError,
                 "backward: a seed (dL/d(output)) is required for a non-scalar output; received none for output of "
                 "shape {}",
                 shape_str(impl.value.shape()));
    return Tensor::ones(impl.value.shape());
  }
  MINIDL_CHECK(seed.shape() == impl.value.shape(), ValueError,
               "backward: seed of shape {} does not match the output's shape {}", shape_str(seed.shape()),
               shape_str(impl.value.shape()));
  return seed;
}

// The lists one backward sweep keeps (leased per sweep, core/scratch.h).
struct SweepLists {
  std::vector<GradFn*> order;                     // reachable entries, each after all its consumers
  std::vector<std::pair<GradFn*, size_t>> stack;  // the sort's DFS stack: entry, next input to visit
  std::vector<Variable::Impl*> leaves;            // leaves that received a gradient
  void clear() {  // what ending the lease does
    order.clear();
    stack.clear();
    leaves.clear();
  }
};

// One backward's bookkeeping. The per-entry state (visited, summed gradient)
// lives on the GradFns and leaves themselves; the lists are leased scratch, so
// a steady-state sweep allocates nothing and a backward run from inside a
// closure leases lists of its own. The destructor resets every state it
// touched, also when a backward closure throws. Two threads must not run
// backward at the same time through shared entries or leaves (they would both
// write the leaves' .grad).
class Sweep {
 public:
  Sweep() = default;
  ~Sweep() {
    for (GradFn* fn : ws_->order) fn->sweep_state() = GradFn::SweepState();
    for (Variable::Impl* leaf : ws_->leaves) {
      leaf->sweep_grad.reset();
      leaf->in_sweep = false;
    }
  }
  Sweep(const Sweep&) = delete;
  Sweep& operator=(const Sweep&) = delete;

  // Marks the GradFns reachable from `root` and lists them in ws_->order, each
  // after all of its consumers (reverse post-order of an explicit-stack DFS).
  void sort(GradFn* root) {
    auto& stack = ws_->stack;
    stack.clear();
    root->sweep_state().visited = true;
    stack.emplace_back(root, 0);
    while (!stack.empty()) {
      auto& [fn, next] = stack.back();
      if (next < fn->inputs().size()) {
        GradFn* child = fn->inputs()[next++].grad_fn().get();
        if (child && !child->sweep_state().visited) {
          child->sweep_state().visited = true;
          stack.emplace_back(child, 0);  // invalidates fn/next
        }
      } else {
        ws_->order.push_back(fn);
        stack.pop_back();
      }
    }
    std::reverse(ws_->order.begin(), ws_->order.end());
  }

  void add_to_leaf(Variable::Impl* leaf, const Tensor& g) {
    if (!leaf->in_sweep) {
      leaf->in_sweep = true;
      ws_->leaves.push_back(leaf);
    }
    leaf->sweep_grad.add(g);
  }

  // Records on each leaf the position of the last entry in the order that
  // consumes it: after that entry is applied the leaf's sum is complete.
  void mark_last_consumers() {
    const auto& order = ws_->order;
    for (size_t i = 0; i < order.size(); ++i)
      for (const Variable& in : order[i]->inputs()) {
        Variable::Impl* impl = in.impl().get();
        if (!impl->grad_fn && impl->requires_grad) impl->sweep_last = static_cast<int64_t>(i);
      }
  }

  // Tells the observer about the leaves whose last consumer is entry `i`.
  void report_ready(BackwardObserver& observer, const GradFn& fn, int64_t i) {
    for (const Variable& in : fn.inputs()) {
      Variable::Impl* impl = in.impl().get();
      if (impl->grad_fn || impl->sweep_last != i) continue;
      impl->sweep_last = -1;  // once, even when the entry takes the leaf twice
      if (impl->in_sweep && impl->sweep_grad.sum.defined()) observer.leaf_ready(impl, impl->sweep_grad.sum);
    }
  }

  // Runs the reverse sweep from `root` seeded with `seed`. Gradients of
  // intermediates are dropped as soon as they are used unless their GradFn is
  // marked keep; leaves' sums are left in leaves() for the caller. With an
  // observer, each leaf is reported as soon as its sum is complete, and the
  // observer hears of the end of every entry.
  void run(const Variable& root, const Tensor& seed, bool retain_graph, BackwardObserver* observer = nullptr) {
    GradFn* root_fn = root.impl()->grad_fn.get();
    if (!root_fn) {
      add_to_leaf(root.impl().get(), seed);
      return;
    }
    if (!root_fn->sweep_state().visited) sort(root_fn);
    if (observer) mark_last_consumers();
    root_fn->sweep_state().grad.add(seed);
    for (size_t pos = 0; pos < ws_->order.size(); ++pos) {
      GradFn* fn = ws_->order[pos];
      GradFn::SweepState& st = fn->sweep_state();
      if (!st.grad.sum.defined()) {  // every path into it carried no gradient
        if (observer) {
          report_ready(*observer, *fn, static_cast<int64_t>(pos));
          observer->entry_done();
        }
        if (!retain_graph) fn->release();
        continue;
      }
      const Tensor grad_out = st.grad.sum;
      if (!st.keep) st.grad.reset();
      Grads grads = fn->apply(grad_out);
      if (!retain_graph) fn->release();
      const auto& inputs = fn->inputs();
      for (size_t i = 0; i < inputs.size(); ++i) {
        if (!grads[i].defined()) continue;
        const auto& impl = inputs[i].impl();
        if (impl->grad_fn) {
          impl->grad_fn->sweep_state().grad.add(grads[i]);
        } else if (impl->requires_grad) {
          add_to_leaf(impl.get(), grads[i]);
        }
      }
      if (observer) {
        report_ready(*observer, *fn, static_cast<int64_t>(pos));
        observer->entry_done();
      }
    }
  }

  const std::vector<Variable::Impl*>& leaves() const { return ws_->leaves; }

 private:
  ScratchLease<SweepLists> ws_;
};

}  // namespace

void set_backward_observer(BackwardObserver* observer) { t_observer = observer; }
BackwardObserver* backward_observer() { return t_observer; }

void Variable::backward(const Tensor& seed, bool retain_graph) const {
  checked_impl();
  const Tensor s = checked_seed(*this, seed);
  Sweep sweep;
  sweep.run(*this, s, retain_graph, t_observer);
  // Leaves are updated only after the whole sweep succeeded.
  for (Impl* leaf : sweep.leaves()) {
    const GradSum& acc = leaf->sweep_grad;
    if (!leaf->grad.defined()) {
      leaf->grad = acc.owned ? acc.sum : acc.sum.clone();
    } else {
      ops::axpy(1.f, acc.sum, leaf->grad);
    }
  }
}

std::vector<Tensor> grad(const Variable& output, const std::vector<Variable>& inputs, const Tensor& seed,
                         bool retain_graph) {
  MINIDL_CHECK(output.defined(), ValueError, "grad: the output is an undefined Variable");
  for (size_t i = 0; i < inputs.size(); ++i)
    MINIDL_CHECK(inputs[i].defined(), ValueError, "grad: input {} is an undefined Variable", i);
  const Tensor s = checked_seed(output, seed);
  Sweep sweep;
  // Mark the entries whose gradient is asked for before the sweep drops it.
  if (GradFn* root_fn = output.impl()->grad_fn.get()) {
    sweep.sort(root_fn);
    for (const Variable& in : inputs)
      if (GradFn* fn = in.grad_fn().get(); fn && fn->sweep_state().visited) fn->sweep_state().keep = true;
  }
  sweep.run(output, s, retain_graph);
  std::vector<Tensor> out(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (GradFn* fn = inputs[i].grad_fn().get()) {
      // Only entries reached by the sweep hold a kept sum; others were never visited.
      if (fn->sweep_state().visited) out[i] = fn->sweep_state().grad.sum;
    } else if (inputs[i].impl()->in_sweep) {
      out[i] = inputs[i].impl()->sweep_grad.sum;
    }
  }
  return out;
}

}  // namespace minidl
