// tests/tools/cli_image_folder_test.cpp — `minidl fit --x DIR` and `minidl predict --x DIR`:
// a folder of images (made here) trains a small image model and is predicted
// in sorted file order; folder errors name the folder or file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/image_dataset_files.h"
#include "io/keras_model.h"
#include "layers/reshaping/reshaping.h"
#include "support/cli.h"

namespace minidl::testing {
namespace {

namespace fs = std::filesystem;

// Two classes of 6 x 6 gray images: "dark" (value 20 + i) and "light" (200 + i).
fs::path two_class_folder(const fs::path& dir) {
  const fs::path root = dir / "images";
  for (const char* cls : {"dark", "light"}) {
    fs::create_directories(root / cls);
    for (int i = 0; i < 6; ++i) {
      const float v = (std::string(cls) == "dark" ? 20.0f : 200.0f) + static_cast<float>(i);
      std::vector<float> px(36, v);
      save_image((root / cls / ("img" + std::to_string(i) + ".png")).string(), px.data(), 6, 6, 1);
    }
  }
  return root;
}

// An image model: (None, 6, 6, 1) -> 2 classes.
fs::path image_model(const fs::path& dir) {
  Sequential model({Flatten({.input_shape = Shape{6, 6, 1}}), Dense(2, {.activation = "softmax", .name = "out"})});
  const fs::path path = dir / "image_model.h5";
  save_model(*model.ptr(), path.string());
  return path;
}

class CliImageFolder : public ::testing::Test {
 protected:
  void SetUp() override { MINIDL_REQUIRE_CLI(); }
  const fs::path dir = temp_dir();
};

TEST_F(CliImageFolder, FitsOnAFolderThenPredictsItInFileOrder) {
  const fs::path images = two_class_folder(dir);
  const fs::path trained = dir / "trained.h5";
  const CliResult fit = run_cli({"fit", image_model(dir).string(), "--x", images.string(), "--loss",
                                 "sparse_categorical_crossentropy", "--optimizer", "sgd", "--lr", "0.001", "--epochs",
                                 "3", "-b", "4", "--validation-split", "0.25", "--seed", "3", "--save",
                                 trained.string()});
  ASSERT_EQ(fit.status, 0) << describe(fit);
  ASSERT_TRUE(fs::exists(trained));

  const fs::path out = dir / "pred.h5";
  const fs::path files = dir / "order.txt";
  const CliResult pred = run_cli({"predict", trained.string(), "--x", images.string(), "--output",
                                  out.string() + ":y", "--files", files.string()});
  ASSERT_EQ(pred.status, 0) << describe(pred);
  const Tensor y = read_h5(out, "y");
  EXPECT_EQ(y.shape(), (Shape{12, 2}));
  for (int64_t i = 0; i < 12; ++i) EXPECT_NEAR(y[i * 2] + y[i * 2 + 1], 1.0, 1e-5);  // softmax rows
  std::ifstream in(files);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 12u);
  EXPECT_EQ(lines.front(), (images / "dark" / "img0.png").string());
  EXPECT_EQ(lines.back(), (images / "light" / "img5.png").string());
}

TEST_F(CliImageFolder, FolderProblemsAreReported) {
  const fs::path images = two_class_folder(dir);
  const std::string model = image_model(dir).string();
  // --y has no place beside a folder.
  const CliResult with_y = run_cli({"fit", model, "--x", images.string(), "--y", "t.h5:y", "--loss", "mse",
                                    "--optimizer", "sgd", "--lr", "0.1", "--save", (dir / "o.h5").string()});
  EXPECT_EQ(with_y.status, 2) << describe(with_y);
  // A damaged image fails the run, naming the file.
  const fs::path bad = images / "light" / "img3.png";
  std::ofstream(bad, std::ios::trunc) << "\x89PNG\r\n\x1a\nbroken";
  const CliResult broken = run_cli({"predict", model, "--x", images.string(), "--output",
                                    (dir / "p.h5").string() + ":y"});
  EXPECT_EQ(broken.status, 1) << describe(broken);
  EXPECT_NE(broken.err.find(bad.string()), std::string::npos) << describe(broken);
  // A folder without images.
  fs::create_directories(dir / "empty");
  const CliResult empty = run_cli({"predict", model, "--x", (dir / "empty").string(), "--output",
                                   (dir / "p.h5").string() + ":y"});
  EXPECT_EQ(empty.status, 1) << describe(empty);
  EXPECT_NE(empty.err.find("No images found in directory"), std::string::npos) << describe(empty);
  // A model whose input is not an image needs --image-size and --color-mode.
  const fs::path dense = dir / "dense.h5";
  save_model(*small_dense_model().ptr(), dense.string());
  const CliResult not_image = run_cli({"predict", dense.string(), "--x", (dir / "empty").string(), "--output",
                                       (dir / "p.h5").string() + ":y"});
  EXPECT_EQ(not_image.status, 2) << describe(not_image);
  EXPECT_NE(not_image.err.find("--image-size"), std::string::npos) << describe(not_image);
}

}  // namespace
}  // namespace minidl::testing
