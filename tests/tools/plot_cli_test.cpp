// tests/tools/plot_cli_test.cpp — `minidl plot` and `minidl plot-history`: the files they write
// and their usage and file errors.
#include <gtest/gtest.h>

#include <string>

#include "io/keras_model.h"
#include "io/plot_history.h"
#include "io/plot_model.h"
#include "support/cli.h"

namespace minidl::testing {
namespace {

namespace fs = std::filesystem;

using CliPlot = CliModelTest;
using CliPlotHistory = CliModelTest;

fs::path saved(Sequential& model, const fs::path& dir) {
  const fs::path path = dir / "model.h5";
  save_model(*model.ptr(), path.string());
  return path;
}

void expect_usage_error(const CliResult& r) {
  EXPECT_EQ(r.status, 2) << describe(r);
  EXPECT_EQ(r.err.rfind("minidl: error: ", 0), 0u) << describe(r);
}

TEST_F(CliPlot, WritesTheGraphWithTheOptionsAsked) {
  if (!plot_model_available()) GTEST_SKIP() << "minidl was built without Graphviz (libgraphviz-dev)";
  const fs::path out = dir / "model.dot";
  const CliResult r = run_cli({"plot", saved(model, dir).string(), "--output", out.string(), "--show-shapes",
                               "--show-layer-names", "--rankdir", "LR", "--dpi", "96"});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "");
  const std::string dot = read_file(out);
  for (const char* expected : {"hidden -> out", "rankdir=LR", "dpi=96", "<b>hidden</b> (Dense)",
                               "Output shape: <b>(None, 2)</b>"})
    EXPECT_NE(dot.find(expected), std::string::npos) << expected << "\n" << dot;

  const fs::path svg = dir / "model.svg";
  ASSERT_EQ(run_cli({"plot", saved(model, dir).string(), "-o", svg.string()}).status, 0);
  EXPECT_NE(read_file(svg).find("<svg"), std::string::npos);
}

TEST_F(CliPlot, BadArgumentsAreUsageErrorsAndBadFilesFailures) {
  const std::string model_path = saved(model, dir).string();
  expect_usage_error(run_cli({"plot", model_path, "--output", (dir / "model.jpg").string()}));
  expect_usage_error(run_cli({"plot", model_path, "--output", (dir / "m.svg").string(), "--rankdir", "XY"}));
  expect_usage_error(run_cli({"plot", model_path, "--output", (dir / "m.svg").string(), "--dpi", "0"}));
  expect_usage_error(run_cli({"plot", model_path}));  // --output is required
  const std::string missing_folder = (dir / "nowhere" / "m.svg").string();
  const CliResult r = run_cli({"plot", model_path, "--output", missing_folder});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_NE(r.err.find(missing_folder), std::string::npos) << describe(r);
  const CliResult no_model = run_cli({"plot", (dir / "absent.h5").string(), "--output", (dir / "m.svg").string()});
  EXPECT_EQ(no_model.status, 1) << describe(no_model);
  EXPECT_NE(no_model.err.find("absent.h5"), std::string::npos) << describe(no_model);
}

TEST_F(CliPlotHistory, DrawsACsvLoggerFile) {
  if (!plot_history_available()) GTEST_SKIP() << "minidl was built without PLplot (libplplot-dev)";
  const fs::path csv = dir / "log.csv";
  write_file(csv, "epoch,loss,val_loss\r\n0,0.9,1.0\r\n1,0.5,0.7\r\n2,0.4,0.6\r\n");
  const fs::path out = dir / "curves.png";
  const CliResult r = run_cli({"plot-history", csv.string(), "--output", out.string(), "--panel-width", "320",
                               "--panel-height", "240"});
  ASSERT_EQ(r.status, 0) << describe(r);
  const std::string png = read_file(out);
  ASSERT_GE(png.size(), 24u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(16, 8), std::string("\0\0\x01\x40\0\0\0\xf0", 8));  // IHDR: 320 x 240, one panel
}

TEST_F(CliPlotHistory, BadArgumentsAreUsageErrorsAndBadFilesFailures) {
  const fs::path csv = dir / "log.csv";
  write_file(csv, "epoch,loss\r\n0,0.9\r\n");
  expect_usage_error(run_cli({"plot-history", csv.string(), "--output", (dir / "c.pdf").string()}));
  expect_usage_error(run_cli({"plot-history", csv.string()}));
  const std::string missing = (dir / "missing.csv").string();
  const CliResult r = run_cli({"plot-history", missing, "--output", (dir / "c.png").string()});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_NE(r.err.find(missing), std::string::npos) << describe(r);
  write_file(dir / "garbage.csv", "not a log\r\n");
  const CliResult garbage = run_cli({"plot-history", (dir / "garbage.csv").string(), "-o", (dir / "c.png").string()});
  EXPECT_EQ(garbage.status, 1) << describe(garbage);
  EXPECT_NE(garbage.err.find("garbage.csv"), std::string::npos) << describe(garbage);
}

}  // namespace
}  // namespace minidl::testing
