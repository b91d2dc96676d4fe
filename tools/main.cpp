// minidl — command-line access to Keras model files and the library's kernels.
//
//   minidl summary MODEL
//   minidl inspect FILE
//   minidl predict MODEL --input FILE.h5:DATASET --output FILE.h5:DATASET [--batch-size N]
//   minidl convert MODEL --output OUT.h5|OUT.keras|OUT.weights.h5
//   minidl fit MODEL --x F.h5:D --y F.h5:D --loss NAME --optimizer NAME --lr F
//              [--epochs N] [--batch-size N] [--no-shuffle] [--verbose] --save OUT.h5
//   minidl bench conv2d (--all | --batch N --input H,W,C --filters F --kernel KH,KW ...)
//
// MODEL is a full-model file (.h5 or .keras), or `--architecture ARCH.json
// --weights WEIGHTS.h5`. Exit status: 0 success, 2 usage error, 1 any other
// error, reported as one line "minidl: error: ..." on stderr.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "tools/commands.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Messages from deep inside (HDF5 error stacks, JSON parse errors) may span lines;
// the tool promises one.
std::string one_line(std::string message) {
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  while (!message.empty() && message.back() == ' ') message.pop_back();
  return message;
}

int report(const std::string& message, int status) {
  std::cerr << "minidl: error: " << one_line(message) << std::endl;
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace minidl::cli;
  CLI::App app{"minidl: Keras model files and kernel benchmarks from the command line", "minidl"};
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();  // --help shows every default
  const std::vector<Command> commands = {add_summary_command(app), add_inspect_command(app),
                                         add_predict_command(app), add_convert_command(app),
                                         add_fit_command(app),     add_bench_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return report(std::string(e.what()) + " (run 'minidl --help' for usage)", kExitUsage);
  }
  try {
    for (const Command& c : commands)
      if (c.app->parsed()) c.run();
  } catch (const UsageError& e) {
    return report(std::string(e.what()) + " (run 'minidl --help' for usage)", kExitUsage);
  } catch (const std::exception& e) {
    return report(e.what(), kExitFailure);
  }
  return 0;
}
