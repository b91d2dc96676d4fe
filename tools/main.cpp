// tools/main.cpp — the `minidl` program: command-line access to Keras model files and the library's kernels.
//
//   minidl summary MODEL
//   minidl inspect FILE
//   minidl predict MODEL --input FILE.h5:DATASET --output FILE.h5:DATASET [--batch-size N]
//   minidl convert MODEL --output OUT.h5|OUT.keras|OUT.weights.h5
//   minidl fit MODEL --x F.h5:D --y F.h5:D --loss NAME --optimizer NAME --lr F
//              [--epochs N] [--batch-size N] [--no-shuffle] [--verbose] --save OUT.h5
//   minidl bench conv2d (--all | --batch N --input H,W,C --filters F --kernel KH,KW ...)
//   minidl plot MODEL --output OUT.svg|OUT.png|OUT.pdf|OUT.dot [--show-shapes] [--show-dtype]
//              [--show-layer-names] [--rankdir TB|LR] [--expand-nested] [--show-layer-activations]
//              [--show-trainable] [--dpi N]
//   minidl plot-history HISTORY.csv --output OUT.png|OUT.svg
//
// MODEL is a full-model file (.h5 or .keras), or `--architecture ARCH.json
// --weights WEIGHTS.h5`. Exit status: 0 success, 2 usage error, 1 any other
// error, reported as one line "minidl: error: ..." on stderr.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "tools/commands.h"
#include "train/distributed.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Messages from deep inside (HDF5 error stacks, JSON parse errors) may span lines,
// and quoted arguments may hold any control character; the tool promises one line.
std::string one_line(std::string message) {
  for (char& c : message)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  while (!message.empty() && message.back() == ' ') message.pop_back();
  return message;
}

// The line stays readable whatever a message quotes (a huge argument, a long HDF5
// error stack): the middle of a longer one is elided, keeping where it starts and
// how it ends.
constexpr size_t kMaxLine = 1000;
constexpr std::string_view kPrefix = "minidl: error: ";

std::string shorten(std::string message, size_t max_size) {
  if (message.size() <= max_size) return message;
  const std::string gap = " [...] ";
  // Cut only at the start of a UTF-8 sequence.
  const auto inside_sequence = [&](size_t i) { return (static_cast<unsigned char>(message[i]) & 0xC0) == 0x80; };
  const size_t tail_size = (max_size - gap.size()) / 4;
  size_t head_end = max_size - gap.size() - tail_size;
  while (head_end > 0 && inside_sequence(head_end)) --head_end;
  size_t tail_start = message.size() - tail_size;
  while (tail_start < message.size() && inside_sequence(tail_start)) ++tail_start;
  return message.substr(0, head_end) + gap + message.substr(tail_start);
}

int report(const std::string& message, int status) {
  std::cerr << kPrefix << shorten(one_line(message), kMaxLine - kPrefix.size()) << std::endl;
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace minidl::cli;
  // Under mpirun, `minidl fit` trains data-parallel (docs/DISTRIBUTED.md); otherwise a no-op.
  auto mpi = minidl::distributed::init(argc, argv);
  CLI::App app{"minidl: Keras model files and kernel benchmarks from the command line", "minidl"};
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();  // --help shows every default
  const std::vector<Command> commands = {add_summary_command(app), add_inspect_command(app),
                                         add_predict_command(app), add_convert_command(app),
                                         add_fit_command(app),     add_bench_command(app),
                                         add_plot_command(app),    add_plot_history_command(app)};
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
    // The other ranks would wait for this one in their next collective call.
    if (minidl::distributed::size() > 1) minidl::distributed::abort_job(e.what());
    return report(e.what(), kExitFailure);
  }
  return 0;
}
