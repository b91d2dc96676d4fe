// io/plot_model.cpp — keras.utils.plot_model / model_to_dot: the model's graph as boxes and
// edges, following Keras 3's model_visualization.py; io/plot_model_render.cpp draws it.
#include "io/plot_model.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/errors.h"
#include "io/atomic_file.h"
#include "io/plot_internal.h"
#include "layers/base/functional.h"
#include "train/model.h"

namespace minidl {
namespace {

using plot_detail::DotGraph;
using plot_detail::DotNode;

// Graphviz HTML-like labels are XML: names and shapes are text, escaped.
std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Keras formats a structure of shapes with Python's str(): one tensor "(None, 4)",
// several "[(None, 4), (None, 4)]"; "?" when the layer has no node to read them from.
std::string format_shapes(const std::vector<Shape>& shapes) {
  if (shapes.empty()) return "?";
  if (shapes.size() == 1) return shape_str(shapes[0]);
  std::string s = "[";
  for (size_t i = 0; i < shapes.size(); ++i) s += (i ? ", " : "") + shape_str(shapes[i]);
  return s + "]";
}

std::string format_dtypes(const Node& node) {
  const auto& specs = node.output_specs();
  if (specs.empty()) return "?";
  if (specs.size() == 1) return specs[0]->dtype;
  std::string s = "[";
  for (size_t i = 0; i < specs.size(); ++i) s += (i ? ", '" : "'") + specs[i]->dtype + "'";
  return s + "]";
}

// The activation's name when the layer has one (its config's "activation"), else "".
std::string activation_name(const Layer& layer) {
  json config;
  try {
    config = layer.get_config();
  } catch (const std::exception&) {
    return "";
  }
  const auto it = config.find("activation");
  if (it == config.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    const auto inner = it->find("config");
    if (inner != it->end() && inner->is_object() && inner->contains("name") && (*inner)["name"].is_string())
      return (*inner)["name"].get<std::string>();
    if (it->contains("class_name") && (*it)["class_name"].is_string()) return (*it)["class_name"].get<std::string>();
  }
  return it->dump();
}

// Keras's make_layer_label: the HTML table of one box (without the enclosing <>).
std::string layer_label(const Layer& layer, const PlotModelOptions& o) {
  const std::string class_name = layer.class_name();
  int colspan_max = int{o.show_dtype} + int{o.show_trainable};
  if (o.show_shapes) colspan_max += 2;
  const std::string colspan = std::to_string(std::max(1, colspan_max));

  std::string table = R"(<table border="0" cellborder="1" bgcolor="black" cellpadding="10">)";
  table += R"(<tr><td colspan=")" + colspan + R"(" bgcolor="black"><font point-size="16" color="white">)";
  if (o.show_layer_names)
    table += "<b>" + html_escape(layer.name()) + "</b> (" + html_escape(class_name) + ")";
  else
    table += "<b>" + html_escape(class_name) + "</b>";
  table += "</font></td></tr>";

  if (o.show_layer_activations) {
    const std::string activation = activation_name(layer);
    if (!activation.empty())
      table += R"(<tr><td bgcolor="white" colspan=")" + colspan + R"("><font point-size="14">Activation: <b>)" +
               html_escape(activation) + "</b></font></td></tr>";
  }

  // Keras reads layer.input / layer.output: the first call's tensors.
  const Node* first = layer.inbound_nodes().empty() ? nullptr : layer.inbound_nodes()[0].get();
  std::string cols;
  const auto cell = [&](const std::string& text) {
    cols += R"(<td bgcolor="white"><font point-size="14">)" + text + "</font></td>";
  };
  if (o.show_shapes) {
    if (class_name != "InputLayer")
      cell("Input shape: <b>" + html_escape(first ? format_shapes(first->input_shapes()) : "?") + "</b>");
    cell("Output shape: <b>" + html_escape(first ? format_shapes(first->output_shapes()) : "?") + "</b>");
  }
  if (o.show_dtype) cell("Output dtype: <b>" + html_escape(first ? format_dtypes(*first) : "?") + "</b>");
  if (o.show_trainable && !layer.weights().empty()) {
    if (layer.trainable())
      cols += R"(<td bgcolor="forestgreen"><font point-size="14" color="white"><b>Trainable</b></font></td>)";
    else
      cols += R"(<td bgcolor="firebrick"><font point-size="14" color="white"><b>Non-trainable</b></font></td>)";
  }
  if (!cols.empty()) table += "<tr>" + cols + "</tr>";
  return table + "</table>";
}

const FunctionalImpl* as_graph(const Layer* layer) { return dynamic_cast<const FunctionalImpl*>(layer); }
const SequentialImpl* as_sequential(const Layer* layer) { return dynamic_cast<const SequentialImpl*>(layer); }

// A node of the graph: (layer, index into its inbound nodes), Keras's make_node_key.
using NodeKey = std::pair<const Layer*, int>;

// The nodes of a model's graph (Keras's model._nodes): reached from its outputs.
std::set<NodeKey> graph_nodes(const FunctionalImpl& model) {
  std::set<NodeKey> seen;
  std::vector<KerasTensor> pending = model.outputs();
  while (!pending.empty()) {
    const KerasTensor t = pending.back();
    pending.pop_back();
    const LayerPtr layer = t.layer();
    if (!layer || !seen.insert({layer.get(), t.node_index()}).second) continue;
    const auto& nodes = layer->inbound_nodes();
    if (t.node_index() < 0 || t.node_index() >= static_cast<int>(nodes.size())) continue;
    for (const KerasTensor& in : nodes[t.node_index()]->input_tensors()) pending.push_back(in);
  }
  return seen;
}

class DotBuilder {
 public:
  explicit DotBuilder(const PlotModelOptions& o) : o_(o) {}

