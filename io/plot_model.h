// io/plot_model.h — keras.utils.plot_model: a picture of a model's graph, drawn by Graphviz.
//
//   plot_model(model, "model.svg", {.show_shapes = true, .rankdir = "LR"});
//
// The drawing is Keras 3's (keras/src/utils/model_visualization.py): one box per layer, an
// HTML table with the class name (or "name (Class)" with show_layer_names), and optionally
// the activation, the input and output shapes, the output dtype and a trainable badge; one
// edge per connection between layers (a shared layer is one box with several edges, an
// edge is drawn once however many times it is used); a nested model is one box, or with
// expand_nested a dashed cluster labelled with its name holding its own layers. A
// Sequential shows its layers without the InputLayer; a functional model shows its
// InputLayers. Graph attributes as Keras sets them: rankdir, dpi, concentrate=true,
// splines=ortho, record-shaped nodes with penwidth-2 edges.
//
// The graph is laid out by Graphviz's dot engine through its C library (cgraph + gvc) and
// rendered by the file's suffix: ".svg", ".png", ".pdf" or ".dot" (the laid-out graph in
// DOT); no suffix means PNG, as in Keras. The file is written atomically (a temporary file
// beside it, then a rename).
#pragma once

#include <memory>
#include <string>

#include "layers/base/layer.h"

namespace minidl {

// keras.utils.plot_model's arguments after to_file, in its order and with its defaults.
struct PlotModelOptions {
  bool show_shapes = false;
  bool show_dtype = false;
  bool show_layer_names = false;
  std::string rankdir = "TB";  // "TB" top to bottom, "LR" left to right (also "BT", "RL")
  bool expand_nested = false;
  int dpi = 200;
  bool show_layer_activations = false;
  bool show_trainable = false;
  std::string splines = "ortho";  // Graphviz's splines: "ortho", "curved", "polyline", "spline", "line"
};

// Draws `model` (a Model, a Sequential, or any layer: a layer that is not a graph of
// layers is one box, as Keras draws a subclassed model) into `path`.
// Throws ValueError "This model has not yet been built. ..." (Keras's message) for a model
// without a graph, ValueError for an unsupported suffix (naming it and the supported ones),
// a rankdir other than TB/LR/BT/RL or a dpi outside 1..10000; IOError naming the path when
// it cannot be written; RuntimeError when minidl was built without Graphviz or Graphviz
// fails (its message included).
void plot_model(const std::shared_ptr<Layer>& model, const std::string& path, const PlotModelOptions& options = {});

// The DOT text of the graph plot_model draws, before layout (keras.utils.model_to_dot).
// Same errors as plot_model, without the file ones.
std::string model_to_dot(const std::shared_ptr<Layer>& model, const PlotModelOptions& options = {});

// True when minidl was built with Graphviz (plot_model works).
bool plot_model_available();

}  // namespace minidl
