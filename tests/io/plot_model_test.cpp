// tests/io/plot_model_test.cpp — plot_model draws Keras's graph: a box per layer, an edge per
// connection (a shared layer once, with several edges), nested models as clusters; SVG, DOT and
// PNG by suffix; bad suffixes and unwritable paths are clear errors.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <utility>

#include "core/errors.h"
#include "io/plot_model.h"
#include "layers/base/input_layer.h"
#include "layers/core/dense.h"
#include "layers/merge/merge.h"
#include "support/assertions.h"
#include "support/files.h"
#include "train/model.h"

namespace minidl::testing {
namespace {

#define MINIDL_REQUIRE_GRAPHVIZ() \
  if (!plot_model_available()) GTEST_SKIP() << "minidl was built without Graphviz (libgraphviz-dev)"

using Edge = std::pair<std::string, std::string>;

// What Graphviz's SVG says: the <title> of each node, edge ("a&#45;&gt;b") and cluster group.
struct SvgGraph {
  std::multiset<std::string> nodes, clusters;
  std::multiset<Edge> edges;
};

SvgGraph parse_svg(const std::string& svg) {
  SvgGraph g;
  const std::regex group(R"re(class="(node|edge|cluster)">\s*<title>([^<]*)</title>)re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), group); it != std::sregex_iterator(); ++it) {
    const std::string kind = (*it)[1], title = (*it)[2];
    if (kind == "node") g.nodes.insert(title);
    if (kind == "cluster") g.clusters.insert(title);
    if (kind == "edge") {
      const size_t arrow = title.find("&#45;&gt;");
      EXPECT_NE(arrow, std::string::npos) << title;
      g.edges.insert({title.substr(0, arrow), title.substr(arrow + 9)});
    }
  }
  return g;
}

SvgGraph plot_svg(const LayerPtr& model, const PlotModelOptions& options = {}) {
  const std::string path = (temp_dir() / "model.svg").string();
  plot_model(model, path, options);
  const std::string svg = read_file(path);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  return parse_svg(svg);
}

Sequential three_dense() {
  return Sequential({Dense(4, {.input_shape = Shape{3}, .name = "a"}), Dense(2, {.activation = "relu", .name = "b"}),
                     Dense(1, {.name = "c"})});
}

// in1, in2 -> shared Dense (two calls) -> Concatenate of both calls -> Dense.
Model shared_layer_model() {
  auto in1 = Input({4}, {.name = "in1"});
  auto in2 = Input({4}, {.name = "in2"});
  auto shared = Dense(3, {.name = "shared"});
  auto joined = Concatenate({.name = "joined"})({shared(in1), shared(in2)});
  return Model({in1, in2}, {Dense(1, {.name = "out"})(joined)});
}

// x -> pre -> inner (x' -> inner_a -> inner_b) -> post.
Model nested_model() {
  auto inner_in = Input({3}, {.name = "inner_input"});
  Model inner(inner_in, Dense(3, {.name = "inner_b"})(Dense(5, {.name = "inner_a"})(inner_in)), "inner");
  auto x = Input({3}, {.name = "x"});
  return Model(x, Dense(2, {.name = "post"})(inner(Dense(3, {.name = "pre"})(x))), "outer");
}

TEST(PlotModel, SequentialHasABoxPerLayerAndAnEdgeBetweenNeighbours) {
  MINIDL_REQUIRE_GRAPHVIZ();
  const SvgGraph g = plot_svg(three_dense());
  EXPECT_EQ(g.nodes, (std::multiset<std::string>{"a", "b", "c"}));  // no InputLayer box, as Keras
  EXPECT_EQ(g.edges, (std::multiset<Edge>{{"a", "b"}, {"b", "c"}}));
  EXPECT_TRUE(g.clusters.empty());
}

TEST(PlotModel, SharedLayerIsOneBoxWithAnEdgeFromEachCaller) {
  MINIDL_REQUIRE_GRAPHVIZ();
  const SvgGraph g = plot_svg(shared_layer_model());
  EXPECT_EQ(g.nodes, (std::multiset<std::string>{"in1", "in2", "shared", "joined", "out"}));
  // Both inputs of `joined` come from `shared`: Keras draws that edge once.
  EXPECT_EQ(g.edges, (std::multiset<Edge>{{"in1", "shared"}, {"in2", "shared"}, {"shared", "joined"}, {"joined", "out"}}));
}

TEST(PlotModel, NestedModelIsOneBoxUnlessExpanded) {
  MINIDL_REQUIRE_GRAPHVIZ();
  const SvgGraph flat = plot_svg(nested_model());
  EXPECT_EQ(flat.nodes, (std::multiset<std::string>{"x", "pre", "inner", "post"}));
  EXPECT_EQ(flat.edges, (std::multiset<Edge>{{"x", "pre"}, {"pre", "inner"}, {"inner", "post"}}));
  EXPECT_TRUE(flat.clusters.empty());
}

TEST(PlotModel, ExpandNestedDrawsTheInnerModelAsAClusterWiredToItsLayers) {
  MINIDL_REQUIRE_GRAPHVIZ();
  const SvgGraph g = plot_svg(nested_model(), {.expand_nested = true});
  EXPECT_EQ(g.clusters, (std::multiset<std::string>{"cluster_inner"}));
  EXPECT_EQ(g.nodes, (std::multiset<std::string>{"x", "pre", "inner_input", "inner_a", "inner_b", "post"}));
  EXPECT_EQ(g.edges, (std::multiset<Edge>{{"x", "pre"},
                                          {"pre", "inner_input"},
                                          {"inner_input", "inner_a"},
                                          {"inner_a", "inner_b"},
                                          {"inner_b", "post"}}));
}

TEST(PlotModel, ExpandedNestedSequentialIsEnteredAtItsFirstLayer) {
  MINIDL_REQUIRE_GRAPHVIZ();
  Sequential inner({Dense(4, {.input_shape = Shape{3}, .name = "s1"}), Dense(3, {.name = "s2"})}, "stack");
  auto x = Input({3}, {.name = "x"});
  Model outer(x, Dense(1, {.name = "head"})(inner(x)));
  const SvgGraph g = plot_svg(outer, {.expand_nested = true});
  EXPECT_EQ(g.clusters, (std::multiset<std::string>{"cluster_stack"}));
  EXPECT_EQ(g.nodes, (std::multiset<std::string>{"x", "s1", "s2", "head"}));
  EXPECT_EQ(g.edges, (std::multiset<Edge>{{"x", "s1"}, {"s1", "s2"}, {"s2", "head"}}));
}

TEST(PlotModel, DotFileHasTheSameBoxesAndEdges) {
  MINIDL_REQUIRE_GRAPHVIZ();
  const std::string path = (temp_dir() / "model.dot").string();
  plot_model(shared_layer_model(), path);
  const std::string dot = read_file(path);
  EXPECT_EQ(dot.rfind("digraph", 0), 0u) << dot.substr(0, 100);
  std::multiset<Edge> edges;
  const std::regex edge(R"(\n\s*(\w+)\s*->\s*(\w+))");
  for (auto it = std::sregex_iterator(dot.begin(), dot.end(), edge); it != std::sregex_iterator(); ++it)
    edges.insert({(*it)[1], (*it)[2]});
  EXPECT_EQ(edges, (std::multiset<Edge>{{"in1", "shared"}, {"in2", "shared"}, {"shared", "joined"}, {"joined", "out"}}));
  std::multiset<std::string> nodes;
  const std::regex node(R"(\n\s*(\w+)\s*\[)");
  for (auto it = std::sregex_iterator(dot.begin(), dot.end(), node); it != std::sregex_iterator(); ++it)
    if ((*it)[1] != "graph" && (*it)[1] != "node" && (*it)[1] != "edge") nodes.insert((*it)[1]);
  EXPECT_EQ(nodes, (std::multiset<std::string>{"in1", "in2", "shared", "joined", "out"}));
  EXPECT_NE(dot.find("pos="), std::string::npos) << "a .dot file holds the laid-out graph";
}

TEST(PlotModel, ModelToDotCarriesKerasGraphAttributesAndLabels) {
  MINIDL_REQUIRE_GRAPHVIZ();
  const std::string dot = model_to_dot(three_dense(), {.show_shapes = true,
                                                        .show_dtype = true,
                                                        .show_layer_names = true,
                                                        .rankdir = "LR",
                                                        .show_layer_activations = true,
                                                        .show_trainable = true});
  for (const char* expected : {"rankdir=LR", "concentrate=true", "dpi=200", "splines=ortho", "shape=record",
                               "penwidth=2", "<b>b</b> (Dense)", "Activation: <b>relu</b>",
                               "Input shape: <b>(None, 4)</b>", "Output shape: <b>(None, 2)</b>",
                               "Output dtype: <b>float32</b>", "<b>Trainable</b>", "colspan=\"4\""})
    EXPECT_NE(dot.find(expected), std::string::npos) << expected << "\n" << dot;
}

TEST(PlotModel, DefaultLabelIsTheClassNameOnly) {
  MINIDL_REQUIRE_GRAPHVIZ();
  const std::string dot = model_to_dot(three_dense());
  EXPECT_NE(dot.find("<b>Dense</b>"), std::string::npos) << dot;
  EXPECT_EQ(dot.find("shape:"), std::string::npos) << dot;
  EXPECT_EQ(dot.find("(Dense)"), std::string::npos) << dot;
}

TEST(PlotModel, FrozenLayerIsMarkedNonTrainable) {
  MINIDL_REQUIRE_GRAPHVIZ();
  Sequential model = three_dense();
  model->get_layer("b")->set_trainable(false);
  const std::string dot = model_to_dot(model, {.show_trainable = true});
  EXPECT_NE(dot.find("<b>Non-trainable</b>"), std::string::npos) << dot;
  EXPECT_NE(dot.find("<b>Trainable</b>"), std::string::npos) << dot;
}

TEST(PlotModel, PngAndPdfFilesHaveTheirSignatures) {
  MINIDL_REQUIRE_GRAPHVIZ();
  const auto dir = temp_dir();
  ::testing::internal::CaptureStderr();  // Graphviz's warnings stay inside the library
  plot_model(shared_layer_model(), (dir / "model.png").string(), {.show_shapes = true});
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(read_file(dir / "model.png").substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  plot_model(shared_layer_model(), (dir / "model.pdf").string());
  EXPECT_EQ(read_file(dir / "model.pdf").substr(0, 5), "%PDF-");
}

TEST(PlotModel, UnsupportedSuffixIsAValueErrorNamingIt) {
  const std::string path = (temp_dir() / "model.jpg").string();
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { plot_model(three_dense(), path); }, {"'.jpg'"}));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(PlotModel, UnwritablePathIsAnIOErrorNamingIt) {
  MINIDL_REQUIRE_GRAPHVIZ();
  const std::string missing_folder = (temp_dir() / "no_such_folder" / "model.svg").string();
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { plot_model(three_dense(), missing_folder); }, {missing_folder}));
  const std::string directory = temp_dir().string();
  EXPECT_THROW(plot_model(three_dense(), directory + "/"), IOError);  // a folder, not a file
  std::filesystem::create_directories(temp_dir() / "taken.svg");
  EXPECT_THROW(plot_model(three_dense(), (temp_dir() / "taken.svg").string()), IOError);
}

TEST(PlotModel, UnbuiltModelIsKerasValueError) {
  Sequential empty({Dense(2)});  // no input shape: no graph yet
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { model_to_dot(empty); }, {"This model has not yet been built"}));
  EXPECT_THROW(model_to_dot(three_dense(), {.rankdir = "XY"}), ValueError);
}

}  // namespace
}  // namespace minidl::testing
