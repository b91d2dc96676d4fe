// The Keras conformance cases (../shared/conformance/<id>/, see its README) run
// through the minidl tool, as a user would:
//   minidl predict model.h5 --input case.h5:x --output <tmp>.h5:y      vs case.h5:expected_output
//   minidl fit model.h5 --x case.h5:x --y case.h5:y --loss mse --optimizer sgd --lr <lr>
//              --epochs 1 --batch-size <batch_size> --no-shuffle --save out.h5
//                                                                    vs weights_after_step.h5
// Weights are matched by (layer name, weight name) through the files' layer_names and
// weight_names attributes. Tolerance (the README's): max abs error <= 1e-6 + 1e-4 * max(1, max|expected|).
// Each test prints one line per case and fails naming every failing case.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/assertions.h"
#include "support/cli.h"


namespace minidl::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using WeightKey = std::pair<std::string, std::string>;  // (layer, "kernel") — ":0" dropped

std::vector<fs::path> case_dirs() {
  std::vector<fs::path> dirs;
  const fs::path root = shared_dir() / "conformance";
  if (!fs::is_directory(root)) return dirs;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && fs::exists(e.path() / "case.h5") && fs::exists(e.path() / "model.h5"))
      dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

WeightKey weight_key(const std::string& layer, const std::string& weight_name) {
  std::string shortname = weight_name.substr(weight_name.rfind('/') + 1);
  if (const size_t colon = shortname.rfind(':'); colon != std::string::npos) shortname.resize(colon);
  return {layer, shortname};
}

// Every weight of a Keras weights group (the root of a save_weights file, or /model_weights).
std::map<WeightKey, Tensor> weights_by_key(const h5::Group& g) {
  std::map<WeightKey, Tensor> out;
  for (const std::string& layer : g.read_string_array_attr("layer_names")) {
    const h5::Group lg = g.open_group(layer);
    for (const std::string& wn : lg.read_string_array_attr("weight_names"))
      out[weight_key(layer, wn)] = lg.open_dataset(wn).read_tensor();
  }
  return out;
}

// "" on a match, else what differs.
std::string compare(const std::string& what, const Tensor& got, const Tensor& expected) {
  const auto r = AllClose(got, expected, 1e-6, 1e-4);
  return r ? "" : what + ": " + r.message();
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Runs every case through `check` (returns "" for pass), prints a per-case table and
// fails naming the failing cases.
void run_cases(const std::string& title, const std::function<std::string(const fs::path&, const h5::Group&)>& check) {
  const auto dirs = case_dirs();
  if (dirs.empty()) GTEST_SKIP() << "no conformance cases under " << shared_dir() / "conformance";
  int passed = 0, skipped = 0;
  std::vector<std::string> failures;
  for (const fs::path& dir : dirs) {
    const std::string id = dir.filename().string();
    std::string result;
    try {
      const h5::H5File case_file = h5::H5File::open_read((dir / "case.h5").string());
      result = check(dir, case_file.root());
    } catch (const std::exception& e) {
      result = std::string("test error: ") + e.what();
    }
    if (result == "skip") {
      ++skipped;
      std::cout << "[ cli " << title << " ] " << id << " skipped (no train step)\n";
    } else if (result.empty()) {
      ++passed;
      std::cout << "[ cli " << title << " ] " << id << " pass\n";
    } else {
      failures.push_back(id + ": " + result);
      std::cout << "[ cli " << title << " ] " << id << " FAIL " << result << "\n";
    }
  }
  std::cout << "[ cli " << title << " ] " << passed << " passed, " << failures.size() << " failed, " << skipped
            << " skipped" << std::endl;
  for (const auto& f : failures) ADD_FAILURE() << f;
}

TEST(CliConformance, PredictMatchesExpectedOutput) {
  MINIDL_REQUIRE_CLI();
  MINIDL_REQUIRE_SHARED();
  const fs::path tmp = temp_dir();
  run_cases("predict", [&](const fs::path& dir, const h5::Group& c) -> std::string {
    const fs::path out = tmp / (dir.filename().string() + "_pred.h5");
    fs::remove(out);
    const CliResult r = run_cli({"predict", (dir / "model.h5").string(), "--input", (dir / "case.h5").string() + ":x",
                                 "--output", out.string() + ":y"});
    if (r.status != 0) return "exit " + std::to_string(r.status) + ": " + first_line(r.err);
    return compare("expected_output", read_h5(out, "y"), c.open_dataset("expected_output").read_tensor());
  });
}

TEST(CliConformance, FitStepMatchesWeightsAfterStep) {
  MINIDL_REQUIRE_CLI();
  MINIDL_REQUIRE_SHARED();
  const fs::path tmp = temp_dir();
  run_cases("fit", [&](const fs::path& dir, const h5::Group& c) -> std::string {
    if (c.read_int_attr("has_train_step") == 0) return "skip";
    const fs::path out = tmp / (dir.filename().string() + "_trained.h5");
    const std::string case_h5 = (dir / "case.h5").string();
    // The float32 lr in its shortest decimal form, which parses back to the same float.
    const std::string lr = fmt::format("{}", static_cast<float>(c.read_double_attr("lr")));
    const CliResult r = run_cli({"fit", (dir / "model.h5").string(), "--x", case_h5 + ":x", "--y", case_h5 + ":y",
                                 "--loss", "mse", "--optimizer", "sgd", "--lr", lr, "--epochs", "1", "--batch-size",
                                 std::to_string(c.read_int_attr("batch_size")), "--no-shuffle", "--save",
                                 out.string()});
    if (r.status != 0) return "exit " + std::to_string(r.status) + ": " + first_line(r.err);

    const auto expected = weights_by_key(h5::H5File::open_read((dir / "weights_after_step.h5").string()).root());
    const auto got = weights_by_key(h5::H5File::open_read(out.string()).root().open_group("model_weights"));
    std::string errors;
    for (const std::string& name : json::parse(c.read_string_attr("weight_names")).get<std::vector<std::string>>()) {
      const WeightKey key = weight_key(name.substr(0, name.find('/')), name);
      const auto e = expected.find(key), g = got.find(key);
      std::string err;
      if (e == expected.end())
        err = name + ": not in weights_after_step.h5";
      else if (g == got.end())
        err = name + ": not in the saved model";
      else
        err = compare(name, g->second, e->second);
      if (!err.empty()) errors += (errors.empty() ? "" : "; ") + err;
    }
    return errors;
  });
}

}  // namespace
}  // namespace minidl::testing
