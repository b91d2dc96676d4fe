// tests/io/keras_apps_test.cpp — the keras.applications CNNs of ../shared/keras-apps (written by
// Keras 3.15.1; see its README.md): each model loads from its legacy .h5 and from its .keras, and
// predicts Keras's own output y for the input x of NAME.io.h5 within the README's pass rule
// (max|got - y| <= 1e-4 + 1e-3 * max|y|, the argmax of each row equal). A converted copy (minidl's
// own .h5 and .keras) predicts the same. Each test prints the error it measured.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "support/files.h"
#include "train/model.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;
using namespace testing;

fs::path apps_dir() { return shared_dir() / "keras-apps"; }

struct Expected {
  Tensor x, y;
};

Expected expected(const std::string& model) {
  auto root = h5::H5File::open_read((apps_dir() / (model + ".io.h5")).string()).root();
  return {root.open_dataset("x").read_tensor(), root.open_dataset("y").read_tensor()};
}

// Checks the README's pass rule for `got` against `y`; returns max|got - y|.
double check_pass_rule(const Tensor& got, const Tensor& y, const std::string& what) {
  EXPECT_EQ(got.shape(), y.shape()) << what;
  if (got.shape() != y.shape()) return INFINITY;
  const std::vector<float> g = got.to_vector(), e = y.to_vector();
  double err = 0, peak = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    err = std::max(err, std::abs(double(g[i]) - double(e[i])));
    peak = std::max(peak, std::abs(double(e[i])));
  }
  EXPECT_LE(err, 1e-4 + 1e-3 * peak) << what;
  const int64_t rows = y.shape()[0], cols = int64_t(e.size()) / rows;
  for (int64_t r = 0; r < rows; ++r) {
    const auto row_g = g.begin() + r * cols, row_e = e.begin() + r * cols;
    EXPECT_EQ(std::max_element(row_g, row_g + cols) - row_g, std::max_element(row_e, row_e + cols) - row_e)
        << what << ": row " << r;
  }
  std::cout << "[keras-apps] " << what << ": max abs error " << err << " (max |y| " << peak << ")\n";
  return err;
}

void check_model(const std::string& model) {
  MINIDL_REQUIRE_SHARED();
  if (!fs::exists(apps_dir() / (model + ".io.h5"))) GTEST_SKIP() << "needs ../shared/keras-apps/" << model;
  const Expected io = expected(model);
  const fs::path dir = temp_dir();
  for (const char* ext : {".h5", ".keras"}) {
    const std::string file = (apps_dir() / (model + ext)).string();
    auto m = load_model(file);
    ASSERT_TRUE(m) << file;
    check_pass_rule(m->predict(io.x, 2), io.y, model + ext);
    // minidl's own files of the loaded model, in both formats, read back by minidl.
    for (const char* out_ext : {".h5", ".keras"}) {
      const std::string copy = (dir / (model + std::string(ext).substr(1) + out_ext)).string();
      save_model(*m, copy);
      check_pass_rule(load_model(copy)->predict(io.x, 2), io.y, model + ext + " -> minidl " + out_ext);
    }
  }
}

TEST(KerasApps, MobileNetMatchesKeras) { check_model("MobileNet"); }
TEST(KerasApps, MobileNetV2MatchesKeras) { check_model("MobileNetV2"); }
TEST(KerasApps, MobileNetV3SmallMatchesKeras) { check_model("MobileNetV3Small"); }

}  // namespace
}  // namespace minidl
