// tools/commands.h — the subcommands of the `minidl` tool and what they share.
//
// Each cmd_*.cpp registers one subcommand on the CLI11 app and returns a
// Command: the subcommand's CLI11 App (to see whether it was chosen) and the
// action main() runs after parsing succeeded. Options are bound to state the
// action owns, so parsing and running stay separate.
//
// Exit statuses (main.cpp): 0 success; 2 usage error (a CLI11 parse or
// validation error, or a UsageError thrown by an action); 1 any other error,
// reported as one line "minidl: error: ..." on stderr.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "train/model.h"

namespace minidl::cli {

// A usage error found after CLI11 parsing (e.g. a bad FILE:DATASET argument or a
// missing MODEL): main() reports it and exits with status 2.
class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A registered subcommand.
struct Command {
  CLI::App* app = nullptr;    // the subcommand; app->parsed() after parsing says it was chosen
  std::function<void()> run;  // throws UsageError, or any exception for a failure
};

// Registration functions, one per subcommand (cmd_<name>.cpp).
Command add_summary_command(CLI::App& app);
Command add_inspect_command(CLI::App& app);
Command add_predict_command(CLI::App& app);
Command add_convert_command(CLI::App& app);
Command add_fit_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_plot_command(CLI::App& app);
Command add_plot_history_command(CLI::App& app);

// Where a model comes from: a full-model file (.h5 or .keras), or a Keras
// to_json() architecture file plus a weights file (legacy .h5 or .weights.h5).
struct ModelSource {
  std::string path;
  std::string architecture;
  std::string weights;
};

// Adds the MODEL positional and --architecture / --weights options to `sub`.
void add_model_options(CLI::App& sub, ModelSource& source);

// Loads the model `source` names. UsageError unless exactly one of MODEL and the
// (--architecture, --weights) pair is given; IOError from check_input_file for each
// path; IOError / ValueError from io/keras_model.h.
std::shared_ptr<ModelImpl> load_model_source(const ModelSource& source);

// Saves by file name: save_weights(keras3 = true) for "*.weights.h5", save_model for
// "*.h5" and "*.keras". UsageError for any other name; IOError from the writers.
void save_by_extension(const ModelImpl& model, const std::string& path);

// UsageError unless `path` ends with one of the extensions save_by_extension takes.
void check_save_path(const std::string& path);

// Checks a file argument before any slow work, naming the argument ("MODEL", "--x")
// and the path: IOError "ARG 'PATH' does not exist" or "ARG 'PATH' is a directory,
// not a file". Other problems (permissions, contents) are left to the reader.
void check_input_file(const std::string& path, const std::string& argument);

// IOError when `path` is an existing directory or its folder does not exist.
void check_output_file(const std::string& path, const std::string& argument);

}  // namespace minidl::cli
