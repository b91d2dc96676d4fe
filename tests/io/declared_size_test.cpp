// Sizes declared by file headers are checked before anything is allocated for them: HDF5
// contiguous datasets must end inside the file, .npy and IDX data must be in the file, and
// every read must fit the read budget (core/memory.h max_read_bytes, MINIDL_MAX_READ_BYTES).
// Each hostile file here is a few KB declaring gigabytes: the result is one IOError naming
// the file (and the dataset), the declared size and the limit, with no large allocation
// (the tensor cache's peak stays small). Also: load_model on a directory says so.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/memory.h"
#include "io/hdf5.h"
#include "io/idx.h"
#include "io/keras_model.h"
#include "io/npy.h"
#include "support/assertions.h"
#include "support/files.h"
#include "support/scoped_env.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;
using namespace testing;
using namespace std::string_view_literals;

constexpr int64_t kOneGiB = int64_t{1} << 30;

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// Replaces the dataspace dimensions (1, 291) of /x (stored as two little-endian uint64, once
// for the current and once for the maximum extent) with (rows, 291): a corrupt header whose
// data stays 1,164 bytes long.
void declare_rows(const std::string& path, uint64_t rows) {
  std::string bytes = read_file(path);
  const std::string dims = le64(1) + le64(291);
  size_t replaced = 0;
  for (size_t at = bytes.find(dims); at != std::string::npos; at = bytes.find(dims, at + dims.size())) {
    bytes.replace(at, 8, le64(rows));
    ++replaced;
  }
  EXPECT_GE(replaced, 1u) << "dataspace dimensions not found in " << path;
  write_file(path, bytes);
}

// The 3,212-byte file libhdf5 1.10 writes for H5Dcreate2(f, "x", H5T_IEEE_F32LE, (1, 291))
// with default properties (contiguous layout, data at offset 2048) and 291 zeros written:
// minidl's writer makes chunked datasets, so the contiguous case is spelled out here as
// its non-zero runs (offset, bytes).
std::string contiguous_h5_image() {
  static const std::pair<size_t, std::string_view> kRuns[] = {
    {0, "\x89\x48\x44\x46\x0d\x0a\x1a\x0a\x00\x00\x00\x00\x00\x08\x08\x00\x04\x00\x10"sv},
    {32, "\xff\xff\xff\xff\xff\xff\xff\xff\x8c\x0c\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff"sv},
    {64, "\x60\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x88\x00\x00\x00\x00\x00\x00\x00\xa8\x02\x00\x00\x00\x00\x00\x00\x01\x00\x01\x00\x01\x00\x00\x00\x18\x00\x00\x00\x00\x00\x00\x00\x11\x00\x10\x00\x00\x00\x00\x00\x88\x00\x00\x00\x00\x00\x00\x00\xa8\x02\x00\x00\x00\x00\x00\x00\x54\x52\x45\x45\x00\x00\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"sv},
    {168, "\x30\x04\x00\x00\x00\x00\x00\x00\x08"sv},
    {680, "\x48\x45\x41\x50\x00\x00\x00\x00\x58\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\xc8\x02"sv},
    {720, "\x78\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x48"sv},
    {800, "\x01\x00\x06\x00\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01\x00\x28\x00\x00\x00\x00\x00\x01\x02\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x23\x01\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x23\x01\x00\x00\x00\x00\x00\x00\x03\x00\x18\x00\x01\x00\x00\x00\x11\x20\x1f\x00\x04\x00\x00\x00\x00\x00\x20\x00\x17\x08\x00\x17\x7f\x00\x00\x00\x00\x00\x00\x00\x05\x00\x08\x00\x01\x00\x00\x00\x02\x02\x02\x01\x00\x00\x00\x00\x08\x00\x18\x00\x00\x00\x00\x00\x03\x01\x00\x08\x00\x00\x00\x00\x00\x00\x8c\x04"sv},
    {944, "\x12\x00\x08\x00\x00\x00\x00\x00\x01\x00\x00\x00\x24\xfa\x15\x6b\x00\x00\x68"sv},
    {1072, "\x53\x4e\x4f\x44\x01\x00\x01\x00\x08\x00\x00\x00\x00\x00\x00\x00\x20\x03"sv},
  };
  std::string image(3212, '\0');
  for (const auto& [offset, run] : kRuns) image.replace(offset, run.size(), run);
  return image;
}

