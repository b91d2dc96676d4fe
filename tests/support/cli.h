// tests/support/cli.h — running the `minidl` binary from tests.
//
// The binary's path comes from the MINIDL_CLI_PATH compile definition
// (tests/CMakeLists.txt); tests call MINIDL_REQUIRE_CLI() and skip without it.
// run_cli() runs it through the shell with stdout and stderr sent to files in the
// test's scratch directory, and returns both with the exit status.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "io/hdf5.h"
#include "layers/core/dense.h"
#include "support/files.h"
#include "train/model.h"

namespace minidl::testing {

#ifdef MINIDL_CLI_PATH
inline const char* cli_path() { return MINIDL_CLI_PATH; }
#else
inline const char* cli_path() { return nullptr; }
#endif

struct CliResult {
  int status = -1;  // exit status; -1 when the process did not exit normally
  std::string out, err;
  // The lines of stderr (without the final newline's empty line).
  std::vector<std::string> err_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'')
      q.append("'\\''");
    else
      q.push_back(c);
  }
  q.push_back('\'');
  return q;
}

inline CliResult run_cli(const std::vector<std::string>& args) {
  const auto dir = temp_dir();
  const auto out = dir / "cli_stdout.txt", err = dir / "cli_stderr.txt";
  std::string cmd = shell_quote(cli_path());
  for (const auto& a : args) cmd.append(" ").append(shell_quote(a));
  cmd.append(" >").append(shell_quote(out.string()));
  cmd.append(" 2>").append(shell_quote(err.string()));
  cmd.append(" </dev/null");
  const int raw = std::system(cmd.c_str());
  CliResult r;
  r.status = (raw != -1 && WIFEXITED(raw)) ? WEXITSTATUS(raw) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

// For gtest messages: the whole result.
inline std::string describe(const CliResult& r) {
  return "exit " + std::to_string(r.status) + "\n--- stdout:\n" + r.out + "--- stderr:\n" + r.err;
}

// A small trained-looking model: Dense(4, relu) on 3 inputs, then Dense(2), named layers.
inline Sequential small_dense_model() {
  Sequential model({Dense(4, {.activation = "relu", .input_shape = Shape{3}, .name = "hidden"}),
                    Dense(2, {.name = "out"})});
  // Non-zero biases, so a wrongly loaded bias shows.
  model->get_layer("hidden")->set_weights({Tensor::uniform({3, 4}, -1.f, 1.f), Tensor::uniform({4}, -0.5f, 0.5f)});
  model->get_layer("out")->set_weights({Tensor::uniform({4, 2}, -1.f, 1.f), Tensor::uniform({2}, -0.5f, 0.5f)});
  return model;
}

// Writes one dataset into a new HDF5 file.
inline void write_h5(const std::filesystem::path& file, const std::string& dataset, const Tensor& value,
                     h5::DType stored = h5::DType::kFloat32) {
  h5::H5File f = h5::H5File::create(file.string());
  f.root().write_tensor(dataset, value, stored);
  f.close();
}

// Writes these (name, value) datasets into a new HDF5 file.
inline void write_h5(const std::filesystem::path& file, const std::vector<std::pair<std::string, Tensor>>& datasets) {
  h5::H5File f = h5::H5File::create(file.string());
  for (const auto& [name, value] : datasets) f.root().write_tensor(name, value);
  f.close();
}

inline Tensor read_h5(const std::filesystem::path& file, const std::string& dataset) {
  return h5::H5File::open_read(file.string()).root().open_dataset(dataset).read_tensor();
}

}  // namespace minidl::testing

#define MINIDL_REQUIRE_CLI()                                                                     \
  do {                                                                                           \
    if (::minidl::testing::cli_path() == nullptr)                                                \
      GTEST_SKIP() << "MINIDL_CLI_PATH not defined: the minidl tool is not built (CLI11 missing?)"; \
  } while (0)

namespace minidl::testing {

// The fixture of CLI tests on small_dense_model(): skipped when the CLI is not
// built; `dir` is the test's scratch directory (temp_dir()).
class CliModelTest : public ::testing::Test {
 protected:
  void SetUp() override { MINIDL_REQUIRE_CLI(); }

  Sequential model = small_dense_model();
  const std::filesystem::path dir = temp_dir();
};

}  // namespace minidl::testing
