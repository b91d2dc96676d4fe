// examples/02_functional_graph.cpp — a functional graph with a shared layer, and what Keras's node tracking records.
//
// One Dense layer is applied to two different inputs (a "siamese" tower): the
// layer object is the same, so its weights are shared, but each symbolic call
// records a separate Node. The node-indexed queries get_input_at(i),
// get_input_shape_at(i) and get_output_shape_at(i) read those nodes; the plain
// properties (input(), output_shape()) only work while there is one node, or
// all nodes agree. Asking the wrong question raises the error Keras raises, with
// Keras's words; the example checks each message and exits 1 if one differs.
//
// Read next: layers/base/node.h (Node, NodeHistory and the queries),
// layers/base/keras_tensor.h, layers/base/functional.h (how a Model runs its
// graph), then examples/03_one_conv_step.cpp.
//
//   build/examples/02_functional_graph
#include <minidl/minidl.h>

#include <cstdio>
#include <functional>
#include <string>

#include "example_checks.h"

using namespace minidl;

namespace {

// Runs f, which must throw Exc with exactly `expected` as its message.
template <class Exc>
void expect_error(examples::Checks& check, const char* exc_name, const std::function<void()>& f,
                  const std::string& expected) {
  try {
    f();
  } catch (const Exc& e) {
    std::printf("  %s: %s\n", exc_name, e.what());
    check(e.what() == expected, "  the message is Keras's");
    return;
  } catch (const std::exception& e) {
    std::printf("  unexpected exception: %s\n", e.what());
  }
  check(false, std::string("raised ") + exc_name);
}

}  // namespace

int main() {
  examples::Checks check("02_functional_graph");
  set_random_seed(7);

  KerasTensor left = Input({16}, {.name = "left"});
  KerasTensor right = Input({16}, {.name = "right"});

  Dense shared(8, {.activation = "relu", .name = "shared_dense"});
  KerasTensor a = shared(left);   // node 0 of shared_dense
  KerasTensor b = shared(right);  // node 1 of shared_dense

  KerasTensor merged = Concatenate()({a, b});
  KerasTensor out = Dense(1, {.activation = "sigmoid", .name = "score"})(merged);
  Model model({left, right}, {out}, "siamese");

  std::printf("Node-indexed queries on the shared layer:\n");
  const size_t nodes = shared->inbound_nodes().size();
  std::printf("  shared_dense has %zu inbound nodes\n", nodes);
  check(nodes == 2, "one node per symbolic call");
  const KerasTensor in1 = shared->get_input_at(1);
  std::printf("  get_input_at(1) comes from layer '%s'\n", in1.layer()->name().c_str());
  check(in1.layer()->name() == "right", "node 1's input is the 'right' Input");
  check(shared->get_input_at(0).layer()->name() == "left", "node 0's input is the 'left' Input");
  const Shape out_shape = shared->get_output_shape_at(1);
  std::printf("  get_input_shape_at(0) = %s, get_output_shape_at(1) = %s\n",
              shape_str(shared->get_input_shape_at(0)).c_str(), shape_str(out_shape).c_str());
  check(out_shape == Shape{kNone, 8}, "get_output_shape_at(1) is (None, 8)");
  // Both nodes see (None, 16): the plain property agrees across nodes and works.
  check(shared->input_shape() == Shape{kNone, 16}, "input_shape() works: all nodes agree");
  // The weights are shared: one kernel, whatever the node.
  check(shared->weights().size() == 2, "one kernel and one bias for both calls");

  std::printf("\nQuestions Keras refuses, and its errors:\n");
  expect_error<AttributeError>(
      check, "AttributeError", [&] { shared->input(); },
      "Layer shared_dense has multiple inbound nodes, hence the notion of \"layer input\" is ill-defined. "
      "Use `get_input_at(node_index)` instead.");
  expect_error<ValueError>(
      check, "ValueError", [&] { shared->get_input_at(2); },
      "Asked to get input at node 2, but the layer shared_dense has only 2 inbound nodes.");
  expect_error<ValueError>(
      check, "ValueError", [&] { shared->get_output_shape_at(5); },
      "Asked to get output at node 5, but the layer shared_dense has only 2 inbound nodes.");
  Dense lonely(4, {.name = "lonely"});
  expect_error<RuntimeError>(
      check, "RuntimeError", [&] { lonely->get_input_at(0); },
      "The layer lonely has never been called and thus has no defined input.");
  // A concrete call computes at once and records no node.
  const Variable z = lonely(Variable(Tensor::ones({1, 3})));
  check(z.shape() == Shape{1, 4}, "a concrete call computes (1, 4) at once");
  expect_error<RuntimeError>(
      check, "RuntimeError", [&] { lonely->get_output_at(0); },
      "Layer lonely has only been called on concrete tensors (eager mode), which records no nodes, "
      "and thus has no defined output");

  std::printf("\n%s", model->summary().c_str());

  // The graph runs on data: one forward pass for a batch of two pairs.
  Tensor x1 = Tensor::uniform({2, 16}), x2 = Tensor::uniform({2, 16});
  Tensor y = model->predict(std::vector<Tensor>{x1, x2})[0];
  std::printf("\nprediction: %s\n", y.to_string().c_str());
  check(y.shape() == Shape{2, 1}, "prediction has shape (2, 1)");
  const Tensor tower_left = shared(x1), tower_right = shared(x2);
  const Tensor left_again = model->get_layer("shared_dense")->apply(x1);
  check(tower_left.to_vector() == left_again.to_vector(), "get_layer returns the same shared layer");
  check(tower_left.to_vector() != tower_right.to_vector(), "the two inputs give different tower outputs");

  return check.finish();
}
