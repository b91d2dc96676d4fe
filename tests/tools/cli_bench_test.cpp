// `minidl bench conv2d` prints one parseable JSON object per shape, with positive
// timings and the shapes the options describe. (No timing is asserted.)
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>

#include "support/cli.h"


namespace minidl::testing {
namespace {

using json = nlohmann::json;

json single_json_line(const CliResult& r) {
  std::istringstream in(r.out);
  std::string line, extra;
  std::getline(in, line);
  EXPECT_FALSE(std::getline(in, extra)) << "more than one line:\n" << r.out;
  return json::parse(line);
}

void expect_positive_numbers(const json& j) {
  for (const char* key : {"fwd_ms", "bwd_ms", "fwd_gflops", "bwd_gflops"}) {
    ASSERT_TRUE(j.contains(key) && j[key].is_number()) << key << " in " << j.dump();
    EXPECT_GT(j[key].get<double>(), 0) << key;
  }
}

TEST(CliBench, Conv2dPrintsParseableJsonWithPositiveNumbers) {
  MINIDL_REQUIRE_CLI();
  const CliResult r = run_cli({"bench", "conv2d", "--batch", "2", "--input", "6,6,3", "--filters", "4", "--kernel",
                               "3,3", "--threads", "1", "--repeat", "1"});
  ASSERT_EQ(r.status, 0) << describe(r);
  const json j = single_json_line(r);
  expect_positive_numbers(j);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["shape"]["output"], json::array({4, 4, 4}));  // valid: 6 - 3 + 1
  EXPECT_EQ(j["shape"]["input"], json::array({6, 6, 3}));
}

TEST(CliBench, Conv2dOptionsReachTheLayer) {
  MINIDL_REQUIRE_CLI();
  const CliResult r = run_cli({"bench", "conv2d", "--batch", "1", "--input", "7,5,4", "--filters", "6", "--kernel",
                               "3", "--strides", "2", "--padding", "same", "--groups", "2", "--data-format",
                               "channels_first", "--repeat", "1"});
  ASSERT_EQ(r.status, 0) << describe(r);
  const json j = single_json_line(r);
  expect_positive_numbers(j);
  EXPECT_EQ(j["shape"]["output"], json::array({4, 3, 6}));  // same, stride 2: ceil(7/2), ceil(5/2)
  EXPECT_EQ(j["shape"]["groups"], 2);
  EXPECT_EQ(j["shape"]["data_format"], "channels_first");
}

TEST(CliBench, Conv2dLayerErrorsFailWithOneLine) {
  MINIDL_REQUIRE_CLI();
  // 4 filters cannot be split into 3 groups: the layer's ValueError.
  const CliResult r = run_cli({"bench", "conv2d", "--batch", "1", "--input", "6,6,3", "--filters", "4", "--kernel",
                               "3", "--groups", "3", "--repeat", "1"});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_EQ(r.err_lines().size(), 1u) << describe(r);
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace minidl::testing
