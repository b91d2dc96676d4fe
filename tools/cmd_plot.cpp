// tools/cmd_plot.cpp — `minidl plot MODEL --output model.svg`: the model's graph drawn by Graphviz
// (keras.utils.plot_model, io/plot_model.h), as SVG, PNG, PDF or DOT by the output's suffix.
#include <filesystem>
#include <memory>
#include <string>

#include "io/plot_model.h"
#include "tools/commands.h"

namespace minidl::cli {

namespace {
struct PlotArgs {
  ModelSource source;
  std::string output;
  PlotModelOptions options;
};
}  // namespace

Command add_plot_command(CLI::App& app) {
  auto args = std::make_shared<PlotArgs>();
  CLI::App* sub = app.add_subcommand("plot", "draw a model's graph (keras.utils.plot_model) with Graphviz");
  add_model_options(*sub, args->source);
  PlotModelOptions& o = args->options;
  sub->add_option("-o,--output", args->output, "OUT.svg, OUT.png, OUT.pdf or OUT.dot")->required();
  sub->add_flag("--show-shapes", o.show_shapes, "show each layer's input and output shapes");
  sub->add_flag("--show-dtype", o.show_dtype, "show each layer's output dtype");
  sub->add_flag("--show-layer-names", o.show_layer_names, "show each layer's name beside its class");
  sub->add_option("--rankdir", o.rankdir, "TB: top to bottom, LR: left to right")
      ->check(CLI::IsMember({"TB", "LR", "BT", "RL"}));
  sub->add_flag("--expand-nested", o.expand_nested, "draw nested models as clusters of their layers");
  sub->add_flag("--show-layer-activations", o.show_layer_activations, "show the activation of layers that have one");
  sub->add_flag("--show-trainable", o.show_trainable, "mark layers with weights as trainable or not");
  sub->add_option("--dpi", o.dpi, "image resolution in dots per inch")->check(CLI::Range(1, 10000));
  return {sub, [args] {
            const std::string suffix = std::filesystem::path(args->output).extension().string();
            if (suffix != ".svg" && suffix != ".png" && suffix != ".pdf" && suffix != ".dot")
              throw UsageError("--output '" + args->output + "': expected a name ending in .svg, .png, .pdf or .dot");
            check_output_file(args->output, "--output");  // errors before the (slow) load
            plot_model(load_model_source(args->source), args->output, args->options);
          }};
}

}  // namespace minidl::cli
