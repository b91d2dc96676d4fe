// tests/tools/conv2d_algorithm_cli_test.cpp — `minidl bench conv2d --algorithm A` and
// MINIDL_CONV_ALGORITHM (ops/conv2d_algorithm.h) in a fresh process: the JSON line
// names the algorithm used, the variable is read at the first convolution, and
// a bad value or a method that cannot compute the shape fails with one line
// naming it. (No timing is asserted.)
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "support/cli.h"

namespace minidl::testing {
namespace {

using json = nlohmann::json;

// Runs `minidl bench conv2d` on a small shape, with MINIDL_CONV_ALGORITHM set to
// `env` (or unset) for that process only, and the extra arguments.
CliResult bench(const std::optional<std::string>& env, const std::vector<std::string>& extra,
                const std::string& strides = "1") {
  std::optional<std::string> saved;
  if (const char* old = std::getenv("MINIDL_CONV_ALGORITHM")) saved = old;
  if (env)
    setenv("MINIDL_CONV_ALGORITHM", env->c_str(), 1);
  else
    unsetenv("MINIDL_CONV_ALGORITHM");
  std::vector<std::string> args = {"bench",     "conv2d",    "--batch",  "2",          "--input", "8,8,8",
                                   "--filters", "8",         "--kernel", "3",          "--strides", strides,
                                   "--threads", "1",         "--repeat", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  const CliResult r = run_cli(args);
  if (saved)
    setenv("MINIDL_CONV_ALGORITHM", saved->c_str(), 1);
  else
    unsetenv("MINIDL_CONV_ALGORITHM");
  return r;
}

std::string algorithm_of(const CliResult& r) { return json::parse(r.out).at("algorithm").get<std::string>(); }

TEST(Conv2DAlgorithmCli, BenchAlgorithmOptionIsReportedInTheJson) {
  MINIDL_REQUIRE_CLI();
  for (const char* name : {"auto", "im2col", "winograd", "direct", "reference"}) {
    if (std::string(name) == "direct") continue;  // 3x3x8 = 72 taps: direct cannot (below)
    const CliResult r = bench(std::nullopt, {"--algorithm", name});
    ASSERT_EQ(r.status, 0) << describe(r);
    EXPECT_EQ(algorithm_of(r), name);
  }
}

TEST(Conv2DAlgorithmCli, EnvironmentVariableChoosesAndTheOptionOverridesIt) {
  MINIDL_REQUIRE_CLI();
  CliResult r = bench("reference", {});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(algorithm_of(r), "reference");
  r = bench("reference", {"--algorithm", "im2col"});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(algorithm_of(r), "im2col");
  r = bench(std::nullopt, {});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(algorithm_of(r), "auto");
}

TEST(Conv2DAlgorithmCli, BadEnvironmentValueFailsNamingTheVariable) {
  MINIDL_REQUIRE_CLI();
  const CliResult r = bench("gemm", {});
  EXPECT_NE(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "");
  ASSERT_EQ(r.err_lines().size(), 1u) << describe(r);
  EXPECT_NE(r.err.find("MINIDL_CONV_ALGORITHM"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"gemm\""), std::string::npos) << r.err;
}

TEST(Conv2DAlgorithmCli, AMethodThatCannotComputeTheShapeFailsNamingIt) {
  MINIDL_REQUIRE_CLI();
  for (const auto& [name, strides] : {std::pair{"winograd", "2"}, std::pair{"direct", "1"}}) {
    const CliResult r = bench(std::nullopt, {"--algorithm", name}, strides);
    EXPECT_EQ(r.status, 1) << describe(r);
    ASSERT_EQ(r.err_lines().size(), 1u) << describe(r);
    EXPECT_NE(r.err.find("algorithm \"" + std::string(name) + "\" cannot compute"), std::string::npos) << r.err;
  }
  const CliResult r = bench(std::nullopt, {"--algorithm", "fastest"});
  EXPECT_NE(r.status, 0) << describe(r);
  EXPECT_NE(r.err.find("--algorithm"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace minidl::testing
