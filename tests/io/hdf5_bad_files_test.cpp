// A corpus of broken files, generated here: each must raise IOError naming the file and the
// object path, and HDF5 must print nothing.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/hdf5.h"
#include "support/assertions.h"
#include "support/files.h"

using namespace minidl;
using namespace minidl::h5;
namespace fs = std::filesystem;
using namespace minidl::testing;

namespace {

// A small Keras-like weights file, a few KiB.
std::string make_weights_file(const fs::path& dir) {
  const std::string path = (dir / "good.h5").string();
  H5File f = H5File::create(path);
  Group root = f.root();
  root.write_string_array_attr("layer_names", {"conv2d", "flatten"});
  Group conv = root.create_group("conv2d");
  conv.write_string_array_attr("weight_names", {"conv2d/kernel:0", "conv2d/bias:0"});
  conv.write_tensor("conv2d/kernel:0", Tensor::arange({3, 3, 1, 32}));
  conv.write_tensor("conv2d/bias:0", Tensor::zeros({32}));
  root.create_group("flatten").write_string_array_attr("weight_names", {});
  f.close();
  return path;
}

void read_everything(const std::string& path) {
  Group root = H5File::open_read(path).root();
  for (const auto& layer : root.read_string_array_attr("layer_names")) {
    Group g = root.open_group(layer);
    for (const auto& w : g.read_string_array_attr("weight_names")) g.open_dataset(w).read_tensor();
  }
}

}  // namespace

TEST(H5BadFiles, TheGoodFileReads) {
  EXPECT_NO_THROW(read_everything(make_weights_file(minidl::testing::fresh_dir())));
}

TEST(H5BadFiles, MissingFile) {
  const std::string path = (minidl::testing::fresh_dir() / "absent.h5").string();
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { H5File::open_read(path); }, {path + ": /: no such file"}));
}

TEST(H5BadFiles, EmptyFile) {
  const std::string path = (minidl::testing::fresh_dir() / "empty.h5").string();
  write_file(path, "");
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { H5File::open_read(path); }, {path + ": /: empty file"}));
}

TEST(H5BadFiles, Directory) {
  const std::string path = minidl::testing::fresh_dir().string();
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { H5File::open_read(path); }, {path, "directory"}));
}

TEST(H5BadFiles, NotHdf5BytesCarryHdf5sOwnDiagnosis) {
  const std::string path = (minidl::testing::fresh_dir() / "text.h5").string();
  write_file(path, std::string(4096, 'z'));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { H5File::open_read(path); },
                                   {path + ": /: cannot open as HDF5", "HDF5:", "signature"}));
}

TEST(H5BadFiles, TruncatedCopyOfAGoodFile) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string good = read_file(make_weights_file(dir));
  for (size_t keep : {good.size() / 2, good.size() - 1, size_t{100}, size_t{7}}) {
    const std::string path = (dir / ("cut" + std::to_string(keep) + ".h5")).string();
    write_file(path, good.substr(0, keep));
    EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_everything(path); }, {path, ": /"})) << "kept " << keep;
  }
}

TEST(H5BadFiles, TruncatedImageInMemoryNamesTheDisplayName) {
  const std::string good = read_file(make_weights_file(minidl::testing::fresh_dir()));
  const std::vector<uint8_t> half(good.begin(), good.begin() + good.size() / 2);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { H5File::open_from_memory(half, "m.keras/model.weights.h5"); },
                                   {"m.keras/model.weights.h5: /: cannot open as HDF5"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { H5File::open_from_memory({}, "m.keras/model.weights.h5"); },
                                   {"m.keras/model.weights.h5: /: empty"}));
}

TEST(H5BadFiles, MissingAttribute) {
  const std::string path = make_weights_file(minidl::testing::fresh_dir());
  Group root = H5File::open_read(path).root();
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { root.open_group("conv2d").read_string_attr("layer_names"); },
                                   {path + ": /conv2d: attribute 'layer_names' not found"}));
}

TEST(H5BadFiles, MissingDatasetNamedByWeightNames) {
  const std::string path = (minidl::testing::fresh_dir() / "w.h5").string();
  {
    Group g = H5File::create(path).root().create_group("dense");
    g.write_string_array_attr("weight_names", {"dense/kernel:0"});
  }
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] {
        Group g = H5File::open_read(path).root().open_group("dense");
        g.open_dataset(g.read_string_array_attr("weight_names").at(0));
      },
      {path + ": /dense/dense/kernel:0: no such dataset"}));
}

TEST(H5BadFiles, WrongDtypeDataset) {
  const std::string path = (minidl::testing::fresh_dir() / "w.h5").string();
  H5File::create(path).root().write_string_dataset("dense/dense/kernel:0", "not numbers");
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] { H5File::open_read(path).root().open_dataset("dense/dense/kernel:0").read_tensor(); },
      {path + ": /dense/dense/kernel:0: expected a numeric dataset, found string (variable-length, UTF-8)"}));
}

TEST(H5BadFiles, CorruptedBytesGiveIOErrorsOrCorrectDataButNeverNoise) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string good = read_file(make_weights_file(dir));
  for (size_t at = 0; at + 8 < good.size(); at += good.size() / 23) {
    std::string bad = good;
    for (size_t i = at; i < at + 8; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    const std::string path = (dir / ("flip" + std::to_string(at) + ".h5")).string();
    write_file(path, bad);
    ::testing::internal::CaptureStderr();
    try {
      read_everything(path);
    } catch (const IOError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << "flipped bytes at " << at;
  }
}
