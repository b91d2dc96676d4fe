// layers/base/inference_plan.h — fused inference steps of a functional graph (BatchNormalization
// folded into the convolution before it, activations applied in the convolution's output pass).
//
// A graph run at inference (CallArgs::training false, no tape recording, folding
// on) computes some chains of layers as one step. A chain is a run of nodes in
// which each node has one input and one output, and each output but the last is
// read by exactly one node, the next one, and is not an output of the graph: the
// values inside such a chain are seen by nobody else, so computing the chain at
// once gives the same outputs. Which chains fuse, and how, is decided by rules
// the concrete layers register beside their definition (layers/conv/conv_inference.cpp):
// layers/base knows no concrete layer.
//
//   set_inference_folding(false);   // every node runs on its own again (for comparisons)
//
// Folding is on by default; the environment variable MINIDL_INFERENCE_FOLDING=0
// turns it off when the process starts.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "autograd/variable.h"

namespace minidl {

class Layer;
class Node;

// Turns inference folding on or off for the whole process (thread-safe).
void set_inference_folding(bool on);
bool inference_folding();

// One fused step: computes a chain of layers at once, inference only.
class FusedInference {
 public:
  virtual ~FusedInference() = default;
  // The output of the chain's last layer for the first layer's input x. Called
  // without a tape (grad mode off). Throws what the first layer's call would
  // for an input it rejects.
  virtual Variable run(const Variable& x) = 0;
};

// A fusion rule: given a chain of layers (chain[0] first, each the single
// consumer of the one before, all built), returns a step computing the first
// *taken of them (1 <= *taken <= chain.size()), or null to leave chain[0] alone.
using InferenceFusionRule = std::unique_ptr<FusedInference> (*)(const std::vector<Layer*>& chain, size_t* taken);

// Adds a rule; rules are tried in the order they were added. Meant for a static
// initializer beside the layers the rule fuses; returns true so it can initialise one.
bool register_inference_fusion_rule(InferenceFusionRule rule);

// The fused steps of one graph, by node position (FunctionalImpl's execution order).
class InferencePlan {
 public:
  // node_in[k] / node_out[k]: the value slots node k reads and writes;
  // output_slots: the graph's outputs. Returns null when some layer of the graph
  // is not built yet (the plan is then made on a later run).
  static std::unique_ptr<InferencePlan> make(const std::vector<const Node*>& nodes,
                                             const std::vector<std::vector<int>>& node_in,
                                             const std::vector<std::vector<int>>& node_out,
                                             const std::vector<int>& output_slots, int num_slots);

  // The step that starts at node k, or null.
  FusedInference* step_at(size_t k) const { return steps_[k].get(); }
  // The slot the step at node k writes: the output of its chain's last node.
  int step_output(size_t k) const { return step_out_[k]; }
  // True for a node computed by a step that starts at an earlier node.
  bool absorbed(size_t k) const { return absorbed_[k] != 0; }
  // The number of steps.
  size_t num_steps() const;

 private:
  std::vector<std::unique_ptr<FusedInference>> steps_;  // by node position
  std::vector<int> step_out_;
  std::vector<char> absorbed_;
};

}  // namespace minidl
