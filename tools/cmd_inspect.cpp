// tools/cmd_inspect.cpp — `minidl inspect FILE`: what a Keras file holds (format, versions, layers, weights).
#include <iostream>
#include <memory>
#include <string>

#include "io/keras_model.h"
#include "tools/commands.h"

namespace minidl::cli {

Command add_inspect_command(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("inspect", "describe a Keras file (.h5, .weights.h5, .keras)");
  sub->add_option("FILE", *file, "the file to describe")->required();
  return {sub, [file] {
            check_input_file(*file, "FILE");
            std::string text = describe_keras_file(*file);
            if (!text.empty() && text.back() != '\n') text += '\n';
            std::cout << text << std::flush;
          }};
}

}  // namespace minidl::cli
