// autograd/variable_impl.h — the state behind a Variable handle (internal).
//
// Only autograd's own .cpp files include this; everyone else goes through the
// accessors in autograd/variable.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "autograd/variable.h"
#include "core/tensor.h"

namespace minidl {

struct Variable::Impl {
  Tensor value;
  Tensor grad;  // undefined until a backward reaches this leaf
  bool requires_grad = false;
  std::shared_ptr<GradFn> grad_fn;  // null for a leaf
  std::string name;
  // Changes on every write path (autograd/variable_version.h); set at creation.
  uint64_t version = 0;
  // Internal to the engine: this leaf's gradient summed during one backward
  // sweep, and whether the sweep has listed it (autograd/engine.cpp).
  GradSum sweep_grad;
  bool in_sweep = false;
  // Internal to the engine: the sweep position of the last tape entry that
  // consumes this leaf, while a BackwardObserver is set (-1 once reported).
  int64_t sweep_last = -1;
};

}  // namespace minidl
