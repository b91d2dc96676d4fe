// The minidl tool's exit statuses and error messages: 2 for usage errors, 1 with
// one "minidl: error: ..." line for every other failure, 0 for --help.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "support/cli.h"


namespace minidl::testing {
namespace {

// A usage error: status 2 and one error line on stderr.
void expect_usage_error(const CliResult& r) {
  EXPECT_EQ(r.status, 2) << describe(r);
  ASSERT_EQ(r.err_lines().size(), 1u) << describe(r);
  EXPECT_EQ(r.err_lines()[0].rfind("minidl: error: ", 0), 0u) << describe(r);
  EXPECT_EQ(r.out, "");
}

TEST(CliUsage, HelpPrintsTheSubcommandsAndExitsZero) {
  MINIDL_REQUIRE_CLI();
  const CliResult r = run_cli({"--help"});
  EXPECT_EQ(r.status, 0) << describe(r);
  for (const char* sub : {"summary", "inspect", "predict", "convert", "fit", "bench"})
    EXPECT_NE(r.out.find(sub), std::string::npos) << sub << "\n" << describe(r);
}

TEST(CliUsage, NoSubcommandIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  expect_usage_error(run_cli({}));
}

TEST(CliUsage, UnknownSubcommandIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  expect_usage_error(run_cli({"train-everything"}));
}

TEST(CliUsage, UnknownOptionIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  expect_usage_error(run_cli({"summary", "model.h5", "--colour"}));
}

TEST(CliUsage, SummaryWithoutAModelIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  const CliResult r = run_cli({"summary"});
  expect_usage_error(r);
  EXPECT_NE(r.err.find("MODEL"), std::string::npos) << describe(r);
}

TEST(CliUsage, ArchitectureWithoutWeightsIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  expect_usage_error(run_cli({"summary", "--architecture", "arch.json"}));
}

TEST(CliUsage, ModelAndArchitectureTogetherAreAUsageError) {
  MINIDL_REQUIRE_CLI();
  expect_usage_error(run_cli({"summary", "m.h5", "--architecture", "a.json", "--weights", "w.h5"}));
}

TEST(CliUsage, DatasetArgumentWithoutColonIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  const CliResult r = run_cli({"predict", "m.h5", "--input", "data.h5", "--output", "out.h5:y"});
  expect_usage_error(r);
  EXPECT_NE(r.err.find("data.h5"), std::string::npos) << describe(r);
}

TEST(CliUsage, DatasetArgumentWithEmptyDatasetIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  expect_usage_error(run_cli({"predict", "m.h5", "--input", "data.h5:x", "--output", "out.h5:"}));
}

TEST(CliUsage, DatasetArgumentWithEmptyFileIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  expect_usage_error(run_cli({"fit", "m.h5", "--x", ":x", "--y", "d.h5:y", "--loss", "mse", "--optimizer", "sgd",
                              "--lr", "0.1", "--save", "o.h5"}));
}

TEST(CliUsage, FitWithoutLossIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  expect_usage_error(
      run_cli({"fit", "m.h5", "--x", "d.h5:x", "--y", "d.h5:y", "--optimizer", "sgd", "--lr", "0.1", "--save", "o.h5"}));
}

TEST(CliUsage, NonPositiveBatchSizeIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  expect_usage_error(run_cli({"predict", "m.h5", "--input", "d.h5:x", "--output", "o.h5:y", "--batch-size", "0"}));
}

TEST(CliUsage, ConvertToAnUnknownExtensionIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  const CliResult r = run_cli({"convert", "m.h5", "--output", "model.onnx"});
  expect_usage_error(r);
  EXPECT_NE(r.err.find("model.onnx"), std::string::npos) << describe(r);
}

TEST(CliUsage, BenchWithoutAShapeIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  expect_usage_error(run_cli({"bench", "conv2d"}));
}

TEST(CliUsage, BenchWithTwoInputDimsIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  const CliResult r = run_cli({"bench", "conv2d", "--batch", "1", "--input", "8,8", "--filters", "2", "--kernel", "3"});
  expect_usage_error(r);
  EXPECT_NE(r.err.find("--input"), std::string::npos) << describe(r);
}

TEST(CliUsage, BenchAllWithAShapeOptionIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  expect_usage_error(run_cli({"bench", "conv2d", "--all", "--filters", "8"}));
}

TEST(CliUsage, BenchUnknownPaddingIsAUsageError) {
  MINIDL_REQUIRE_CLI();
  expect_usage_error(run_cli(
      {"bench", "conv2d", "--batch", "1", "--input", "8,8,1", "--filters", "2", "--kernel", "3", "--padding", "full"}));
}

TEST(CliErrors, MissingModelFileFailsWithOneLineNamingIt) {
  MINIDL_REQUIRE_CLI();
  const std::string missing = (temp_dir() / "no_such_model.h5").string();
  const CliResult r = run_cli({"summary", missing});
  EXPECT_EQ(r.status, 1) << describe(r);
  ASSERT_EQ(r.err_lines().size(), 1u) << describe(r);
  EXPECT_EQ(r.err_lines()[0].rfind("minidl: error: ", 0), 0u) << describe(r);
  EXPECT_NE(r.err.find("no_such_model.h5"), std::string::npos) << describe(r);
  EXPECT_EQ(r.out, "");
}

TEST(CliErrors, InspectOfANonHdf5FileFailsWithOneLine) {
  MINIDL_REQUIRE_CLI();
  const auto bad = temp_dir() / "not_hdf5.h5";
  {
    std::ofstream(bad) << "this is not an HDF5 file\n";
  }
  const CliResult r = run_cli({"inspect", bad.string()});
  EXPECT_EQ(r.status, 1) << describe(r);
  ASSERT_EQ(r.err_lines().size(), 1u) << describe(r);
  EXPECT_NE(r.err.find("not_hdf5.h5"), std::string::npos) << describe(r);
}

}  // namespace
}  // namespace minidl::testing
