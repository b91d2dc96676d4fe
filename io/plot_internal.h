// io/plot_internal.h — what plot_model and plot_history hand to the files that call the
// drawing libraries (io/plot_model_render.cpp: Graphviz; io/plot_history_render.cpp: PLplot).
// Private to io/plot_*.cpp: the library-neutral description of a picture and the renderers.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace minidl::plot_detail {

// Writes `path` atomically through render(tmp), a renderer that writes the file it is given.
// The target's folder is checked and the temporary file opened first, so an unwritable path
// is an IOError naming it (`who`: the function, for the message) rather than a drawing
// library's failure (PLplot's would end the process).
void write_picture(const char* who, const std::string& path, const std::function<void(const std::string&)>& render);

// --- plot_model -------------------------------------------------------------------------

// One box: a unique Graphviz node id and its HTML-like label (without the outer <>).
struct DotNode {
  std::string id;
  std::string html_label;
};

// The graph, or a nested model's cluster: its boxes, clusters and edges (by node id).
struct DotGraph {
  std::string name;  // a cluster's model name (its label); empty for the root graph
  std::vector<DotNode> nodes;
  std::vector<DotGraph> clusters;
  std::vector<std::pair<std::string, std::string>> edges;
};

// The root graph's attributes, as Keras sets them.
struct DotAttributes {
  std::string rankdir = "TB";
  int dpi = 200;
  std::string splines = "ortho";
};

bool graphviz_available();
// Lays out `graph` with dot and renders it in `format` ("svg", "png", "pdf", "dot") to
// `path`. RuntimeError with Graphviz's message when it fails; RuntimeError without Graphviz.
void render_graph(const DotGraph& graph, const DotAttributes& attributes, const std::string& format,
                  const std::string& path);
// The graph in DOT, without layout.
std::string graph_to_dot(const DotGraph& graph, const DotAttributes& attributes);

// --- plot_history -------------------------------------------------------------------------

// One panel per quantity: its name ("loss", "accuracy") and the training and validation
// values per epoch, parallel to the epochs (either may be empty; NaN is a missing value).
struct CurvePanel {
  std::string name;
  std::vector<double> train, validation;
};

bool plplot_available();
// Draws the panels against `epochs` (1-based, ascending) into `path` in `format` ("png" or
// "svg"), each panel width x height pixels. RuntimeError with PLplot's reason when it fails
// or without PLplot.
void render_curves(const std::vector<CurvePanel>& panels, const std::vector<double>& epochs,
                   const std::string& format, const std::string& path, int width, int height);

}  // namespace minidl::plot_detail
