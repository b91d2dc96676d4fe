// bench/bench_images.cpp — images/s read from a folder by image_dataset_from_directory:
// decoded, resized and batched, on 1 and 2 decoding threads.
//
// Two folders made here: 28x28 gray PNGs read at 28x28 (Fashion-MNIST-like),
// and 256x320 RGB JPEGs (quality 90, a smooth pattern plus noise) read at
// 224x224. The reader only pulls batches (no training step), so the figure is
// the most the input pipeline can feed a model.
//
//   bench_images [--png N] [--jpeg N] [--dir DIR] [--passes N]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "io/image_dataset.h"
#include "io/image_dataset_files.h"

using namespace minidl;
namespace fs = std::filesystem;

namespace {

void make_folder(const fs::path& root, int64_t n, int64_t h, int64_t w, int64_t c, const char* ext) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> noise(-12.0f, 12.0f);
  std::vector<float> px(static_cast<size_t>(h * w * c));
  for (int64_t i = 0; i < n; ++i) {
    const std::string cls = i % 2 ? "b" : "a";
    fs::create_directories(root / cls);
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t k = 0; k < c; ++k)
          px[(y * w + x) * c + k] = 128.0f + 100.0f * std::sin(0.05f * static_cast<float>(x * (k + 1) + y + i)) +
                                    noise(rng);
    save_image((root / cls / ("img_" + std::to_string(i) + ext)).string(), px.data(), h, w, c);
  }
}

// Images per second over `passes` full passes (after one warm-up pass).
double images_per_second(const fs::path& root, int64_t side, const char* color, int threads, int passes) {
  ImageDatasetOptions o;
  o.color_mode = color;
  o.image_size = {side, side};
  o.batch_size = 32;
  o.seed = 1;
  o.verbose = false;
  o.num_threads = threads;
  auto ds = image_dataset_from_directory(root.string(), o);
  Tensor x, y;
  ds->begin_epoch(0);
  while (ds->next_batch(x, y)) {
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (int p = 1; p <= passes; ++p) {
    ds->begin_epoch(p);
    while (ds->next_batch(x, y)) {
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(ds->num_samples() * passes) / s;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t png = 4000, jpeg = 400;
  int passes = 3;
  fs::path dir = fs::temp_directory_path() / "minidl_bench_images";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--png") png = std::atoll(argv[i + 1]);
    else if (a == "--jpeg") jpeg = std::atoll(argv[i + 1]);
    else if (a == "--passes") passes = std::atoi(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: bench_images [--png N] [--jpeg N] [--passes N] [--dir DIR]\n");
      return 2;
    }
  }
  fs::remove_all(dir);
  make_folder(dir / "png28", png, 28, 28, 1, ".png");
  make_folder(dir / "jpeg224", jpeg, 256, 320, 3, ".jpg");
  for (int threads : {1, 2}) {
    std::printf("png 28x28 gray -> 28x28: threads=%d images_per_second=%.0f\n", threads,
                images_per_second(dir / "png28", 28, "grayscale", threads, passes));
    std::printf("jpeg 256x320 rgb -> 224x224: threads=%d images_per_second=%.0f\n", threads,
                images_per_second(dir / "jpeg224", 224, "rgb", threads, passes));
  }
  fs::remove_all(dir);
  return 0;
}
