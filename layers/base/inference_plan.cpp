// layers/base/inference_plan.cpp — the folding switch, the rule list and the plan of a graph's fused steps.
#include "layers/base/inference_plan.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "layers/base/layer.h"
#include "layers/base/node.h"

namespace minidl {

namespace {

bool folding_at_start() {
  const char* v = std::getenv("MINIDL_INFERENCE_FOLDING");
  return !(v && (std::strcmp(v, "0") == 0 || std::strcmp(v, "false") == 0 || std::strcmp(v, "off") == 0));
}

std::atomic<bool>& folding_flag() {
  static std::atomic<bool> on{folding_at_start()};
  return on;
}

std::vector<InferenceFusionRule>& rules() {
  static std::vector<InferenceFusionRule> list;
  return list;
}

// The longest chain a rule is shown: a convolution, a normalization and an activation.
constexpr size_t kMaxChain = 3;

}  // namespace

void set_inference_folding(bool on) { folding_flag().store(on); }
bool inference_folding() { return folding_flag().load(std::memory_order_relaxed); }

bool register_inference_fusion_rule(InferenceFusionRule rule) {
  rules().push_back(rule);
  return true;
}

size_t InferencePlan::num_steps() const {
  size_t n = 0;
  for (const auto& s : steps_) n += s != nullptr;
  return n;
}

std::unique_ptr<InferencePlan> InferencePlan::make(const std::vector<const Node*>& nodes,
                                                   const std::vector<std::vector<int>>& node_in,
                                                   const std::vector<std::vector<int>>& node_out,
                                                   const std::vector<int>& output_slots, int num_slots) {
  for (const Node* n : nodes)
    if (!n->outbound_layer()->built()) return nullptr;
  // Who reads each slot: the number of readers, and the reading node when there is one.
  std::vector<int> readers(static_cast<size_t>(num_slots), 0), reader(static_cast<size_t>(num_slots), -1);
  for (size_t k = 0; k < nodes.size(); ++k)
    for (int s : node_in[k]) {
      ++readers[static_cast<size_t>(s)];
      reader[static_cast<size_t>(s)] = static_cast<int>(k);
    }
  for (int s : output_slots) ++readers[static_cast<size_t>(s)];  // a graph output is read by the caller
  const auto single_in_out = [&](size_t k) { return node_in[k].size() == 1 && node_out[k].size() == 1; };

  auto plan = std::make_unique<InferencePlan>();
  plan->steps_.resize(nodes.size());
  plan->step_out_.assign(nodes.size(), -1);
  plan->absorbed_.assign(nodes.size(), 0);
  for (size_t k = 0; k < nodes.size(); ++k) {
    if (plan->absorbed_[k] || !single_in_out(k)) continue;
    // The chain from node k: the next node is the only reader of the last one's output.
    std::vector<size_t> chain_nodes{k};
    while (chain_nodes.size() < kMaxChain) {
      const size_t s = static_cast<size_t>(node_out[chain_nodes.back()][0]);
      if (readers[s] != 1 || reader[s] < 0) break;
      const size_t next = static_cast<size_t>(reader[s]);
      if (!single_in_out(next) || plan->absorbed_[next]) break;
      chain_nodes.push_back(next);
    }
    std::vector<Layer*> chain;
    for (size_t n : chain_nodes) chain.push_back(nodes[n]->outbound_layer());
    for (InferenceFusionRule rule : rules()) {
      size_t taken = 0;
      std::unique_ptr<FusedInference> step = rule(chain, &taken);
      if (!step || taken < 1 || taken > chain.size()) continue;
      plan->steps_[k] = std::move(step);
      plan->step_out_[k] = node_out[chain_nodes[taken - 1]][0];
      for (size_t i = 1; i < taken; ++i) plan->absorbed_[chain_nodes[i]] = 1;
      break;
    }
  }
  return plan;
}

}  // namespace minidl
