// Object header parsing (io/hdf5_object_header.h) on headers built byte by byte: version 1
// and 2 headers, their continuation chunks, attribute messages of versions 1, 2 and 3, and
// what the parse must skip or survive (other names, shared messages, continuation cycles,
// truncation).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "io/hdf5_object_header.h"

namespace minidl {
namespace {

using h5::detail::AttributeData;
using h5::detail::find_attribute_data;
using h5::detail::FileLayout;
using h5::detail::MemoryBytes;

std::string le(uint64_t v, unsigned n) {
  std::string s(n, '\0');
  for (unsigned i = 0; i < n; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string pad8(std::string s) {
  s.resize((s.size() + 7) / 8 * 8, '\0');
  return s;
}

const std::string kType(16, 't');   // stand-ins: the parse skips datatype and dataspace by size
const std::string kSpace(12, 's');
const std::string kData = "0123456789abcdef";  // the raw data the tests look for

// An attribute message body of `version` (1, 2 or 3) named `name`.
std::string attribute(unsigned version, const std::string& name, const std::string& data = kData) {
  std::string m;
  m += static_cast<char>(version);
  m += '\0';  // reserved (version 1) or flags
  m += le(name.size() + 1, 2) + le(kType.size(), 2) + le(kSpace.size(), 2);
  if (version == 3) m += '\0';  // name encoding: ASCII
  const std::string n = name + std::string(1, '\0');
  if (version == 1) return m + pad8(n) + pad8(kType) + pad8(kSpace) + data;
  return m + n + kType + kSpace + data;
}

// Version 1 message: type 2 bytes, size 2, flags 1, reserved 3, body padded to 8.
std::string v1_message(unsigned type, const std::string& body, uint8_t flags = 0) {
  const std::string b = pad8(body);
  return le(type, 2) + le(b.size(), 2) + std::string(1, static_cast<char>(flags)) + std::string(3, '\0') + b;
}

// Version 2 message: type 1 byte, size 2, flags 1, creation order 2 when tracked.
std::string v2_message(unsigned type, const std::string& body, bool order, uint8_t flags = 0) {
  return std::string(1, static_cast<char>(type)) + le(body.size(), 2) + std::string(1, static_cast<char>(flags)) +
         (order ? le(7, 2) : "") + body;
}

std::string continuation(uint64_t address, uint64_t length) { return le(address, 8) + le(length, 8); }

std::string v1_prefix(size_t chunk_size) {
  return std::string("\x01\x00", 2) + le(3, 2) + le(1, 4) + le(chunk_size, 4) + std::string(4, '\0');
}

std::vector<AttributeData> find(const std::string& file, uint64_t header, const std::string& name,
                                FileLayout layout = {}) {
  return find_attribute_data(MemoryBytes({reinterpret_cast<const uint8_t*>(file.data()), file.size()}), layout, header,
                             name);
}

// The offset of the first byte of kData in `file` after `from`.
uint64_t data_at(const std::string& file, size_t from = 0) { return file.find(kData, from); }

TEST(H5ObjectHeader, Version1WithContinuation) {
  // Chunk 0 at 64: a null message, another attribute, a continuation to the chunk at 512.
  const std::string chunk1 = v1_message(0x0C, attribute(1, "target"));
  const std::string chunk0 = v1_message(0, std::string(8, '\0')) + v1_message(0x0C, attribute(1, "other", "xxxxxxxx")) +
           v1_message(0x10, continuation(512, chunk1.size()));
  std::string file(64, 'x');
  file += v1_prefix(chunk0.size()) + chunk0;
  file.resize(512, 'y');
  file += chunk1 + std::string(40, 'z');
  const auto found = find(file, 64, "target");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].offset, data_at(file));
  EXPECT_GT(found[0].offset, 512u);
  ASSERT_GE(found[0].bytes.size(), kData.size());
  EXPECT_EQ(std::string(found[0].bytes.begin(), found[0].bytes.begin() + kData.size()), kData);
  EXPECT_EQ(find(file, 64, "other").size(), 1u);
  EXPECT_TRUE(find(file, 64, "targe").empty());
  EXPECT_TRUE(find(file, 64, "target2").empty());
  // The same header behind a 512-byte user block: addresses are relative to the base.
  const std::string shifted = std::string(512, 'u') + file;
  const auto based = find(shifted, 64, "target", {8, 8, 512});
  ASSERT_EQ(based.size(), 1u);
  EXPECT_EQ(based[0].offset, data_at(shifted, 512));
}

TEST(H5ObjectHeader, Version2WithContinuationAndCreationOrder) {
  // Flags: 2-byte chunk 0 size (0x01), creation order tracked (0x04), times stored (0x20).
  const std::string ochk = std::string("OCHK") + v2_message(0x0C, attribute(2, "target"), true) + "CSUM";
  std::string body = v2_message(0x0C, attribute(3, "target"), true) + v2_message(0x0C, attribute(3, "zzz"), true) +
                     v2_message(0x10, continuation(1024, ochk.size()), true) + std::string(3, '\0');  // a gap
  std::string file(100, 'x');
  file += std::string("OHDR\x02\x25", 6) + std::string(16, 'T') + le(body.size(), 2) + body + "CSUM";
  file.resize(1024, 'y');
  file += ochk + std::string(16, 'z');
  const auto found = find(file, 100, "target");
  ASSERT_EQ(found.size(), 2u);  // message order: chunk 0, then the continuation chunk
  EXPECT_EQ(found[0].offset, data_at(file));
  EXPECT_EQ(found[1].offset, data_at(file, 1024));
  // Attribute phase change values (0x10) and a 1-byte chunk size, no creation order.
  const std::string small = v2_message(0x0C, attribute(3, "target"), false);
  std::string g = std::string(8, 'x') + std::string("OHDR\x02\x10", 6) + "PPPP" + le(small.size(), 1) + small + "CSUM";
  const auto one = find(g, 8, "target");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].offset, data_at(g));
}

