// layers/base/losses_and_updates.cpp — LossesAndUpdates: the lists behind add_loss and add_update.
#include "layers/base/losses_and_updates.h"

namespace minidl {

void LossesAndUpdates::append_losses(std::vector<Variable>& out) const {
  for (const auto& l : losses_) out.push_back(l.value);
  for (const auto& l : activity_losses_) out.push_back(l.value);
}

void LossesAndUpdates::append_losses_for(const void* inputs, std::vector<Variable>& out) const {
  for (const auto* list : {&losses_, &activity_losses_})
    for (const auto& l : *list)
      if (l.inputs == inputs) out.push_back(l.value);
}

void LossesAndUpdates::append_updates(std::vector<std::function<void()>>& out) const {
  for (const auto& u : updates_) out.push_back(u.apply);
}

void LossesAndUpdates::append_updates_for(const void* inputs, std::vector<std::function<void()>>& out) const {
  for (const auto& u : updates_)
    if (u.inputs == inputs) out.push_back(u.apply);
}

void LossesAndUpdates::run_updates() {
  // Swapped out first, so an update that adds updates does not disturb the
  // loop; updates_ takes the (empty) spare buffer.
  std::vector<UpdateEntry> pending;
  pending.swap(running_updates_);
  pending.swap(updates_);
  for (auto& u : pending) u.apply();
  pending.clear();
  running_updates_.swap(pending);
}

}  // namespace minidl
