// io/datasets.cpp — the ready-made datasets (io/datasets.h).
#include "io/datasets.h"

#include <cstdlib>
#include <filesystem>

#include "core/errors.h"
#include "io/idx.h"

namespace minidl {

namespace fs = std::filesystem;

std::string fashion_mnist_dir(const std::string& dir) {
  if (!dir.empty()) return dir;
  const char* env = std::getenv("MINIDL_FASHION_MNIST_DIR");
  return env && *env ? env : kDefaultFashionMnistDir;
}

namespace {

// The .gz file, or the same file already decompressed.
std::string find_idx(const fs::path& dir, const std::string& stem) {
  for (const std::string& name : {stem + ".gz", stem}) {
    std::error_code ec;
    if (fs::is_regular_file(dir / name, ec)) return (dir / name).string();
  }
  raise<IOError>(
      "{}: not found. Fashion-MNIST is provided by the Debian package `dataset-fashion-mnist` (files in {}); "
      "install it, or pass a directory holding the four IDX files (or set MINIDL_FASHION_MNIST_DIR)",
      (dir / (stem + ".gz")).string(), kDefaultFashionMnistDir);
}

// images [N, H, W] 0..255 -> [N, H, W, 1] in [0, 1]; checks the label count matches.
void load_split(const fs::path& dir, const std::string& prefix, int64_t limit, Tensor* x, Tensor* y) {
  const std::string images_path = find_idx(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_idx(dir, prefix + "-labels-idx1-ubyte");
  Tensor images = read_idx_images(images_path, limit);  // [N, H, W]
  Tensor labels = read_idx_labels(labels_path, limit);  // [N]
  MINIDL_CHECK(images.dim(0) == labels.dim(0), IOError, "{}: {} images but {} has {} labels", images_path,
               images.dim(0), labels_path, labels.dim(0));
  for (float& v : images.span()) v /= 255.f;
  *x = images.reshape({images.dim(0), images.dim(1), images.dim(2), 1});  // [N, H, W, 1]
  *y = labels;
}

}  // namespace

FashionMnist load_fashion_mnist(const std::string& dir, int64_t limit) {
  const fs::path root = fashion_mnist_dir(dir);
  FashionMnist d;
  load_split(root, "train", limit, &d.x_train, &d.y_train);
  load_split(root, "t10k", -1, &d.x_test, &d.y_test);
  return d;
}

}  // namespace minidl
