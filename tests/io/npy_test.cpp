// io/npy: files built byte by byte here, a write/read round trip, and the Keras fixtures.
#include "io/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/errors.h"
#include "support/assertions.h"
#include "support/files.h"

using namespace minidl;
namespace fs = std::filesystem;
using namespace minidl::testing;

namespace {

// A .npy of the given format version with `dict` as header (padded to 64 bytes) and raw data.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  const size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string s = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  const size_t n = header.size();
  s += {static_cast<char>(n & 0xff), static_cast<char>(n >> 8)};
  if (major > 1) s += {'\0', '\0'};
  return s + header + data;
}

template <class T>
std::string raw(const std::vector<T>& v) {
  std::string s(v.size() * sizeof(T), '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

}  // namespace

TEST(Npy, WriteThenReadRoundTripsShapesAndValues) {
  const fs::path dir = minidl::testing::fresh_dir();
  for (const Shape& shape : {Shape{2, 3, 4}, Shape{5}, Shape{}, Shape{0, 3}}) {
    const std::string path = (dir / "t.npy").string();
    const Tensor t = Tensor::uniform(shape, -2.f, 2.f);
    write_npy(path, t);
    const Tensor r = read_npy(path);
    EXPECT_EQ(r.shape(), shape) << shape_str(shape);
    EXPECT_EQ(r.to_vector(), t.to_vector());
  }
}

TEST(Npy, WriterProducesAnAlignedVersion1Float32Header) {
  const std::string path = (minidl::testing::fresh_dir() / "t.npy").string();
  write_npy(path, Tensor::arange({2, 3}));
  const std::string bytes = read_file(path);
  ASSERT_GT(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  EXPECT_EQ(bytes.size(), 10 + header_len + 6 * 4);
  const std::string header = bytes.substr(10, header_len);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos);
  EXPECT_NE(header.find("'fortran_order': False"), std::string::npos);
  EXPECT_NE(header.find("'shape': (2, 3)"), std::string::npos);
  EXPECT_EQ(header.back(), '\n');
}

TEST(Npy, ReadsFloat64AndConvertsToFloat32) {
  const std::string path = (minidl::testing::fresh_dir() / "d.npy").string();
  write_file(path,
             npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", raw<double>({0.1, -2.5, 1e30})));
  EXPECT_EQ(read_npy(path).to_vector(), (std::vector<float>{0.1f, -2.5f, 1e30f}));
}

TEST(Npy, ReadsFormatVersion2AndIntegerDtypes) {
  const fs::path dir = minidl::testing::fresh_dir();
  write_file(dir / "v2.npy",
             npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", raw<float>({1.f, 2.f}), 2));
  EXPECT_EQ(read_npy((dir / "v2.npy").string()).shape(), (Shape{1, 2}));
  write_file(dir / "i8.npy",
             npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", raw<int64_t>({-7, 1LL << 40})));
  EXPECT_EQ(read_npy((dir / "i8.npy").string()).to_vector(), (std::vector<float>{-7.f, 1099511627776.f}));
  write_file(dir / "u1.npy",
             npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", std::string("\x00\xff", 2)));
  EXPECT_EQ(read_npy((dir / "u1.npy").string()).to_vector(), (std::vector<float>{0.f, 255.f}));
}

TEST(Npy, FortranOrderIsRefused) {
  const std::string path = (minidl::testing::fresh_dir() / "f.npy").string();
  write_file(path, npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", raw<float>({1, 2, 3, 4})));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_npy(path); }, {path, "fortran_order"}));
}

TEST(Npy, UnsupportedDtypesAreNamed) {
  const std::string path = (minidl::testing::fresh_dir() / "b.npy").string();
  for (const std::string descr : {">f4", "<c8", "|O", "<f2"}) {
    write_file(path, npy_bytes("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1,), }", "12345678"));
    EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_npy(path); }, {path, "unsupported dtype '" + descr + "'"}));
  }
}

TEST(Npy, DataSizeMustMatchTheShape) {
  const std::string path = (minidl::testing::fresh_dir() / "s.npy").string();
  write_file(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", raw<float>({1, 2, 3})));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_npy(path); }, {path, "(4,)", "needs 16 data bytes, found 12"}));
}

TEST(Npy, MalformedFilesAreIOErrors) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = (dir / "m.npy").string();
  write_file(path, "PK\x03\x04 definitely not numpy");
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_npy(path); }, {path, "not a .npy file"}));
  write_file(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, }", ""));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_npy(path); }, {"no 'shape' entry"}));
  write_file(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", ""));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_npy(path); }, {"malformed .npy shape"}));
  write_file(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999, 99999, 999), }", ""));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_npy(path); }, {"too large"}));
  write_file(path, std::string("\x93NUMPY\x01\x00\xff\x00{'descr'", 17));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_npy(path); }, {"truncated .npy header"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_npy((dir / "absent.npy").string()); }, {"absent.npy: no such file"}));
}

TEST(Npy, ReadsTheKerasFixtureInputAndExpectedOutput) {
  MINIDL_REQUIRE_SHARED();
  const fs::path dir = minidl::testing::shared_dir() / "keras-h5";
  Tensor x = read_npy((dir / "k2.1.3-tf_cnn-bn_model.input.npy").string());
  ASSERT_EQ(x.shape(), (Shape{5, 10, 10, 3}));
  EXPECT_EQ(x.at({0, 0, 0, 0}), static_cast<float>(0.27812652));
  EXPECT_EQ(x.at({4, 9, 9, 2}), static_cast<float>(0.5181752431585356));
  Tensor y = read_npy((dir / "k2.1.3-tf_cnn-bn_model.expected.npy").string());
  ASSERT_EQ(y.shape(), (Shape{5, 1}));
  EXPECT_EQ(y[0], -0.05206109583377838f);
  EXPECT_EQ(y[4], 0.15537278354167938f);
}
