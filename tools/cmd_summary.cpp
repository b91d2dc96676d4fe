// tools/cmd_summary.cpp — `minidl summary MODEL`: the Keras summary table of a model file.
#include <iostream>
#include <memory>

#include "tools/commands.h"

namespace minidl::cli {

Command add_summary_command(CLI::App& app) {
  auto source = std::make_shared<ModelSource>();
  CLI::App* sub = app.add_subcommand("summary", "print the Keras summary table of a model");
  add_model_options(*sub, *source);
  return {sub, [source] { std::cout << load_model_source(*source)->summary() << std::flush; }};
}

}  // namespace minidl::cli
