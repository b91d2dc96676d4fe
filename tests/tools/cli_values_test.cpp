// Bad command-line values: every numeric option of every subcommand refuses values
// out of its range with one usage-error line (status 2) naming the option, the value
// and the range; file arguments that are directories or missing are named as such;
// no error line is longer than 1,000 characters.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "io/keras_model.h"
#include "support/assertions.h"
#include "support/cli.h"

namespace minidl::testing {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxErrorLine = 1000;

// One "minidl: error: ..." line of at most kMaxErrorLine characters, nothing on stdout.
void expect_one_error_line(const CliResult& r, int status) {
  EXPECT_EQ(r.status, status) << describe(r);
  ASSERT_EQ(r.err_lines().size(), 1u) << describe(r);
  EXPECT_EQ(r.err_lines()[0].rfind("minidl: error: ", 0), 0u) << describe(r);
  EXPECT_LE(r.err_lines()[0].size(), kMaxErrorLine) << describe(r);
  EXPECT_EQ(r.out, "") << describe(r);
}

struct BadValue {
  std::vector<std::string> args;  // the whole command line
  std::string expected;           // what the error line must contain
};

// Each command fails with exit status `status` and one error line holding its text.
void expect_refused(const std::vector<BadValue>& cases, int status) {
  for (const BadValue& c : cases) {
    SCOPED_TRACE(c.expected);
    const CliResult r = run_cli(c.args);
    expect_one_error_line(r, status);
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << describe(r);
  }
}

const std::string kWhole = " must be a whole number from 1 to 2147483647, received ";
const std::string kPositive = " must be a finite number > 0, received ";

std::vector<std::string> fit_with(const std::string& option, const std::string& value) {
  std::vector<std::string> args = {"fit",   "m.h5", "--x",         "d.h5:x", "--y",    "d.h5:y",
                                   "--loss", "mse", "--optimizer", "sgd",    "--save", "o.h5"};
  if (option != "--lr") args.insert(args.end(), {"--lr", "0.1"});
  args.insert(args.end(), {option, value});
  return args;
}

std::vector<std::string> predict_with(const std::string& option, const std::string& value) {
  return {"predict", "m.h5", "--input", "d.h5:x", "--output", "o.h5:y", option, value};
}

std::vector<std::string> bench_with(const std::string& option, const std::string& value) {
  std::vector<std::string> args = {"bench", "conv2d"};
  for (const auto& [o, v] : std::vector<std::pair<std::string, std::string>>{
           {"--batch", "1"}, {"--input", "8,8,1"}, {"--filters", "2"}, {"--kernel", "3"}, {"--repeat", "1"}})
    if (o != option) args.insert(args.end(), {o, v});
  args.insert(args.end(), {option, value});
  return args;
}

TEST(CliValues, EveryNumericOptionRefusesBadValuesNamingOptionValueAndRange) {
  MINIDL_REQUIRE_CLI();
  const std::vector<BadValue> cases = {
      {fit_with("--lr", "nan"), "--lr" + kPositive + "'nan'"},
      {fit_with("--lr", "inf"), "--lr" + kPositive + "'inf'"},
      {fit_with("--lr", "-inf"), "--lr" + kPositive + "'-inf'"},
      {fit_with("--lr", "0"), "--lr" + kPositive + "'0'"},
      {fit_with("--lr", "-0.5"), "--lr" + kPositive + "'-0.5'"},
      {fit_with("--lr", "1e999"), "--lr" + kPositive + "'1e999'"},
      {fit_with("--lr", "0.1x"), "--lr" + kPositive + "'0.1x'"},
      {fit_with("--epochs", "0"), "--epochs" + kWhole + "'0'"},
      {fit_with("--epochs", "-3"), "--epochs" + kWhole + "'-3'"},
      {fit_with("--epochs", "1.5"), "--epochs" + kWhole + "'1.5'"},
      {fit_with("--epochs", "2147483648"), "--epochs" + kWhole + "'2147483648'"},
      {fit_with("--batch-size", "0"), "--batch-size" + kWhole + "'0'"},
      {fit_with("--batch-size", "18446744073709551616"), "--batch-size" + kWhole + "'18446744073709551616'"},
      {fit_with("-b", "1e3"), "--batch-size" + kWhole + "'1e3'"},
      {predict_with("--batch-size", "0"), "--batch-size" + kWhole + "'0'"},
      {predict_with("-b", "99999999999999999999"), "--batch-size" + kWhole + "'99999999999999999999'"},
      {predict_with("--batch-size", "0x10"), "--batch-size" + kWhole + "'0x10'"},
      {bench_with("--batch", "0"), "--batch" + kWhole + "'0'"},
      {bench_with("--filters", "18446744073709551616"), "--filters" + kWhole + "'18446744073709551616'"},
      {bench_with("--groups", "0"), "--groups" + kWhole + "'0'"},
      {bench_with("--repeat", "0"), "--repeat" + kWhole + "'0'"},
      {bench_with("--repeat", "nan"), "--repeat" + kWhole + "'nan'"},
      {bench_with("--threads", "0"), "--threads must be a whole number from 1 to 1024, received '0'"},
      {bench_with("--threads", "100000"), "--threads must be a whole number from 1 to 1024, received '100000'"},
      {bench_with("--input", "8,8,0"),
       "--input must be 3 whole numbers from 1 to 2147483647 separated by commas, received '8,8,0'"},
      {bench_with("--input", "8,8"),
       "--input must be 3 whole numbers from 1 to 2147483647 separated by commas, received '8,8'"},
      {bench_with("--kernel", "3,99999999999999999999"),
       "--kernel must be 1 or 2 whole numbers from 1 to 2147483647 separated by commas, received "
       "'3,99999999999999999999'"},
      {bench_with("--strides", "-1"),
       "--strides must be 1 or 2 whole numbers from 1 to 2147483647 separated by commas, received '-1'"},
      {bench_with("--dilation", "1,1,1"),
       "--dilation must be 1 or 2 whole numbers from 1 to 2147483647 separated by commas, received '1,1,1'"},
  };
  expect_refused(cases, 2);
}

TEST(CliValues, FitWithNanLearningRateWritesNothing) {
  MINIDL_REQUIRE_CLI();
  Sequential model = small_dense_model();
  const fs::path dir = temp_dir();
  save_model(*model.ptr(), (dir / "model.h5").string());
  write_h5(dir / "data.h5", {{"x", Tensor::ones({4, 3})}, {"y", Tensor::ones({4, 2})}});
  const auto fit = [&](const std::string& lr, const fs::path& out) {
    return run_cli({"fit", (dir / "model.h5").string(), "--x", (dir / "data.h5:x").string(), "--y",
                    (dir / "data.h5:y").string(), "--loss", "mse", "--optimizer", "sgd", "--lr", lr, "--save",
                    out.string()});
  };
  // The same command with a valid rate trains and saves: the refusal below is the rate's doing.
  const CliResult good = fit("0.01", dir / "good.h5");
  ASSERT_EQ(good.status, 0) << describe(good);
  ASSERT_TRUE(fs::exists(dir / "good.h5"));

  const CliResult r = fit("nan", dir / "trained.h5");
  expect_one_error_line(r, 2);
  EXPECT_NE(r.err.find("--lr must be a finite number > 0, received 'nan'"), std::string::npos) << describe(r);
  EXPECT_FALSE(fs::exists(dir / "trained.h5"));
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find("trained.h5"), std::string::npos) << entry.path();
}

