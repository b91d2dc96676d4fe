// tools/cmd_plot_history.cpp — `minidl plot-history history.csv --output curves.png`: the training
// curves of a CSVLogger file (io/plot_history.h), as PNG or SVG by the output's suffix.
#include <filesystem>
#include <memory>
#include <string>

#include "io/plot_history.h"
#include "tools/commands.h"

namespace minidl::cli {

namespace {
struct PlotHistoryArgs {
  std::string csv;
  std::string output;
  PlotHistoryOptions options;
};
}  // namespace

Command add_plot_history_command(CLI::App& app) {
  auto args = std::make_shared<PlotHistoryArgs>();
  CLI::App* sub =
      app.add_subcommand("plot-history", "draw loss and metrics per epoch from a CSVLogger file with PLplot");
  sub->add_option("HISTORY", args->csv, "the CSV file CSVLogger wrote")->required();
  sub->add_option("-o,--output", args->output, "OUT.png or OUT.svg")->required();
  sub->add_option("--separator", args->options.separator, "the CSVLogger separator");
  sub->add_option("--panel-width", args->options.panel_width, "pixels per panel")->check(CLI::Range(64, 8192));
  sub->add_option("--panel-height", args->options.panel_height, "pixels per panel")->check(CLI::Range(64, 8192));
  return {sub, [args] {
            const std::string suffix = std::filesystem::path(args->output).extension().string();
            if (suffix != ".png" && suffix != ".svg")
              throw UsageError("--output '" + args->output + "': expected a name ending in .png or .svg");
            check_input_file(args->csv, "HISTORY");
            check_output_file(args->output, "--output");
            plot_history(args->csv, args->output, args->options);
          }};
}

}  // namespace minidl::cli