  // Keras's model_to_dot on `model` into `dot`.
  void add_model(const Layer& model, DotGraph& dot) {
    const SequentialImpl* sequential = as_sequential(&model);
    const FunctionalImpl* functional = as_graph(&model);
    if (!functional) {  // a layer that is not a graph: one box
      dot.nodes.push_back(make_node(model));
      return;
    }
    const std::vector<LayerPtr> layers = functional->layers();
    for (const LayerPtr& layer : layers) {
      if (o_.expand_nested && as_graph(layer.get())) {
        DotGraph cluster;
        cluster.name = layer->name();
        add_model(*layer, cluster);
        dot.clusters.push_back(std::move(cluster));
      } else {
        dot.nodes.push_back(make_node(*layer));
      }
    }
    if (sequential && !o_.expand_nested) {
      for (size_t i = 0; i + 1 < layers.size(); ++i) add_edge(dot, *layers[i], *layers[i + 1]);
      return;
    }
    // A Sequential's first layer hangs from its InputLayer, which is not drawn: the edge
    // into it comes from outside, through the Sequential's own node in the outer graph.
    const size_t first = sequential ? 1 : 0;
    const std::set<NodeKey> own = graph_nodes(*functional);
    for (size_t l = first; l < layers.size(); ++l) {
      const Layer& layer = *layers[l];
      const auto& inbound = layer.inbound_nodes();
      for (size_t n = 0; n < inbound.size(); ++n) {
        if (!own.count({&layer, static_cast<int>(n)})) continue;
        const auto& inputs = inbound[n]->input_tensors();
        for (size_t input_index = 0; input_index < inputs.size(); ++input_index) {
          const LayerPtr source_layer = inputs[input_index].layer();
          if (!source_layer) continue;
          if (!o_.expand_nested) {
            add_edge(dot, *source_layer, layer);
            continue;
          }
          add_edge(dot, resolve_source(source_layer, inputs[input_index].tensor_index()),
                   resolve_destination(layer, input_index));
        }
      }
    }
  }

 private:
  // A nested model has no output box: the edge starts at the layer making that output.
  static const Layer& resolve_source(LayerPtr source, int output_index) {
    while (const FunctionalImpl* model = as_graph(source.get())) {
      const auto& outputs = model->outputs();
      if (output_index < 0 || output_index >= static_cast<int>(outputs.size()) || !outputs[output_index].layer())
        break;
      const KerasTensor& t = outputs[output_index];
      source = t.layer();
      output_index = t.tensor_index();
    }
    return *source;
  }

  // ... and no input box: the edge ends at its InputLayer (functional) or first layer (Sequential).
  static const Layer& resolve_destination(const Layer& destination, size_t input_index) {
    const Layer* d = &destination;
    while (const FunctionalImpl* model = as_graph(d)) {
      const Layer* next = nullptr;
      if (as_sequential(d)) {
        const auto& stack = model->sublayer_list();
        if (!stack.empty()) next = stack[0].get();
      } else if (input_index < model->inputs().size()) {
        next = model->inputs()[input_index].layer().get();
      }
      if (!next) break;
      d = next;
    }
    return *d;
  }

