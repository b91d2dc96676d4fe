// layers/base/losses_and_updates.h — one layer's own add_loss terms, activity losses and pending updates.
//
// The part of a Layer that keeps what Keras's add_loss and add_update record
// for that layer alone. Layer adds the weight-regularization terms, which it
// recomputes from its weights, and walks its sublayers; this class never sees
// another layer.
//
// Conditional entries carry the id of the input Variable they depend on
// (Variable::id()); nullptr marks an unconditional one. get_losses_for /
// get_updates_for select by that key.
#pragma once

#include <functional>
#include <vector>

#include "autograd/variable.h"

namespace minidl {

// A loss registered with add_loss (or by a regularizer).
struct LossEntry {
  Variable value;
  const void* inputs = nullptr;  // nullptr = unconditional; else the id of the input Variable
};

// A state update registered with add_update (BatchNormalization's moving statistics).
struct UpdateEntry {
  std::function<void()> apply;
  const void* inputs = nullptr;
};

class LossesAndUpdates {
 public:
  // --- losses --------------------------------------------------------------------
  // A term from add_loss: kept until the layer is destroyed.
  void add_loss(Variable loss, const void* inputs) { losses_.push_back({std::move(loss), inputs}); }
  // An activity-regularization term of the current concrete call: kept until
  // the next top-level call starts (clear_activity_losses).
  void add_activity_loss(Variable loss, const void* inputs) { activity_losses_.push_back({std::move(loss), inputs}); }
  void clear_activity_losses() { activity_losses_.clear(); }
  // Appends the add_loss terms, then the activity terms.
  void append_losses(std::vector<Variable>& out) const;
  // Appends those of them whose key is `inputs` (nullptr: the unconditional ones).
  void append_losses_for(const void* inputs, std::vector<Variable>& out) const;

  // --- updates -------------------------------------------------------------------
  void add_update(std::function<void()> update, const void* inputs) {
    updates_.push_back({std::move(update), inputs});
  }
  bool has_pending_updates() const { return !updates_.empty(); }
  // Appends copies of the pending update functions (all, or those keyed `inputs`).
  void append_updates(std::vector<std::function<void()>>& out) const;
  void append_updates_for(const void* inputs, std::vector<std::function<void()>>& out) const;
  // Runs the pending updates in order and forgets them. An update that adds
  // updates adds them for the next run. Both lists keep their buffers, so the
  // steady state allocates nothing.
  void run_updates();

 private:
  std::vector<LossEntry> losses_;           // add_loss terms
  std::vector<LossEntry> activity_losses_;  // activity losses of the latest top-level call
  std::vector<UpdateEntry> updates_;
  std::vector<UpdateEntry> running_updates_;  // run_updates's list, kept for its buffer
};

}  // namespace minidl
