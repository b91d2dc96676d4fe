// tools/cmd_convert.cpp — `minidl convert MODEL --output OUT`: re-saves a model in the layout OUT's name asks for.
#include <memory>
#include <string>

#include "tools/commands.h"

namespace minidl::cli {

namespace {
struct ConvertArgs {
  ModelSource source;
  std::string output;
};
}  // namespace

Command add_convert_command(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* sub = app.add_subcommand(
      "convert", "re-save a model: OUT.h5 / OUT.keras (full model) or OUT.weights.h5 (Keras 3 weights)");
  add_model_options(*sub, args->source);
  sub->add_option("-o,--output", args->output, "OUT.h5, OUT.keras or OUT.weights.h5")->required();
  return {sub, [args] {
            check_save_path(args->output);  // errors before the (slow) load
            check_output_file(args->output, "--output");
            save_by_extension(*load_model_source(args->source), args->output);
          }};
}

}  // namespace minidl::cli
