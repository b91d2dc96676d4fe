// layers/base/functional_run.cpp — FunctionalImpl on concrete inputs (run, call, masks) and its shape rule.
#include <map>
#include <mutex>
#include <vector>

#include "core/errors.h"
#include "core/scratch.h"
#include "layers/base/functional.h"
#include "layers/base/inference_plan.h"

namespace minidl {

namespace {

// Map key of a symbolic tensor in the shape walk: its spec's identity.
using TensorKey = const TensorSpec*;

// run()'s working lists, leased per call from this thread's scratch
// (core/scratch.h): a model called inside a model takes the next set, and the
// lists keep their capacity, so the forward pass of a training step allocates
// none of them. Emptied when the lease ends: the step's values must not
// outlive the call.
struct RunScratch {
  std::vector<Variable> values, in;
  std::vector<Tensor> masks, node_masks;
  CallArgs args;
  void clear() {
    values.clear();
    in.clear();
    masks.clear();
    node_masks.clear();
    args.masks.clear();
  }
};

}  // namespace

VariableList FunctionalImpl::run(const std::vector<Variable>& xs, const CallArgs& args,
                                          std::vector<Tensor>* out_masks) {
  if (!has_graph()) fail("the model has no layers yet");
  if (xs.size() != inputs_.size())
    fail("expects {} input(s), but it received {} input tensors", inputs_.size(), xs.size());
  // Values and masks by slot (see init_graph); masks only once one appears.
  // The lists are this thread's scratch for this nesting depth, so a
  // steady-state pass allocates none of them.
  const ScratchLease<RunScratch> lease;
  std::vector<Variable>& values = lease->values;
  std::vector<Tensor>& masks = lease->masks;
  values.resize(static_cast<size_t>(num_slots_));
  auto set_mask = [&](int slot, const Tensor& m) {
    if (masks.empty()) masks.resize(static_cast<size_t>(num_slots_));
    masks[static_cast<size_t>(slot)] = m;
  };
  for (size_t i = 0; i < xs.size(); ++i) {
    const Shape& want = inputs_[i].shape();
    if (!shapes_compatible(want, xs[i].shape()))
      fail("Input {} is incompatible with the layer: expected shape={}, found shape={}", i, shape_str(want),
           shape_str(xs[i].shape()));
    values[static_cast<size_t>(input_slots_[i])] = xs[i];
    if (i < args.masks.size() && args.masks[i].defined()) set_mask(input_slots_[i], args.masks[i]);
  }
  std::vector<Variable>& in = lease->in;
  CallArgs& a = lease->args;
  a.training = args.training;
  std::vector<Tensor>& node_masks = lease->node_masks;
  // Inference without a tape may compute chains of nodes as fused steps
  // (layers/base/inference_plan.h). A step runs only while no mask is about,
  // since it bypasses the layers' mask handling; its absorbed nodes are skipped
  // exactly when it ran, which is when their input was never computed.
  const InferencePlan* plan = !args.training && !grad_enabled() && inference_folding() ? inference_plan() : nullptr;
  for (size_t k = 0; k < nodes_in_order_.size(); ++k) {
    const Node* node = nodes_in_order_[k];
    const NodeSlots& ns = node_slots_[k];
    if (plan) {
      if (plan->absorbed(k) && !values[static_cast<size_t>(ns.in[0])].defined()) continue;
      if (FusedInference* step = plan->step_at(k); step && masks.empty()) {
        values[static_cast<size_t>(plan->step_output(k))] = step->run(values[static_cast<size_t>(ns.in[0])]);
        continue;
      }
    }
    // One mask entry per input, undefined for "no mask" (CallArgs's contract),
    // so call_with_masks can hand the list on without copying it.
    in.clear();
    a.masks.clear();
    for (int slot : ns.in) {
      in.push_back(values[static_cast<size_t>(slot)]);
      a.masks.push_back(masks.empty() ? Tensor() : masks[static_cast<size_t>(slot)]);
    }
    auto out = node->outbound_layer()->call_with_masks(in, a, &node_masks);
    if (out.size() != node->output_specs().size())
      fail("layer '{}' returned {} outputs, its node expects {}", node->outbound_layer()->name(), out.size(),
           node->output_specs().size());
    for (size_t i = 0; i < out.size(); ++i) {
      values[static_cast<size_t>(ns.out[i])] = std::move(out[i]);
      if (i < node_masks.size() && node_masks[i].defined()) set_mask(ns.out[i], node_masks[i]);
    }
  }
  VariableList result;
  result.reserve(output_slots_.size());
  for (int slot : output_slots_) result.push_back(values[static_cast<size_t>(slot)]);
  if (out_masks) {
    out_masks->clear();
    for (int slot : output_slots_) out_masks->push_back(masks.empty() ? Tensor() : masks[static_cast<size_t>(slot)]);
  }
  return result;
}

const InferencePlan* FunctionalImpl::inference_plan() {
  // Two threads may run one model at once; the first to need the plan makes it.
  static std::mutex making;
  const std::lock_guard lock(making);
  if (!inference_plan_) {
    std::vector<std::vector<int>> in, out;
    for (const NodeSlots& ns : node_slots_) {
      in.push_back(ns.in);
      out.push_back(ns.out);
    }
    inference_plan_ = InferencePlan::make(nodes_in_order_, in, out, output_slots_, num_slots_);
  }
  return inference_plan_.get();
}

size_t FunctionalImpl::fused_inference_steps() const {
  return inference_plan_ ? inference_plan_->num_steps() : 0;
}

VariableList FunctionalImpl::call(const std::vector<Variable>& inputs, const CallArgs& args) {
  return run(inputs, args, nullptr);
}

std::vector<Tensor> FunctionalImpl::compute_mask(const std::vector<Variable>& inputs, const std::vector<Tensor>& masks) {
  std::vector<Tensor> out;
  NoGradGuard no_grad;
  CallArgs a{false, masks};
  run(inputs, a, &out);
  return out;
}

std::vector<Shape> FunctionalImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  if (!has_graph()) fail("the model has no layers yet");
  if (input_shapes.size() != inputs_.size())
    fail("expects {} input(s), received {} input shapes", inputs_.size(), input_shapes.size());
  std::map<TensorKey, Shape> shapes;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (!shapes_compatible(inputs_[i].shape(), input_shapes[i]))
      fail("Input {} is incompatible with the layer: expected shape={}, found shape={}", i,
           shape_str(inputs_[i].shape()), shape_str(input_shapes[i]));
    shapes[inputs_[i].id()] = input_shapes[i];
  }
  for (const Node* node : nodes_in_order_) {
    std::vector<Shape> in;
    for (const auto& t : node->input_tensors()) in.push_back(shapes.at(t.id()));
    auto out = node->outbound_layer()->compute_output_shape(in);
    for (size_t i = 0; i < out.size() && i < node->output_specs().size(); ++i)
      shapes[node->output_specs()[i].get()] = out[i];
  }
  std::vector<Shape> result;
  for (const auto& o : outputs_) result.push_back(shapes.at(o.id()));
  return result;
}

}  // namespace minidl