TEST(CliValues, AHugeValueIsShortenedInTheErrorLine) {
  MINIDL_REQUIRE_CLI();
  const std::string huge(5000, '7');
  const CliResult r = run_cli(fit_with("--epochs", huge));
  expect_one_error_line(r, 2);
  EXPECT_NE(r.err.find("--epochs" + kWhole + "'7777"), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("(5000 characters)"), std::string::npos) << describe(r);
}

TEST(CliValues, AValueWithLineBreaksStaysOnOneLine) {
  MINIDL_REQUIRE_CLI();
  const CliResult r = run_cli(fit_with("--lr", "0.1\nminidl: error: forged"));
  expect_one_error_line(r, 2);
  EXPECT_NE(r.err.find("--lr" + kPositive), std::string::npos) << describe(r);
}

TEST(CliValues, AnyLongErrorLineIsCutToAThousandCharacters) {
  MINIDL_REQUIRE_CLI();
  // A path quoted whole by the extension check: the tool shortens the line, keeping both ends.
  const std::string name = std::string(3000, 'n') + ".onnx";
  const CliResult r = run_cli({"convert", "m.h5", "--output", name});
  expect_one_error_line(r, 2);
  EXPECT_NE(r.err.find("output 'nnnn"), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("[...]"), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("(run 'minidl --help' for usage)"), std::string::npos) << describe(r);
}

