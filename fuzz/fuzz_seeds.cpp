// fuzz/fuzz_seeds.cpp — `fuzz_seeds DIR [SHARED_DIR]` writes the seed corpus of every fuzz target
// into DIR/<target>/: files saved by minidl itself (a small model with
// Conv2D, BatchNormalization and Dense, compiled, as .h5, .keras, legacy and
// Keras 3 weights, architecture JSON, .npy, IDX plain and gzip, small PNG,
// JPEG, BMP and GIF images) and, when
// SHARED_DIR is given and exists, the real Keras files of SHARED_DIR/keras-h5.
#include <nlohmann/json.hpp>

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "io/keras_model.h"
#include "io/image_dataset_files.h"
#include "io/npy.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/reshaping/reshaping.h"
#include "train/model.h"
#include "train/optimizers.h"

namespace fs = std::filesystem;
using namespace minidl;

namespace {

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

// An IDX file of unsigned bytes: magic 0x0000080<rank>, big-endian dims, data.
std::string idx_bytes(const std::vector<uint32_t>& dims) {
  std::string s = {0, 0, 8, static_cast<char>(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int shift : {24, 16, 8, 0}) s.push_back(static_cast<char>((d >> shift) & 0xff));
    n *= d;
  }
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i * 37 % 256));
  return s;
}

std::string gzip(const std::string& raw) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // 15 + 16: gzip wrapper
  std::string out(deflateBound(&z, raw.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: fuzz_seeds DIR [SHARED_DIR]\n";
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* t : {"fuzz_h5_model", "fuzz_weights", "fuzz_keras", "fuzz_arch_json", "fuzz_npy", "fuzz_idx", "fuzz_image"})
    fs::create_directories(out / t);
  try {
    Sequential model({
        Conv2D(2, 3, {.activation = "relu", .input_shape = Shape{5, 5, 1}}),
        BatchNormalization(),
        Flatten(),
        Dense(3, {.activation = "softmax"}),
    });
    model->compile(std::make_shared<Adam>(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
    save_model(*model, (out / "fuzz_h5_model" / "model.h5").string());
    save_model(*model, (out / "fuzz_keras" / "model.keras").string());
    save_weights(*model, (out / "fuzz_weights" / "legacy.h5").string());
    save_weights(*model, (out / "fuzz_weights" / "keras3.weights.h5").string(), true);
    write_bytes(out / "fuzz_arch_json" / "sequential.json",
                json{{"class_name", "Sequential"}, {"config", model->get_config()}}.dump());
    write_npy((out / "fuzz_npy" / "f32.npy").string(), Tensor::uniform({2, 3, 4}, -1.f, 1.f));
    write_npy((out / "fuzz_npy" / "scalar.npy").string(), Tensor::uniform({1}, 0.f, 1.f));
    write_bytes(out / "fuzz_idx" / "images-idx3-ubyte", idx_bytes({3, 4, 5}));
    write_bytes(out / "fuzz_idx" / "labels-idx1-ubyte", idx_bytes({7}));
    write_bytes(out / "fuzz_idx" / "images-idx3-ubyte.gz", gzip(idx_bytes({3, 4, 5})));
    // Small images in every format and channel count the decoder reads.
    for (int64_t channels : {1, 2, 3, 4}) {
      const Tensor px = Tensor::uniform({5, 7, channels}, 0.f, 255.f);
      const std::string stem = "c" + std::to_string(channels);
      save_image((out / "fuzz_image" / (stem + ".png")).string(), px.data(), 5, 7, channels);
      if (channels != 2) {
        save_image((out / "fuzz_image" / (stem + ".bmp")).string(), px.data(), 5, 7, channels);
        save_image((out / "fuzz_image" / (stem + ".jpg")).string(), px.data(), 5, 7, channels);
        save_image((out / "fuzz_image" / (stem + ".gif")).string(), px.data(), 5, 7, channels);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "fuzz_seeds: " << e.what() << "\n";
    return 1;
  }
  // Real Keras files: the legacy .h5 files are seeds for both .h5 readers.
  if (argc > 2 && fs::is_directory(fs::path(argv[2]) / "keras-h5")) {
    for (const auto& e : fs::directory_iterator(fs::path(argv[2]) / "keras-h5")) {
      const std::string name = e.path().filename().string();
      if (e.path().extension() == ".h5" && fs::file_size(e.path()) <= (4 << 20)) {
        fs::copy_file(e.path(), out / "fuzz_h5_model" / name, fs::copy_options::overwrite_existing);
        fs::copy_file(e.path(), out / "fuzz_weights" / name, fs::copy_options::overwrite_existing);
      } else if (e.path().extension() == ".keras" && fs::file_size(e.path()) <= (4 << 20)) {
        fs::copy_file(e.path(), out / "fuzz_keras" / name, fs::copy_options::overwrite_existing);
      } else if (e.path().extension() == ".npy") {
        fs::copy_file(e.path(), out / "fuzz_npy" / name, fs::copy_options::overwrite_existing);
      } else if (e.path().extension() == ".json") {
        fs::copy_file(e.path(), out / "fuzz_arch_json" / name, fs::copy_options::overwrite_existing);
      }
    }
  }
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(out)) files += e.is_regular_file();
  std::cout << "fuzz_seeds: " << files << " seed files in " << out.string() << "\n";
  return 0;
}
