// The conformance cases of ../shared/conformance through the full loader: load_model on
// model.h5 (both tf2.4 and keras2.3.1 flavors), predict case.h5's x, compare with
// expected_output at the README's tolerance (1e-6 + 1e-4 * max(1, max|expected|)).
// Also: the training_config compiles, weights.h5 loads into the model, and the model
// survives a save / load round trip unchanged.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "support/keras_files.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> case_dirs() {
  std::vector<fs::path> dirs;
  const fs::path root = testing::shared_dir() / "conformance";
  if (!fs::is_directory(root)) return dirs;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && fs::exists(e.path() / "case.h5")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

TEST(KerasConformance, EveryModelLoadsAndPredictsExpectedOutput) {
  MINIDL_REQUIRE_SHARED();
  const auto dirs = case_dirs();
  if (dirs.empty()) GTEST_SKIP() << "no conformance cases";
  int passed = 0;
  double worst = 0;
  for (const auto& dir : dirs) {
    const std::string id = dir.filename().string();
    try {
      auto model = load_model((dir / "model.h5").string());
      const h5::H5File c = h5::H5File::open_read((dir / "case.h5").string());
      const Tensor x = c.root().open_dataset("x").read_tensor();
      const Tensor expected = c.root().open_dataset("expected_output").read_tensor();
      const Tensor y = model->predict(x);
      worst = std::max(worst, testing::max_rel_error(y, expected));
      const auto close = testing::AllClose(y, expected, 1e-6, 1e-4);
      EXPECT_TRUE(close) << id;
      const bool has_tc = h5::H5File::open_read((dir / "model.h5").string()).root().has_attr("training_config");
      EXPECT_EQ(model->compiled(), has_tc) << id;
      if (close) ++passed;
    } catch (const std::exception& e) {
      ADD_FAILURE() << id << ": " << e.what();
    }
  }
  std::cout << "[conformance] " << passed << " of " << dirs.size()
            << " models predict expected_output; max relative error " << worst << "\n";
  EXPECT_EQ(passed, static_cast<int>(dirs.size()));
}

TEST(KerasConformance, InitialWeightsFileLoadsIntoTheModel) {
  MINIDL_REQUIRE_SHARED();
  for (const auto& dir : case_dirs()) {
    auto model = load_model((dir / "model.h5").string());
    auto fresh = load_model((dir / "model.h5").string());
    for (const auto& v : fresh->weights()) Variable(v).mutable_value().fill(0.5f);
    fresh->load_weights((dir / "weights.h5").string());
    EXPECT_TRUE(testing::SameWeights(*model, *fresh)) << dir.filename();
  }
}

TEST(KerasConformance, SaveAndReloadKeepsConfigWeightsAndOutputs) {
  MINIDL_REQUIRE_SHARED();
  const fs::path tmp = testing::temp_dir();
  for (const auto& dir : case_dirs()) {
    auto model = load_model((dir / "model.h5").string());
    for (const std::string ext : {".h5", ".keras"}) {
      const std::string out = (tmp / (dir.filename().string() + ext)).string();
      model->save(out);
      auto again = load_model(out);
      const json want = ext == ".keras" ? testing::without_layer_input_shapes(model->get_config()) : model->get_config();
      EXPECT_EQ(again->get_config(), want) << dir.filename() << ext;
      EXPECT_TRUE(testing::SameWeights(*model, *again)) << dir.filename() << ext;
      EXPECT_EQ(again->compiled(), model->compiled()) << dir.filename() << ext;
    }
  }
}

}  // namespace
}  // namespace minidl