TEST(H5ObjectHeader, SharedMessagesAreSkipped) {
  const std::string chunk = v1_message(0x0C, attribute(1, "target"), 0x02);
  const std::string file = v1_prefix(chunk.size()) + chunk;
  EXPECT_TRUE(find(file, 0, "target").empty());
}

TEST(H5ObjectHeader, DamageEndsTheSearchWithoutACrash) {
  const std::string chunk = v1_message(0x0C, attribute(1, "target"));
  const std::string good = v1_prefix(chunk.size()) + chunk;
  ASSERT_EQ(find(good, 0, "target").size(), 1u);
  // Chunk size past the end of the file; header address past the end; an unknown version.
  std::string big = good;
  big.replace(8, 4, le(1 << 20, 4));
  EXPECT_TRUE(find(big, 0, "target").empty());
  EXPECT_TRUE(find(good, good.size() + 10, "target").empty());
  EXPECT_TRUE(find(good, ~uint64_t{0} - 4, "target", {8, 8, 16}).empty());
  std::string v3 = good;
  v3[0] = 3;
  EXPECT_TRUE(find(v3, 0, "target").empty());
  // A message size past its chunk, and name/datatype sizes past the message.
  std::string over = good;
  over.replace(16 + 2, 2, le(0xfff8, 2));
  EXPECT_TRUE(find(over, 0, "target").empty());
  std::string type_over = good;
  type_over.replace(16 + 8 + 4, 2, le(0xffff, 2));
  EXPECT_TRUE(find(type_over, 0, "target").empty());
  // Every truncation of the file.
  for (size_t n = 0; n < good.size(); ++n) EXPECT_LE(find(good.substr(0, n), 0, "target").size(), 1u) << n;
}

TEST(H5ObjectHeader, ContinuationCyclesEnd) {
  // Version 1: chunk 1 at 256 names itself as its continuation.
  const std::string target = v1_message(0x0C, attribute(1, "target"));
  const std::string c1 = target + v1_message(0x10, continuation(256, target.size() + 24));
  ASSERT_EQ(c1.size(), target.size() + 24);
  const std::string chunk0 = v1_message(0x10, continuation(256, c1.size()));
  std::string file = v1_prefix(chunk0.size()) + chunk0;
  file.resize(256, 'y');
  file += c1;
  EXPECT_EQ(find(file, 0, "target").size(), 1u);
  // Version 2: an OCHK chunk naming itself.
  const std::string inner = v2_message(0x10, continuation(512, 4 + 4 + 20), false);
  const std::string ochk = "OCHK" + inner + "CSUM";
  ASSERT_EQ(ochk.size(), 28u);
  const std::string body = v2_message(0x10, continuation(512, ochk.size()), false);
  std::string g = std::string("OHDR\x02\x00", 6) + le(body.size(), 1) + body + "CSUM";
  g.resize(512, 'y');
  g += ochk;
  EXPECT_TRUE(find(g, 0, "target").empty());
}

}  // namespace
}  // namespace minidl
