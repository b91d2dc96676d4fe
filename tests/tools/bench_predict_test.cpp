// tests/tools/bench_predict_test.cpp — `minidl bench predict` on tiny saved models: one JSON line with every
// field, consistent numbers and the options it was given; clear one-line errors. (No timing is asserted.)
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>

#include "io/keras_model.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/pooling/global_pooling2d.h"
#include "support/cli.h"
#include "support/scoped_env.h"

namespace minidl::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

json only_json_line(const CliResult& r) {
  std::istringstream in(r.out);
  std::string line, extra;
  std::getline(in, line);
  EXPECT_FALSE(std::getline(in, extra)) << "more than one line:\n" << r.out;
  return json::parse(line);
}

void expect_positive(const json& j, const char* key) {
  ASSERT_TRUE(j.contains(key) && j[key].is_number()) << key << " in " << j.dump();
  EXPECT_GT(j[key].get<double>(), 0) << key << " in " << j.dump();
}

// A 4-D input model (Conv2D, global pooling) saved as .keras.
fs::path saved_conv_model(const fs::path& dir) {
  KerasTensor x = Input({6, 5, 2});
  KerasTensor y = GlobalAveragePooling2D()(Conv2D(3, {3, 3}, {.padding = "same"})(x));
  Model model(x, y);
  const fs::path path = dir / "conv.keras";
  save_model(*model.ptr(), path.string());
  return path;
}

class CliBenchPredict : public CliModelTest {};

TEST_F(CliBenchPredict, PrintsOneJsonLineWithEveryField) {
  const fs::path path = dir / "model.h5";
  save_model(*model.ptr(), path.string());
  testing::ScopedEnv coretype("OPENBLAS_CORETYPE", nullptr);
  const CliResult r = run_cli({"bench", "predict", path.string(), "--batch", "4", "--threads", "1", "--repeat", "3",
                               "--warmup-seconds", "0.01"});
  ASSERT_EQ(r.status, 0) << describe(r);
  const json j = only_json_line(r);
  EXPECT_EQ(j["model"], path.string());
  EXPECT_EQ(j["batch"], 4);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["repeat"], 3);
  for (const char* key : {"load_ms", "first_ms", "median_ms", "images_per_s"}) expect_positive(j, key);
  EXPECT_NEAR(j["images_per_s"].get<double>(), 4 / (j["median_ms"].get<double>() / 1000),
              1e-6 * j["images_per_s"].get<double>());
  ASSERT_TRUE(j.contains("cpu"));
  EXPECT_TRUE(j["cpu"].is_string() || j["cpu"].is_null()) << j.dump();
  ASSERT_TRUE(j.contains("openblas_coretype"));
  EXPECT_TRUE(j["openblas_coretype"].is_null()) << j.dump();
}

TEST_F(CliBenchPredict, ReportsOpenblasCoretypeAndTakesKerasZip) {
  testing::ScopedEnv coretype("OPENBLAS_CORETYPE", "Haswell");
  const fs::path path = saved_conv_model(dir);
  const CliResult r = run_cli({"bench", "predict", path.string(), "--batch", "2", "--threads", "2", "--repeat", "1",
                               "--warmup-seconds", "0.01"});
  ASSERT_EQ(r.status, 0) << describe(r);
  const json j = only_json_line(r);
  EXPECT_EQ(j["batch"], 2);
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["openblas_coretype"], "Haswell");
  expect_positive(j, "median_ms");
}

TEST_F(CliBenchPredict, UnknownInputDimensionIsAOneLineValueError) {
  KerasTensor x = Input({kNone, 3});
  Model ragged(x, Dense(2)(x));
  const fs::path path = dir / "ragged.h5";
  save_model(*ragged.ptr(), path.string());
  const CliResult r = run_cli({"bench", "predict", path.string(), "--repeat", "1"});
  EXPECT_EQ(r.status, 1) << describe(r);
  ASSERT_EQ(r.err_lines().size(), 1u) << describe(r);
  EXPECT_NE(r.err.find("unknown dimension"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path.string()), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(CliBenchPredict, MissingModelFileAndBadOptions) {
  const CliResult missing = run_cli({"bench", "predict", (dir / "nope.h5").string()});
  EXPECT_EQ(missing.status, 1) << describe(missing);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;

  const fs::path path = dir / "model.h5";
  save_model(*model.ptr(), path.string());
  const CliResult zero_batch = run_cli({"bench", "predict", path.string(), "--batch", "0"});
  EXPECT_EQ(zero_batch.status, 2) << describe(zero_batch);
  EXPECT_NE(zero_batch.err.find("--batch"), std::string::npos) << zero_batch.err;
  const CliResult no_model = run_cli({"bench", "predict"});
  EXPECT_EQ(no_model.status, 2) << describe(no_model);
  EXPECT_NE(no_model.err.find("missing MODEL"), std::string::npos) << no_model.err;
}

}  // namespace
}  // namespace minidl::testing
