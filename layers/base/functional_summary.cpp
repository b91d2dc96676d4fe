// layers/base/functional_summary.cpp — FunctionalImpl::summary, Keras's model summary table.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/errors.h"
#include "layers/base/functional.h"

namespace minidl {

namespace {
// 1199882 -> "1,199,882".
std::string with_commas(int64_t n) {
  const uint64_t magnitude = n < 0 ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  const std::string digits = std::to_string(magnitude);
  std::string out = n < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}
}  // namespace

bool FunctionalImpl::is_sequential_like() const {
  std::map<int, int> per_depth;  // approximated: a chain has one node per step
  std::set<const Layer*> seen;
  for (const Node* n : nodes_in_order_) {
    if (n->input_tensors().size() > 1) return false;
    if (!seen.insert(n->outbound_layer()).second) return false;  // shared layer
  }
  // A chain: every node consumes the previous node's output.
  for (size_t i = 1; i < nodes_in_order_.size(); ++i) {
    const auto& t = nodes_in_order_[i]->input_tensors()[0];
    if (t.layer().get() != nodes_in_order_[i - 1]->outbound_layer()) return false;
  }
  return inputs_.size() == 1 && outputs_.size() == 1;
}

std::string FunctionalImpl::summary_table(const std::vector<LayerPtr>& rows, bool connected, int line_length) const {
  if (line_length <= 0) line_length = connected ? 98 : 65;
  std::vector<int> positions;
  std::vector<std::string> header;
  if (connected) {
    for (double p : {.33, .55, .67, 1.0}) positions.push_back(static_cast<int>(line_length * p));
    header = {"Layer (type)", "Output Shape", "Param #", "Connected to"};
  } else {
    for (double p : {.45, .85, 1.0}) positions.push_back(static_cast<int>(line_length * p));
    header = {"Layer (type)", "Output Shape", "Param #"};
  }
  std::string out;
  auto row = [&](const std::vector<std::string>& fields) {
    std::string line;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) line = line.substr(0, line.size() - 1) + " ";
      line += fields[i];
      line = line.substr(0, positions[i]);
      line += std::string(positions[i] - line.size(), ' ');
    }
    out += line + "\n";
  };
  out += fmt::format("Model: \"{}\"\n", name());
  out += std::string(line_length, '_') + "\n";
  row(header);
  out += std::string(line_length, '=') + "\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& l = rows[i];
    std::string shape;
    try {
      if (l->class_name() == "InputLayer") {
        shape = "[" + shape_str(l->output_shape()) + "]";
      } else {
        const auto& nodes = l->inbound_nodes();
        int owned = -1, count = 0;
        for (size_t k = 0; k < nodes.size(); ++k)
          if (owns_node(nodes[k].get())) {
            owned = static_cast<int>(k);
            ++count;
          }
        if (owned < 0) throw AttributeError("no node");
        auto shapes = l->get_output_shapes_at(count == 1 ? owned : 0);
        if (count > 1 && nodes.size() > 1) {
          shape = "multiple";
          std::set<std::vector<Shape>> all;
          for (size_t k = 0; k < nodes.size(); ++k) all.insert(l->get_output_shapes_at(static_cast<int>(k)));
          if (all.size() == 1) shape.clear();
        }
        if (shape.empty()) {
          if (shapes.size() == 1) {
            shape = shape_str(shapes[0]);
          } else {
            shape = "[";
            for (size_t k = 0; k < shapes.size(); ++k) shape += (k ? ", " : "") + shape_str(shapes[k]);
            shape += "]";
          }
        }
      }
    } catch (const std::exception&) {
      shape = "multiple";
    }
    const std::string params = l->built() ? std::to_string(l->count_params()) : "0 (unused)";
    std::vector<std::string> connections;
    if (connected) {
      for (const auto& n : l->inbound_nodes()) {
        if (!owns_node(n.get())) continue;
        for (const auto& t : n->input_tensors())
          connections.push_back(fmt::format("{}[{}][{}]", t.layer()->name(), t.node_index(), t.tensor_index()));
      }
    }
    std::vector<std::string> fields = {l->name() + " (" + l->class_name() + ")", shape, params};
    if (connected) fields.push_back(connections.empty() ? "" : connections[0]);
    row(fields);
    for (size_t k = 1; k < connections.size(); ++k) row({"", "", "", connections[k]});
    out += std::string(line_length, i + 1 == rows.size() ? '=' : '_') + "\n";
  }
  int64_t trainable = 0, non_trainable = 0;
  for (const auto& v : trainable_weights()) trainable += v.value().numel();
  for (const auto& v : non_trainable_weights()) non_trainable += v.value().numel();
  out += "Total params: " + with_commas(trainable + non_trainable) + "\n";
  out += "Trainable params: " + with_commas(trainable) + "\n";
  out += "Non-trainable params: " + with_commas(non_trainable) + "\n";
  out += std::string(line_length, '_') + "\n";
  return out;
}

std::string FunctionalImpl::summary(int line_length) const {
  if (!has_graph()) fail("This model has not yet been built. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data.");
  return summary_table(layers(), !is_sequential_like(), line_length);
}

}  // namespace minidl
