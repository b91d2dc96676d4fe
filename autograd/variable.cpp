// autograd/variable.cpp — Variable handles, tape entries (GradFn) and recording.
#include "autograd/variable.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "autograd/variable_impl.h"
#include "autograd/variable_version.h"
#include "core/errors.h"
#include "core/scratch.h"

namespace minidl {

namespace {
// Grad mode is per thread so a predict() on one thread cannot switch off
// recording for a training step on another.
thread_local bool t_grad_enabled = true;
}  // namespace

// --- Variable ----------------------------------------------------------------

// Variable state and tape entries come from the small-object pool (core/memory.h):
// a training step creates hundreds of each.
namespace {
// Versions for autograd/variable_version.h: one counter for all Variables, so
// a version identifies a value across Variables too. Relaxed order suffices:
// a version only has to differ from every earlier one.
std::atomic<uint64_t> g_last_version{0};
uint64_t next_version() { return g_last_version.fetch_add(1, std::memory_order_relaxed) + 1; }

std::shared_ptr<Variable::Impl> new_impl() {
  auto impl = std::allocate_shared<Variable::Impl>(PoolAllocator<Variable::Impl>());
  impl->version = next_version();
  return impl;
}
}  // namespace

Variable::Variable(Tensor value, bool requires_grad, std::string name) : impl_(new_impl()) {
  impl_->value = std::move(value);
  impl_->requires_grad = requires_grad;
  impl_->name = std::move(name);
}

Variable::Impl& Variable::checked_impl() const {
  MINIDL_CHECK(impl_, RuntimeError, "Variable: use of an undefined Variable (default-constructed handle)");
  return *impl_;
}

const Tensor& Variable::value() const { return checked_impl().value; }
Tensor& Variable::mutable_value() {
  Impl& impl = checked_impl();
  impl.version = next_version();
  return impl.value;
}

uint64_t weight_version(const Variable& v) {
  MINIDL_CHECK(v.defined(), RuntimeError, "weight_version: use of an undefined Variable (default-constructed handle)");
  return v.impl()->version;
}

void Variable::assign(const Tensor& value) {
  Impl& impl = checked_impl();
  MINIDL_CHECK(value.shape() == impl.value.shape(), ValueError,
               "Variable '{}'.assign: value of shape {} does not match the variable's shape {}", impl.name,
               shape_str(value.shape()), shape_str(impl.value.shape()));
  impl.version = next_version();
  if (!impl.value.defined()) {
    impl.value = value.clone();
    return;
  }
  impl.value.copy_from(value);
}

const Tensor& Variable::grad() const { return checked_impl().grad; }
Tensor& Variable::mutable_grad() { return checked_impl().grad; }

void Variable::set_grad(const Tensor& g) {
  Impl& impl = checked_impl();
  if (!g.defined()) {
    impl.grad = Tensor();
    return;
  }
  MINIDL_CHECK(g.shape() == impl.value.shape(), ValueError,
               "Variable '{}'.set_grad: gradient of shape {} does not match the variable's shape {}", impl.name,
               shape_str(g.shape()), shape_str(impl.value.shape()));
  // A private copy: backward() later adds into .grad in place.
  impl.grad = g.clone();
}

void Variable::zero_grad() { checked_impl().grad = Tensor(); }

bool Variable::requires_grad() const { return checked_impl().requires_grad; }

void Variable::set_requires_grad(bool r) {
  Impl& impl = checked_impl();
  MINIDL_CHECK(!impl.grad_fn, RuntimeError,
               "Variable '{}'.set_requires_grad: only leaves may change requires_grad; this variable is the output "
               "of '{}' (use detach() for a leaf)",
               impl.name, impl.grad_fn ? impl.grad_fn->name() : "");
  impl.requires_grad = r;
}

bool Variable::is_leaf() const { return !checked_impl().grad_fn; }
const std::shared_ptr<GradFn>& Variable::grad_fn() const { return checked_impl().grad_fn; }

const std::string& Variable::name() const { return checked_impl().name; }
void Variable::set_name(std::string name) { checked_impl().name = std::move(name); }

Variable Variable::detach() const { return Variable(checked_impl().value, false, checked_impl().name); }

// --- GradFn ------------------------------------------------------------------

GradFn::GradFn(std::string_view name, std::span<const Variable> inputs, BackwardFn backward)
    : name_length_(std::min(name.size(), kMaxNameLength)), inputs_(inputs.begin(), inputs.end()),
      backward_(std::move(backward)) {
  std::copy_n(name.data(), name_length_, name_);
}

GradFn::~GradFn() {
  // Default destruction would recurse input -> grad_fn -> input ... once per
  // tape entry. Instead, detach every GradFn that only this chain owns and let
  // it die here with its inputs already taken, so each dies without recursing.
  // The work list is leased scratch (core/scratch.h): a teardown nested in this
  // one, from a closure's captures, leases a list of its own.
  ScratchLease<std::vector<std::shared_ptr<GradFn>>> pending;
  auto harvest = [&pending](VariableList& inputs) {
    for (Variable& v : inputs) {
      const auto& impl = v.impl();
      if (impl && impl.use_count() == 1 && impl->grad_fn && impl->grad_fn.use_count() == 1)
        pending->push_back(std::move(impl->grad_fn));
    }
    inputs.clear();
  };
  harvest(inputs_);
  while (!pending->empty()) {
    std::shared_ptr<GradFn> fn = std::move(pending->back());
    pending->pop_back();
    harvest(fn->inputs_);
  }
}

std::vector<bool> GradFn::needs_grad() const {
  std::vector<bool> needs(inputs_.size());
  for (size_t i = 0; i < inputs_.size(); ++i) needs[i] = inputs_[i].requires_grad();
  return needs;
}

Grads GradFn::apply(const Tensor& grad_out) {
  MINIDL_CHECK(backward_, RuntimeError,
               "backward through '{}' a second time: the graph has been freed by the first backward (its saved "
               "tensors were released); call backward with retain_graph=true the first time to keep it",
               name_);
  // The flags are leased scratch (core/scratch.h): a closure that itself runs
  // a backward leases flags of its own.
  const ScratchLease<std::vector<bool>> needs;
  needs->resize(inputs_.size());
  for (size_t i = 0; i < inputs_.size(); ++i) (*needs)[i] = inputs_[i].requires_grad();
  Grads grads = backward_(grad_out, *needs);
  MINIDL_CHECK(grads.size() == inputs_.size(), RuntimeError,
               "GradFn '{}': backward returned {} gradients for {} inputs", name_, grads.size(), inputs_.size());
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    MINIDL_CHECK(grads[i].shape() == inputs_[i].shape(), RuntimeError,
                 "GradFn '{}': gradient for input {} has shape {}, expected the input's shape {}", name_, i,
                 shape_str(grads[i].shape()), shape_str(inputs_[i].shape()));
  }
  return grads;
}

void GradFn::release() { backward_ = nullptr; }

// --- recording -----------------------------------------------------------------

Variable make_result(Tensor value, std::span<const Variable> inputs, std::string_view name, BackwardFn backward) {
  bool any = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    MINIDL_CHECK(inputs[i].defined(), ValueError, "{}: input {} is an undefined Variable", name, i);
    any = any || inputs[i].requires_grad();
  }
  if (!any || !t_grad_enabled) return Variable(std::move(value));
  auto impl = new_impl();
  impl->value = std::move(value);
  impl->requires_grad = true;
  impl->grad_fn = std::allocate_shared<GradFn>(PoolAllocator<GradFn>(), name, inputs, std::move(backward));
  return Variable(std::move(impl));
}

bool grad_enabled() { return t_grad_enabled; }

NoGradGuard::NoGradGuard() : prev_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = prev_; }

}  // namespace minidl