TEST(DeclaredSize, Hdf5ContiguousDatasetDeclaringGigabytesIsRefusedBeforeAllocating) {
  const auto dir = testing::fresh_dir();
  const std::string path = (dir / "contiguous.h5").string();
  write_file(path, contiguous_h5_image());
  {
    const h5::H5File f = h5::H5File::open_read(path);
    EXPECT_EQ(f.root().open_dataset("x").read_tensor().shape(), (Shape{1, 291}));  // the image is valid
  }
  const uint64_t rows = 7'000'000;  // 2,037,000,000 floats: under the element limit, 8.1 GB as float32
  declare_rows(path, rows);
  const int64_t peak_before = memory_stats().peak_live_bytes;
  const h5::H5File f = h5::H5File::open_read(path);
  const h5::Dataset x = f.root().open_dataset("x");
  ASSERT_EQ(x.shape(), (Shape{static_cast<int64_t>(rows), 291}));
  // The budget is set high so that only the file-size check can refuse.
  const ScopedEnv env("MINIDL_MAX_READ_BYTES", std::to_string(int64_t{1} << 40));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { x.read_tensor(); },
                                   {path, "/x", "(7000000, 291)", "2037000000 x 4", "contiguous data", "file has 3212"}));
  EXPECT_LT(memory_stats().peak_live_bytes, std::max(peak_before, kOneGiB));
}

TEST(DeclaredSize, Hdf5ChunkedDatasetDeclaringGigabytesIsRefusedByTheBudget) {
  // Chunked data may be compressed, so only the read budget bounds it.
  const auto dir = testing::fresh_dir();
  const std::string path = (dir / "chunked.h5").string();
  {
    h5::H5File f = h5::H5File::create(path);
    f.root().write_tensor("x", Tensor::ones({1, 291}));
    f.close();
  }
  declare_rows(path, 7'000'000);
  const int64_t peak_before = memory_stats().peak_live_bytes;
  const h5::H5File f = h5::H5File::open_read(path);
  const ScopedEnv env("MINIDL_MAX_READ_BYTES", std::to_string(kOneGiB));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { f.root().open_dataset("x").read_tensor(); },
                                   {path, "/x", "(7000000, 291)", "8148000000 bytes",
                                    "read budget of " + std::to_string(kOneGiB)}));
  EXPECT_LT(memory_stats().peak_live_bytes, std::max(peak_before, kOneGiB));
}

TEST(DeclaredSize, Hdf5ReadOverTheBudgetIsRefusedNamingTheLimit) {
  const auto dir = testing::fresh_dir();
  const std::string path = (dir / "small.h5").string();
  {
    h5::H5File f = h5::H5File::create(path);
    f.root().write_tensor("g/w", Tensor::ones({10, 10}));  // 400 bytes as float32
    f.close();
  }
  const h5::H5File f = h5::H5File::open_read(path);
  {
    const ScopedEnv env("MINIDL_MAX_READ_BYTES", "399");
    EXPECT_TRUE(ThrowsQuietly<IOError>([&] { f.root().open_dataset("g/w").read_tensor(); },
                                     {path, "/g/w", "(10, 10)", "400 bytes", "read budget of 399 bytes",
                                      "MINIDL_MAX_READ_BYTES"}));
  }
  const ScopedEnv env("MINIDL_MAX_READ_BYTES", "400");
  EXPECT_EQ(f.root().open_dataset("g/w").read_tensor().numel(), 100);
}

TEST(DeclaredSize, ReadBudgetDefaultsToHalfOfMemoryAndRefusesBadSettings) {
  {
    const ScopedEnv env("MINIDL_MAX_READ_BYTES", "");
    unsetenv("MINIDL_MAX_READ_BYTES");
    const int64_t half = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) / 2 * sysconf(_SC_PAGESIZE);
    EXPECT_EQ(max_read_bytes(), half);
  }
  for (const char* bad : {"0", "-5", "12abc", "lots", "99999999999999999999999"}) {
    const ScopedEnv env("MINIDL_MAX_READ_BYTES", bad);
    EXPECT_THROW(max_read_bytes(), ValueError) << bad;
  }
  const ScopedEnv env("MINIDL_MAX_READ_BYTES", "12345");
  EXPECT_EQ(max_read_bytes(), 12345);
}

