// autograd/variable_impl.h — the state behind a Variable handle (internal).
//
// Only autograd's own .cpp files include this; everyone else goes through the
// accessors in autograd/variable.h.
#pragma once

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
};

}  // namespace minidl