// File arguments: status 1 (a file problem, as for an unreadable model), one line
// naming the argument, the path and what is wrong.
using CliPaths = CliModelTest;  // the CLI, small_dense_model() and a scratch directory

TEST_F(CliPaths, ADirectoryGivenAsAFileIsNamedAsSuch) {
  const fs::path folder = dir / "folder.h5";
  fs::create_directories(folder);
  const std::string model_path = (dir / "model.h5").string();
  save_model(*model.ptr(), model_path);
  write_h5(dir / "data.h5", "x", Tensor::ones({2, 3}));
  const std::string data_x = (dir / "data.h5:x").string();
  const std::string f = folder.string();
  const std::vector<BadValue> cases = {
      {{"summary", f}, "MODEL '" + f + "' is a directory"},
      {{"inspect", f}, "FILE '" + f + "' is a directory"},
      {{"convert", f, "--output", (dir / "o.h5").string()}, "MODEL '" + f + "' is a directory"},
      {{"convert", model_path, "--output", f}, "--output '" + f + "' is a directory"},
      {{"summary", "--architecture", f, "--weights", model_path}, "--architecture '" + f + "' is a directory"},
      {{"predict", model_path, "--input", f + ":x", "--output", (dir / "o.h5:y").string()},
       "--input '" + f + "' is a directory"},
      {{"predict", model_path, "--input", data_x, "--output", f + ":y"}, "--output '" + f + "' is a directory"},
      {{"fit", model_path, "--x", f + ":x", "--y", data_x, "--loss", "mse", "--optimizer", "sgd", "--lr", "0.1",
        "--save", (dir / "o.h5").string()},
       "--x '" + f + "' is a directory"},
      {{"fit", model_path, "--x", data_x, "--y", data_x, "--loss", "mse", "--optimizer", "sgd", "--lr", "0.1",
        "--save", f},
       "--save '" + f + "' is a directory"},
  };
  expect_refused(cases, 1);
}

TEST_F(CliPaths, AMissingFileIsNamedAsSuch) {
  const std::string model_path = (dir / "model.h5").string();
  save_model(*model.ptr(), model_path);
  const std::string missing = (dir / "missing.h5").string();
  const std::vector<BadValue> cases = {
      {{"summary", missing}, "MODEL '" + missing + "' does not exist"},
      {{"inspect", missing}, "FILE '" + missing + "' does not exist"},
      {{"summary", "--architecture", (dir / "arch.json").string(), "--weights", model_path},
       "--architecture '" + (dir / "arch.json").string() + "' does not exist"},
      {{"predict", model_path, "--input", missing + ":x", "--output", (dir / "o.h5:y").string()},
       "--input '" + missing + "' does not exist"},
      {{"fit", model_path, "--x", missing + ":x", "--y", missing + ":y", "--loss", "mse", "--optimizer", "sgd",
        "--lr", "0.1", "--save", (dir / "o.h5").string()},
       "--x '" + missing + "' does not exist"},
      {{"convert", model_path, "--output", (dir / "no_folder" / "o.h5").string()},
       "the folder '" + (dir / "no_folder").string() + "' does not exist"},
  };
  expect_refused(cases, 1);
  EXPECT_FALSE(fs::exists(dir / "o.h5"));
}

}  // namespace
}  // namespace minidl::testing
