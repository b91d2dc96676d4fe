// autograd/backward_observer.h — a watcher of the backward sweep, told when a leaf's gradient is complete.
//
// Data-parallel training (train/distributed_fit.cpp) starts averaging a
// layer's gradients across processes while the sweep is still computing the
// layers below it. It needs to know, during the sweep, the moment a leaf
// (a weight) will receive no further gradient: that moment is the last entry
// of the sorted tape that consumes the leaf. autograd knows nothing about
// processes; it only reports that moment to the observer set here.
#pragma once

#include "core/tensor.h"

namespace minidl {

class BackwardObserver {
 public:
  virtual ~BackwardObserver() = default;
  // The leaf with Variable::id() == leaf_id receives no more gradient in this
  // sweep; `grad` is its sum over the sweep, what backward() adds to the
  // leaf's .grad once the sweep has succeeded. Called once per leaf that
  // received a gradient, in sweep order, from the thread running backward().
  virtual void leaf_ready(const void* leaf_id, const Tensor& grad) = 0;
  // One entry of the tape has been applied (after its leaf_ready calls). A
  // point between kernels, frequent and regular, where the observer may let
  // work of its own advance (MPI moves a started sum only inside MPI calls).
  virtual void entry_done() {}
};

// The observer Variable::backward() on this thread reports to (null: none,
// the default). The caller keeps it alive while it is set. grad() does not
// report: it leaves .grad untouched.
void set_backward_observer(BackwardObserver* observer);
BackwardObserver* backward_observer();

}  // namespace minidl
