// io/idx: IDX files generated here, plain and gzip-compressed.
#include "io/idx.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/errors.h"
#include "support/assertions.h"
#include "support/files.h"

using namespace minidl;
namespace fs = std::filesystem;
using namespace minidl::testing;

namespace {

std::string idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims, const std::string& data) {
  std::string s = be32(magic);
  for (uint32_t d : dims) s += be32(d);
  return s + data;
}

uint32_t crc32(const std::string& s) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

std::string le32(uint32_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
}

// A gzip member holding `s` in deflate "stored" blocks (RFC 1951/1952), written by hand so
// the test does not reuse the reader's library to produce its input.
std::string gzip_stored(const std::string& s) {
  std::string out = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, '\x03'};
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(s.size() - pos, 65535);
    const bool last = pos + n == s.size();
    out += static_cast<char>(last ? 1 : 0);
    out += {static_cast<char>(n & 0xff), static_cast<char>(n >> 8)};
    out += {static_cast<char>(~n & 0xff), static_cast<char>((~n >> 8) & 0xff)};
    out += s.substr(pos, n);
    pos += n;
  } while (pos < s.size());
  return out + le32(crc32(s)) + le32(static_cast<uint32_t>(s.size()));
}

std::string pixels(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 37 + 11) % 256);
  return s;
}

}  // namespace

TEST(Idx, ReadsPlainImagesAsRawFloatValues) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string data = pixels(3 * 2 * 4);
  write_file(dir / "img", idx_bytes(0x803, {3, 2, 4}, data));
  Tensor x = read_idx_images((dir / "img").string());
  ASSERT_EQ(x.shape(), (Shape{3, 2, 4}));
  for (size_t i = 0; i < data.size(); ++i) EXPECT_EQ(x[i], static_cast<float>(static_cast<unsigned char>(data[i])));
}

TEST(Idx, GzipFileReadsTheSameAsPlain) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string file = idx_bytes(0x803, {100, 28, 28}, pixels(100 * 28 * 28));  // > one stored block
  write_file(dir / "plain", file);
  write_file(dir / "packed.gz", gzip_stored(file));
  Tensor a = read_idx_images((dir / "plain").string());
  Tensor b = read_idx_images((dir / "packed.gz").string());
  EXPECT_EQ(b.shape(), (Shape{100, 28, 28}));
  EXPECT_EQ(a.to_vector(), b.to_vector());
}

TEST(Idx, ReadsLabels) {
  const fs::path dir = minidl::testing::fresh_dir();
  write_file(dir / "lab.gz", gzip_stored(idx_bytes(0x801, {4}, std::string{9, 0, 3, 7})));
  EXPECT_EQ(read_idx_labels((dir / "lab.gz").string()).to_vector(), (std::vector<float>{9, 0, 3, 7}));
}

TEST(Idx, LimitKeepsTheFirstItems) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string data = pixels(5 * 2 * 2);
  write_file(dir / "img", idx_bytes(0x803, {5, 2, 2}, data));
  Tensor x = read_idx_images((dir / "img").string(), 2);
  ASSERT_EQ(x.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(x[7], static_cast<float>(static_cast<unsigned char>(data[7])));
  EXPECT_EQ(read_idx_images((dir / "img").string(), 50).shape(), (Shape{5, 2, 2}));
}

TEST(Idx, WrongMagicSaysExpectedAndFound) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = (dir / "labels").string();
  write_file(path, idx_bytes(0x801, {2}, "ab"));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_idx_images(path); }, {path, "expected 0x00000803", "found 0x00000801"}));
  write_file(path, idx_bytes(0x0d03, {1, 1, 1}, "a"));  // float32 data type code
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_idx_images(path); }, {"found 0x00000d03"}));
}

TEST(Idx, TruncatedDataIsAnIOError) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = (dir / "img.gz").string();
  write_file(path, gzip_stored(idx_bytes(0x803, {10, 28, 28}, pixels(9 * 28 * 28 + 5))));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_idx_images(path); },
                                   {path, "truncated IDX data", "(10, 28, 28)", "expected 7840", "found 7061"}));
  EXPECT_EQ(read_idx_images(path, 9).dim(0), 9);  // the complete items before the cut still read
}

TEST(Idx, TruncatedHeaderIsAnIOError) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = (dir / "img").string();
  write_file(path, be32(0x803) + be32(10) + "\x00\x00");
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_idx_images(path); }, {path, "truncated IDX header"}));
  write_file(path, "");
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_idx_labels(path); }, {path, "truncated IDX header"}));
}

TEST(Idx, AbsurdDimensionsAreRefusedBeforeAllocating) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = (dir / "img").string();
  write_file(path, idx_bytes(0x803, {0xffffffffu, 0xffffu, 0xffffu}, ""));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_idx_images(path); }, {path, "too large"}));
}

// Two item dimensions whose product overflows int64.
TEST(Idx, ItemDimensionsWhoseProductOverflowsAreRefused) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = (dir / "img").string();
  write_file(path, idx_bytes(0x803, {1, 0xd9d9d9d9u, 0xd9d9d9d9u}, ""));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_idx_images(path); }, {path, "too large"}));
}

TEST(Idx, MissingFileAndCorruptGzip) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string missing = (dir / "nothing.gz").string();
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_idx_labels(missing); }, {missing, "no such file"}));
  std::string gz = gzip_stored(idx_bytes(0x801, {3}, "abc"));
  gz[10] = 0x07;  // reserved deflate block type: invalid stream
  write_file(dir / "bad.gz", gz);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_idx_labels((dir / "bad.gz").string()); }, {"bad.gz"}));
}
