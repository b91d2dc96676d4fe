// The backward engine: topological sort of the tape, reverse sweep.
//
// The sort is an explicit-stack DFS (graphs can be thousands of entries deep,
// so no recursion). Reverse post-order puts every GradFn after all of its
// consumers, so by the time a GradFn is applied every gradient flowing into its
// output has been summed.
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "autograd/variable.h"
#include "autograd/variable_impl.h"
#include "core/errors.h"
#include "ops/elementwise.h"

namespace minidl {

namespace {

// A gradient being summed. The first contribution is kept as given (it may
// alias the seed or another gradient); the second allocates a fresh sum, which
// later contributions are then added into in place.
struct Accumulator {
  Tensor sum;
  bool owned = false;

  void add(const Tensor& g) {
    if (!sum.defined()) {
      sum = g;
    } else if (!owned) {
      sum = ops::add(sum, g);
      owned = true;
    } else {
      ops::axpy(1.f, g, sum);
    }
  }
};

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

// GradFns reachable from `root`, each after all of its consumers.
std::vector<GradFn*> topological_order(GradFn* root) {
  std::vector<GradFn*> post;
  std::unordered_set<GradFn*> seen{root};
  std::vector<std::pair<GradFn*, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [fn, next] = stack.back();
    if (next < fn->inputs().size()) {
      GradFn* child = fn->inputs()[next++].grad_fn().get();
      if (child && seen.insert(child).second) stack.emplace_back(child, 0);  // invalidates fn/next
    } else {
      post.push_back(fn);
      stack.pop_back();
    }
  }
  return {post.rbegin(), post.rend()};
}

struct SweepResult {
  std::unordered_map<GradFn*, Accumulator> inner;            // kept only for `keep_inner`
  std::unordered_map<Variable::Impl*, Accumulator> leaves;  // leaves that require grad
};

// Runs the reverse sweep from `root` seeded with `seed`. Gradients of
// intermediates are dropped as soon as they are used unless listed in keep_inner.
SweepResult sweep(const Variable& root, const Tensor& seed, bool retain_graph,
                  const std::unordered_set<GradFn*>& keep_inner) {
  SweepResult result;
  GradFn* root_fn = root.impl()->grad_fn.get();
  if (!root_fn) {
    result.leaves[root.impl().get()].add(seed);
    return result;
  }
  std::unordered_map<GradFn*, Accumulator> pending;
  pending[root_fn].add(seed);
  for (GradFn* fn : topological_order(root_fn)) {
    auto it = pending.find(fn);
    if (it == pending.end()) {  // every path into it carried no gradient
      if (!retain_graph) fn->release();
      continue;
    }
    const Tensor grad_out = it->second.sum;
    if (keep_inner.count(fn)) result.inner[fn] = std::move(it->second);
    pending.erase(it);
    std::vector<Tensor> grads = fn->apply(grad_out);
    if (!retain_graph) fn->release();
    const auto& inputs = fn->inputs();
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!grads[i].defined()) continue;
      const auto& impl = inputs[i].impl();
      if (impl->grad_fn) {
        pending[impl->grad_fn.get()].add(grads[i]);
      } else if (impl->requires_grad) {
        result.leaves[impl.get()].add(grads[i]);
      }
    }
  }
  return result;
}

}  // namespace

void Variable::backward(const Tensor& seed, bool retain_graph) const {
  checked_impl();
  const Tensor s = checked_seed(*this, seed);
  SweepResult result = sweep(*this, s, retain_graph, {});
  // Leaves are updated only after the whole sweep succeeded.
  for (auto& [leaf, acc] : result.leaves) {
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
  std::unordered_set<GradFn*> keep_inner;
  for (size_t i = 0; i < inputs.size(); ++i) {
    MINIDL_CHECK(inputs[i].defined(), ValueError, "grad: input {} is an undefined Variable", i);
    if (inputs[i].grad_fn()) keep_inner.insert(inputs[i].grad_fn().get());
  }
  const Tensor s = checked_seed(output, seed);
  SweepResult result = sweep(output, s, retain_graph, keep_inner);
  std::vector<Tensor> out(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Accumulator* acc = nullptr;
    if (GradFn* fn = inputs[i].grad_fn().get()) {
      auto it = result.inner.find(fn);
      if (it != result.inner.end()) acc = &it->second;
    } else {
      auto it = result.leaves.find(inputs[i].impl().get());
      if (it != result.leaves.end()) acc = &it->second;
    }
    if (acc) out[i] = acc->sum;
  }
  return out;
}

}  // namespace minidl