  // Keras names boxes by id(layer): one box per layer object, however often it is used.
  const std::string& node_id(const Layer& layer) {
    auto it = ids_.find(&layer);
    if (it != ids_.end()) return it->second;
    std::string id = layer.name();
    for (int k = 2; used_ids_.count(id); ++k) id = layer.name() + "#" + std::to_string(k);
    used_ids_.insert(id);
    return ids_.emplace(&layer, id).first->second;
  }

  DotNode make_node(const Layer& layer) { return {node_id(layer), layer_label(layer, o_)}; }

  // Keras's add_edge: an edge already drawn (anywhere in the picture) is not drawn again.
  void add_edge(DotGraph& dot, const Layer& source, const Layer& destination) {
    std::pair<std::string, std::string> edge{node_id(source), node_id(destination)};
    if (!edges_.insert(edge).second) return;
    dot.edges.push_back(std::move(edge));
  }

  const PlotModelOptions& o_;
  std::unordered_map<const Layer*, std::string> ids_;
  std::set<std::string> used_ids_;
  std::set<std::pair<std::string, std::string>> edges_;
};

// The checks both entry points make, and the graph.
std::pair<DotGraph, plot_detail::DotAttributes> build_graph(const std::shared_ptr<Layer>& model,
                                                            const PlotModelOptions& o) {
  MINIDL_CHECK(model != nullptr, ValueError, "plot_model: the model is null");
  const FunctionalImpl* functional = as_graph(model.get());
  if (!model->built() || (functional && functional->outputs().empty()))
    raise<ValueError>(
        "This model has not yet been built. Build the model first by calling `build()` or by calling the model on "
        "a batch of data.");
  MINIDL_CHECK(o.rankdir == "TB" || o.rankdir == "LR" || o.rankdir == "BT" || o.rankdir == "RL", ValueError,
               "plot_model: rankdir must be one of 'TB', 'LR', 'BT', 'RL', received '{}'", o.rankdir);
  MINIDL_CHECK(o.dpi >= 1 && o.dpi <= 10000, ValueError, "plot_model: dpi must be in 1..10000, received {}", o.dpi);
  MINIDL_CHECK(o.splines == "ortho" || o.splines == "curved" || o.splines == "polyline" || o.splines == "spline" ||
                   o.splines == "line" || o.splines == "none" || o.splines == "true" || o.splines == "false",
               ValueError,
               "plot_model: splines must be one of 'ortho', 'curved', 'polyline', 'spline', 'line', received '{}'",
               o.splines);
  DotGraph graph;
  DotBuilder(o).add_model(*model, graph);
  return {std::move(graph), plot_detail::DotAttributes{o.rankdir, o.dpi, o.splines}};
}

// The Graphviz output format for the file's suffix (Keras: no suffix means PNG).
std::string format_for(const std::string& path) {
  const std::string suffix = std::filesystem::path(path).extension().string();
  if (suffix.empty()) return "png";
  for (const char* known : {"svg", "png", "pdf", "dot"})
    if (suffix == std::string(".") + known) return known;
  raise<ValueError>("plot_model: unsupported file suffix '{}' in '{}' (expected .svg, .png, .pdf or .dot)", suffix,
                    path);
}

}  // namespace

bool plot_model_available() { return plot_detail::graphviz_available(); }

std::string model_to_dot(const std::shared_ptr<Layer>& model, const PlotModelOptions& options) {
  const auto [graph, attributes] = build_graph(model, options);
  return plot_detail::graph_to_dot(graph, attributes);
}

void plot_model(const std::shared_ptr<Layer>& model, const std::string& path, const PlotModelOptions& options) {
  const std::string format = format_for(path);
  MINIDL_CHECK(plot_model_available(), RuntimeError,
               "plot_model: minidl was built without Graphviz (install libgraphviz-dev and rebuild)");
  const auto built = build_graph(model, options);
  plot_detail::write_picture("plot_model", path, [&](const std::string& tmp) {
    plot_detail::render_graph(built.first, built.second, format, tmp);
  });
}

namespace plot_detail {

void write_picture(const char* who, const std::string& path, const std::function<void(const std::string&)>& render) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  MINIDL_CHECK(fs::is_directory(folder, ec), IOError, "{}: cannot write '{}': folder '{}' does not exist", who, path,
               folder.string());
  MINIDL_CHECK(!fs::is_directory(target, ec), IOError, "{}: cannot write '{}': it is a directory", who, path);
  atomic_write(path, [&](const std::string& tmp) {
    std::FILE* probe = std::fopen(tmp.c_str(), "wb");
    if (!probe) raise<IOError>("{}: cannot write '{}': {}", who, path, std::strerror(errno));
    std::fclose(probe);
    render(tmp);
  });
}

}  // namespace plot_detail

}  // namespace minidl