// A version 1.0 .npy header (padded to 64 bytes) followed by `data`.
std::string npy_bytes(const std::string& descr, const std::string& shape, const std::string& data) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string s = "\x93NUMPY";
  s += '\x01';
  s += '\x00';
  s += static_cast<char>(header.size() & 0xff);
  s += static_cast<char>(header.size() >> 8);
  return s + header + data;
}

TEST(DeclaredSize, NpyDeclaringGigabytesInATinyFileIsRefusedBeforeAllocating) {
  const auto dir = testing::fresh_dir();
  const std::string path = (dir / "huge.npy").string();
  write_file(path, npy_bytes("<f4", "(2147483400,)", std::string(16, '\0')));
  const int64_t peak_before = memory_stats().peak_live_bytes;
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_npy(path); }, {path, "(2147483400,)", "8589933600 data bytes", "16"}));
  EXPECT_LT(memory_stats().peak_live_bytes, std::max(peak_before, kOneGiB));
}

TEST(DeclaredSize, NpyOverTheBudgetIsRefusedNamingTheLimit) {
  const auto dir = testing::fresh_dir();
  const std::string path = (dir / "small.npy").string();
  write_file(path, npy_bytes("<f8", "(2, 3)", std::string(48, '\0')));  // 48 raw + 24 float32 bytes
  {
    const ScopedEnv env("MINIDL_MAX_READ_BYTES", "71");
    EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_npy(path); }, {path, "(2, 3)", "72 bytes", "read budget of 71"}));
  }
  const ScopedEnv env("MINIDL_MAX_READ_BYTES", "72");
  EXPECT_EQ(read_npy(path).shape(), (Shape{2, 3}));
}

TEST(DeclaredSize, IdxDeclaringGigabytesInATinyFileIsRefusedBeforeAllocating) {
  const auto dir = testing::fresh_dir();
  const std::string path = (dir / "huge-idx3-ubyte").string();
  // 2,000,000 images of 32 x 32 (2 GB as bytes, 8 GB as float32) in a 20-byte file.
  write_file(path, be32(0x803) + be32(2'000'000) + be32(32) + be32(32) + std::string(4, '\0'));
  const int64_t peak_before = memory_stats().peak_live_bytes;
  const ScopedEnv env("MINIDL_MAX_READ_BYTES", std::to_string(int64_t{1} << 40));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_idx_images(path); },
                                   {path, "(2000000, 32, 32)", "2048000000 data bytes", "uncompressed file of 20 bytes",
                                    "at most 4"}));
  EXPECT_LT(memory_stats().peak_live_bytes, std::max(peak_before, kOneGiB));
  // Reading only the rows that are there works.
  write_file(path, be32(0x803) + be32(2'000'000) + be32(2) + be32(2) + std::string(8, '\x07'));
  EXPECT_EQ(read_idx_images(path, 2).shape(), (Shape{2, 2, 2}));
}

TEST(DeclaredSize, IdxOverTheBudgetIsRefusedNamingTheLimit) {
  const auto dir = testing::fresh_dir();
  const std::string path = (dir / "labels-idx1-ubyte").string();
  write_file(path, be32(0x801) + be32(10) + std::string(10, '\x03'));  // 40 bytes as float32
  {
    const ScopedEnv env("MINIDL_MAX_READ_BYTES", "39");
    EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_idx_labels(path); }, {path, "(10,)", "40 bytes", "read budget of 39"}));
  }
  EXPECT_EQ(read_idx_labels(path).numel(), 10);
}

TEST(DeclaredSize, LoadModelOnADirectorySaysItIsADirectory) {
  const auto dir = testing::fresh_dir();
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(dir.string()); }, {dir.string(), "is a directory"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_layer_weights(dir.string(), "dense"); }, {"is a directory"}));
}

}  // namespace
}  // namespace minidl
