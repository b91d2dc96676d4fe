// examples/01_autograd.cpp — reverse-mode autodiff on one neuron, step by step.
//
// A 2-input neuron o = tanh(x1*w1 + x2*w2 + b) built from autograd Variables.
// Every operation records a GradFn (a tape entry) that remembers its inputs;
// backward() walks that tape from o back to the leaves and leaves dO/dv in each
// leaf's .grad(). We print the tape, run backward, and check every gradient
// against the chain rule worked out by hand; a wrong gradient exits 1.
//
// Read next: autograd/variable.h (Variable and GradFn), autograd/functions.h
// (the differentiable ops), autograd/engine.cpp (the backward sweep), then
// examples/02_functional_graph.cpp.
//
//   build/examples/01_autograd
#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_set>
#include <vector>

#include "autograd/functions.h"
#include "autograd/variable.h"

using minidl::GradFn;
using minidl::Tensor;
using minidl::Variable;
namespace ag = minidl::autograd;

namespace {

Variable scalar(float v, const char* name, bool requires_grad) {
  return Variable(Tensor::scalar(v), requires_grad, name);
}

std::string label(const Variable& v) {
  const std::string name = v.name().empty() ? "(unnamed)" : v.name();
  return name + " = " + std::to_string(v.value().item());
}

// Prints each tape entry once, from the output back towards the leaves. An
// explicit stack rather than recursion, like the engine itself.
void print_tape(const Variable& out) {
  std::vector<Variable> stack{out};
  std::unordered_set<const GradFn*> seen;
  while (!stack.empty()) {
    const Variable v = stack.back();
    stack.pop_back();
    const GradFn* fn = v.grad_fn().get();
    if (!fn || !seen.insert(fn).second) continue;
    const std::string op(fn->name());  // a std::string_view kept inside the tape entry
    std::printf("  %-24s <- %-5s(", label(v).c_str(), op.c_str());
    for (size_t i = 0; i < fn->inputs().size(); ++i) {
      const Variable& in = fn->inputs()[i];
      std::printf("%s%s%s", i ? ", " : "", in.name().c_str(), in.is_leaf() ? " [leaf]" : "");
      stack.push_back(in);
    }
    std::printf(")\n");
  }
}

}  // namespace

int main() {
  // Leaves: inputs x1, x2 and parameters w1, w2, b. All require gradients here
  // so we can look at every one of them.
  Variable x1 = scalar(2.f, "x1", true), x2 = scalar(0.f, "x2", true);
  Variable w1 = scalar(-3.f, "w1", true), w2 = scalar(1.f, "w2", true);
  Variable b = scalar(6.8813735870195432f, "b", true);

  // Forward pass. Naming intermediates only helps the printout below.
  Variable x1w1 = x1 * w1;
  x1w1.set_name("x1w1");
  Variable x2w2 = x2 * w2;
  x2w2.set_name("x2w2");
  Variable sum2 = x1w1 + x2w2;
  sum2.set_name("x1w1+x2w2");
  Variable n = sum2 + b;
  n.set_name("n");
  Variable o = ag::tanh(n);
  o.set_name("o");

  std::printf("The tape (output first; each line is one GradFn and the variables it read):\n");
  print_tape(o);

  // Reverse sweep: seeds dO/dO = 1 and applies each GradFn's chain rule.
  o.backward();

  // By hand: dO/dn = 1 - tanh(n)^2; n is a sum, so dn/db = 1 and
  // dn/d(x_i w_i) = 1; a product sends each factor the other one.
  const float on = o.value().item();
  const float dn = 1.f - on * on;
  struct Check {
    const Variable* v;
    float by_hand;
  };
  const Check checks[] = {
      {&x1, dn * w1.value().item()}, {&w1, dn * x1.value().item()}, {&x2, dn * w2.value().item()},
      {&w2, dn * x2.value().item()}, {&b, dn},
  };
  std::printf("\no = %.6f; gradients dO/dv from backward() vs the chain rule by hand:\n", on);
  bool all_match = true;
  for (const Check& c : checks) {
    const float got = c.v->grad().item();
    const bool match = std::fabs(got - c.by_hand) <= 1e-6f;
    all_match = all_match && match;
    std::printf("  d o / d %-3s = %+.6f   by hand %+.6f   %s\n", c.v->name().c_str(), got, c.by_hand,
                match ? "ok" : "MISMATCH");
  }
  // Intermediates keep no .grad: only leaves accumulate gradients.
  std::printf("\nn.grad() defined? %s (intermediates keep no gradient)\n", n.grad().defined() ? "yes" : "no");
  if (!all_match || n.grad().defined()) {
    std::fprintf(stderr,
                 "01_autograd: FAILED: a gradient differs from the chain rule by hand, or an intermediate kept one\n");
    return 1;
  }
  std::printf("01_autograd: all gradients match\n");
  return 0;
}
