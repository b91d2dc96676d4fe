// examples/02_functional_graph.cpp — a functional graph with a shared layer, and what Keras's node tracking records.
//
// One Dense layer is applied to two different inputs (a "siamese" tower): the
// layer object is the same, so its weights are shared, but each call records a
// separate Node. get_input_shape_at(0) and get_input_shape_at(1) read those
// nodes; the plain input_shape property only works while all nodes agree.
#include <minidl/minidl.h>

#include <cstdio>

using namespace minidl;

int main() {
  set_random_seed(7);

  KerasTensor left = Input({16}, {.name = "left"});
  KerasTensor right = Input({16}, {.name = "right"});

  Dense shared(8, {.activation = "relu", .name = "shared_dense"});
  KerasTensor a = shared(left);   // node 0 of shared_dense
  KerasTensor b = shared(right);  // node 1 of shared_dense

  KerasTensor merged = Concatenate()({a, b});
  KerasTensor out = Dense(1, {.activation = "sigmoid", .name = "score"})(merged);
  Model model({left, right}, {out}, "siamese");

  std::printf("shared_dense has %zu inbound nodes\n", shared->inbound_nodes().size());
  std::printf("get_input_shape_at(0) = %s\n", shape_str(shared->get_input_shape_at(0)).c_str());
  std::printf("get_input_shape_at(1) = %s\n", shape_str(shared->get_input_shape_at(1)).c_str());
  std::printf("get_output_shape_at(1) = %s\n", shape_str(shared->get_output_shape_at(1)).c_str());
  std::printf("node 1 came from layer '%s'\n", shared->get_input_at(1).layer()->name().c_str());
  try {
    shared->input();  // two nodes: "the input" is ambiguous, as in Keras
  } catch (const AttributeError& e) {
    std::printf("shared->input() raised AttributeError: %s\n", e.what());
  }

  std::printf("\n%s", model->summary().c_str());

  // The graph runs on data: one forward pass for a batch of two pairs.
  Tensor x1 = Tensor::uniform({2, 16}), x2 = Tensor::uniform({2, 16});
  Tensor y = model->predict(std::vector<Tensor>{x1, x2})[0];
  std::printf("\nprediction: %s\n", y.to_string().c_str());
  return 0;
}
