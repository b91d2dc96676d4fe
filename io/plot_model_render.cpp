// io/plot_model_render.cpp — plot_model's drawing: the graph description handed to Graphviz's
// C library (cgraph builds the graph, gvc lays it out with dot and renders it).
//
// Graphviz keeps global state (its error handler, the last error), so one picture is drawn at
// a time. Its messages go to a handler here rather than to stderr: the library stays silent,
// and a failure's message becomes the exception's.
#include <mutex>
#include <string>

#include "core/errors.h"
#include "io/plot_internal.h"

#ifdef MINIDL_HAVE_GRAPHVIZ
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <cstdio>
#include <cstdlib>
#endif

namespace minidl::plot_detail {

#ifndef MINIDL_HAVE_GRAPHVIZ

bool graphviz_available() { return false; }

void render_graph(const DotGraph&, const DotAttributes&, const std::string&, const std::string&) {
  raise<RuntimeError>("plot_model: minidl was built without Graphviz (install libgraphviz-dev and rebuild)");
}

std::string graph_to_dot(const DotGraph&, const DotAttributes&) {
  raise<RuntimeError>("model_to_dot: minidl was built without Graphviz (install libgraphviz-dev and rebuild)");
}

#else

namespace {

std::mutex graphviz_mutex;  // Graphviz's error handler and messages are process-wide
std::string* graphviz_messages = nullptr;

int collect_message(char* message) {
  if (graphviz_messages && message) *graphviz_messages += message;
  return 0;
}

// cgraph takes char* for strings it only reads.
char* chars(const std::string& s) { return const_cast<char*>(s.c_str()); }

// A graph being built, closed however the drawing ends; Graphviz's messages are collected
// while it lives.
class GraphvizGraph {
 public:
  // One Graphviz context for the whole process, never freed: Graphviz 2.42's pango text
  // plugin keeps the last font it measured in a static cache that outlives its context,
  // so a second context reads the freed font name (AddressSanitizer: heap-use-after-free
  // in textspan_size). Used under graphviz_mutex only.
  static GVC_t* process_context() {
    static GVC_t* const context = gvContext();
    return context;
  }

  GraphvizGraph() : lock_(graphviz_mutex) {
    graphviz_messages = &messages_;
    agseterr(AGWARN);
    previous_handler_ = agseterrf(collect_message);
    graph_ = agopen(chars("G"), Agdirected, nullptr);
    if (!graph_) raise<RuntimeError>("plot_model: Graphviz could not create a graph: {}", messages_);
  }
  ~GraphvizGraph() {
    if (context_ && laid_out_) gvFreeLayout(context_, graph_);
    if (graph_) agclose(graph_);
    agseterrf(previous_handler_);
    graphviz_messages = nullptr;
  }
  GraphvizGraph(const GraphvizGraph&) = delete;
  GraphvizGraph& operator=(const GraphvizGraph&) = delete;

  Agraph_t* graph() const { return graph_; }
  const std::string& messages() const { return messages_; }

  void build(const DotGraph& description, const DotAttributes& attributes) {
    // Keras's pydot.Dot(): rankdir, concentrate, dpi, splines, record-shaped nodes.
    agattr(graph_, AGRAPH, chars("rankdir"), chars(attributes.rankdir));
    agattr(graph_, AGRAPH, chars("concentrate"), chars("true"));
    agattr(graph_, AGRAPH, chars("dpi"), chars(std::to_string(attributes.dpi)));
    agattr(graph_, AGRAPH, chars("splines"), chars(attributes.splines));
    agattr(graph_, AGNODE, chars("shape"), chars("record"));
    add(graph_, description);
  }

  void layout() {
    context_ = process_context();
    if (!context_) raise<RuntimeError>("plot_model: Graphviz could not start: {}", messages_);
    if (gvLayout(context_, graph_, "dot") != 0)
      raise<RuntimeError>("plot_model: Graphviz could not lay out the graph: {}", messages_);
    laid_out_ = true;
  }

  void render(const std::string& format, const std::string& path) {
    if (gvRenderFilename(context_, graph_, format.c_str(), path.c_str()) != 0)
      raise<RuntimeError>("plot_model: Graphviz could not render '{}' as {}: {}", path, format, messages_);
  }

 private:
  void add(Agraph_t* g, const DotGraph& description) {
    for (const DotNode& node : description.nodes) {
      Agnode_t* n = agnode(g, chars(node.id), 1);
      char* label = agstrdup_html(graph_, chars(node.html_label));  // an HTML-like label: <...> in DOT
      agsafeset(n, chars("label"), label, chars(""));
      agstrfree(graph_, label);
      agsafeset(n, chars("fontname"), chars("Helvetica"), chars(""));
      agsafeset(n, chars("border"), chars("0"), chars(""));
      agsafeset(n, chars("margin"), chars("0"), chars(""));
    }
    for (const DotGraph& cluster : description.clusters) {
      // dot draws a subgraph as a box only when its name starts with "cluster".
      Agraph_t* sub = agsubg(g, chars("cluster_" + cluster.name), 1);
      agsafeset(sub, chars("style"), chars("dashed"), chars(""));
      agsafeset(sub, chars("label"), chars(cluster.name), chars(""));
      agsafeset(sub, chars("labeljust"), chars("l"), chars(""));
      add(sub, cluster);
    }
    for (const auto& [from, to] : description.edges) {
      Agedge_t* e = agedge(g, agnode(g, chars(from), 1), agnode(g, chars(to), 1), nullptr, 1);
      agsafeset(e, chars("penwidth"), chars("2"), chars(""));
    }
  }

  std::unique_lock<std::mutex> lock_;
  std::string messages_;
  agusererrf previous_handler_ = nullptr;
  Agraph_t* graph_ = nullptr;
  GVC_t* context_ = nullptr;
  bool laid_out_ = false;
};

}  // namespace

bool graphviz_available() { return true; }

void render_graph(const DotGraph& graph, const DotAttributes& attributes, const std::string& format,
                  const std::string& path) {
  GraphvizGraph g;
  g.build(graph, attributes);
  g.layout();
  g.render(format, path);
}

std::string graph_to_dot(const DotGraph& graph, const DotAttributes& attributes) {
  GraphvizGraph g;
  g.build(graph, attributes);
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* stream = open_memstream(&buffer, &size);
  if (!stream) raise<RuntimeError>("model_to_dot: cannot open a memory stream");
  const int status = agwrite(g.graph(), stream);
  std::fclose(stream);
  std::string text(buffer ? buffer : "", size);
  std::free(buffer);
  if (status != 0) raise<RuntimeError>("model_to_dot: Graphviz could not write the graph: {}", g.messages());
  return text;
}

#endif

}  // namespace minidl::plot_detail
