// Heap ID validation (io/hdf5_heap_check.h check_heap_ids, fed by io/hdf5_object_header.h):
// a variable-length string attribute whose heap ID names an object its collection lacks, or
// whose length is not that object's size, is a clean IOError naming the file, the object and
// the attribute before libhdf5 follows it (without the check, libhdf5 1.10 indexes the
// collection out of bounds and crashes). Sound files, version 1 headers (minidl's own writer)
// and version 2 headers (tests/io/data/v2_header_strings.h5, see make_v2_header_file.c)
// still read.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <filesystem>
#include <string>
#include <vector>

#include "io/hdf5.h"
#include "io/hdf5_heap_check.h"
#include "io/keras_model.h"
#include "layers/base/input_layer.h"
#include "layers/core/dense.h"
#include "support/assertions.h"
#include "support/files.h"
#include "support/hdf5_bytes.h"
#include "train/model.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;
using h5::detail::check_heap_ids;
using h5::detail::FileLayout;
using h5::detail::HeapCollection;
using h5::detail::HeapScan;
using namespace testing;

std::optional<uint32_t> decode_le(const std::string& b, size_t at) {
  if (at + 4 > b.size()) return std::nullopt;
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

// --- check_heap_ids on synthetic raw data ------------------------------------------------

std::string heap_id(uint64_t length, uint64_t address, uint64_t index, unsigned addr_size = 8) {
  return le(length, 4) + le(address, addr_size) + le(index, 4);
}

std::optional<std::string> check(const HeapScan& scan, const std::string& raw, uint64_t count,
                                 FileLayout layout = {}) {
  return check_heap_ids(scan, layout, {reinterpret_cast<const uint8_t*>(raw.data()), raw.size()}, 1000, count);
}

HeapScan one_collection(uint64_t at = 4096) {
  HeapScan s;
  s.collections.push_back(HeapCollection{at, {{1, 5}, {2, 0}, {3, 300}}});
  return s;
}

void expect_damage(const std::optional<std::string>& what, const std::string& part) {
  ASSERT_TRUE(what.has_value()) << "expected: " << part;
  EXPECT_NE(what->find(part), std::string::npos) << *what;
}

TEST(H5HeapId, SoundAndNullIdsPass) {
  const HeapScan s = one_collection();
  EXPECT_EQ(check(s, heap_id(5, 4096, 1) + heap_id(0, 4096, 2) + heap_id(300, 4096, 3), 3), std::nullopt);
  EXPECT_EQ(check(s, heap_id(0, 0, 0) + heap_id(0, ~uint64_t{0}, 0) + heap_id(0, 0, 9), 3), std::nullopt);
  EXPECT_EQ(check(s, "", 0), std::nullopt);
  // Only the first `count` IDs are the data; what follows is padding.
  EXPECT_EQ(check(s, heap_id(5, 4096, 1) + heap_id(9, 9, 9), 1), std::nullopt);
  // 4-byte addresses, and a base address (user block) added to the ID's address.
  EXPECT_EQ(check(s, heap_id(5, 4096, 1, 4) + heap_id(0, 0xffffffff, 0, 4), 2, {4, 8, 0}), std::nullopt);
  EXPECT_EQ(check(s, heap_id(5, 4096 - 512, 1), 1, {8, 8, 512}), std::nullopt);
}

TEST(H5HeapId, IndexTheCollectionLacks) {
  const HeapScan s = one_collection();
  expect_damage(check(s, heap_id(5, 4096, 1) + heap_id(5, 4096, 7), 2),
                "heap ID 1 of 2 (at file offset 1016) names object 7 of the global heap collection at file offset "
                "4096, which has no such object (3 objects)");
  expect_damage(check(s, heap_id(5, 4096, 0), 1), "names object 0 of the global heap collection");
  expect_damage(check(s, heap_id(5, 4096, 2147483653), 1), "names object 2147483653");
  expect_damage(check(s, heap_id(5, 4096, 65536 + 1), 1), "names object 65537");
}

TEST(H5HeapId, LengthOtherThanTheObjectSize) {
  const HeapScan s = one_collection();
  expect_damage(check(s, heap_id(6, 4096, 1), 1),
                "heap ID 0 of 1 (at file offset 1000) has length 6, but object 1 of the global heap collection at file "
                "offset 4096 holds 5 bytes");
  expect_damage(check(s, heap_id(4, 4096, 1), 1), "has length 4, but object 1");
  expect_damage(check(s, heap_id(1, 4096, 2), 1), "has length 1, but object 2");
}

TEST(H5HeapId, AddressWithoutASoundCollection) {
  const HeapScan s = one_collection();
  expect_damage(check(s, heap_id(5, 4097, 1), 1),
                "heap ID 0 of 1 (at file offset 1000) names a global heap collection at address 4097, but there is "
                "none there");
  expect_damage(check(s, heap_id(5, 0, 1), 1), "at address 0, but there is none");  // address 0 is null only empty
  expect_damage(check(s, heap_id(5, 4096, 1), 1, {8, 8, 512}), "at address 4096");  // the base is added
  expect_damage(check(s, heap_id(5, ~uint64_t{0} - 10, 1), 1, {8, 8, 512}), "but there is none");
  expect_damage(check(HeapScan{}, heap_id(5, 4096, 1), 1), "but there is none");
}

TEST(H5HeapId, RawDataTooShort) {
  expect_damage(check(one_collection(), heap_id(5, 4096, 1) + "abc", 2),
                "its raw data at file offset 1000 holds 19 bytes, too few for 2 heap IDs of 16 bytes");
  expect_damage(check(one_collection(), heap_id(5, 4096, 1), 1, {9, 8, 0}), "unsupported size of offsets 9");
}

// --- real files ---------------------------------------------------------------------------

// The offset of the heap ID (length `length`, collection at `collection`) in `bytes`: the one
// place those 12 bytes occur.
size_t find_heap_id(const std::string& bytes, uint64_t length, uint64_t collection) {
  const std::string key = le(length, 4) + le(collection, 8);
  const size_t at = bytes.find(key);
  EXPECT_NE(at, std::string::npos) << "no heap ID of length " << length;
  EXPECT_EQ(bytes.find(key, at + 1), std::string::npos) << "heap ID of length " << length << " is not unique";
  return at;
}

// `src`'s bytes with `edit` applied to the heap ID of length `length`, written to `dst`.
void patch_heap_id(const std::string& src, const std::string& dst, uint64_t length,
                   const std::function<void(std::string&, size_t)>& edit) {
  std::string bytes = read_file(src);
  const size_t at = find_heap_id(bytes, length, first_collection(bytes));
  ASSERT_NE(at, std::string::npos);
  edit(bytes, at);
  write_file(dst, bytes);
}

// Jenkins's lookup3 hash of `n` bytes with initial value 0: the checksum of HDF5's version 2
// metadata (object header chunks among them).
uint32_t lookup3(const uint8_t* k, size_t n) {
  auto rot = [](uint32_t x, int r) { return (x << r) | (x >> (32 - r)); };
  uint32_t a = 0xdeadbeef + static_cast<uint32_t>(n), b = a, c = a;
  auto word = [&](size_t at, size_t len) {
    uint32_t w = 0;
    for (size_t i = 0; i < len && i < 4; ++i) w |= static_cast<uint32_t>(k[at + i]) << (8 * i);
    return w;
  };
  while (n > 12) {
    a += word(0, 4);
    b += word(4, 4);
    c += word(8, 4);
    a -= c, a ^= rot(c, 4), c += b;
    b -= a, b ^= rot(a, 6), a += c;
    c -= b, c ^= rot(b, 8), b += a;
    a -= c, a ^= rot(c, 16), c += b;
    b -= a, b ^= rot(a, 19), a += c;
    c -= b, c ^= rot(b, 4), b += a;
    k += 12;
    n -= 12;
  }
  if (n == 0) return c;
  a += word(0, n);
  if (n > 4) b += word(4, n - 4);
  if (n > 8) c += word(8, n - 8);
  c ^= b, c -= rot(b, 14);
  a ^= c, a -= rot(c, 11);
  b ^= a, b -= rot(a, 25);
  c ^= b, c -= rot(b, 16);
  a ^= c, a -= rot(c, 4);
  b ^= a, b -= rot(a, 14);
  c ^= b, c -= rot(b, 24);
  return c;
}

// Applies `edit` to the heap ID at `id` of a version 2 object header chunk in `b` and
// rewrites that chunk's checksum. The chunk runs from the nearest "OHDR" or "OCHK" before
// the ID to the 4 bytes after it that hold its checksum in the unedited bytes.
void edit_checksummed(std::string& b, size_t id, const std::function<void(std::string&, size_t)>& edit) {
  const size_t start = std::max(b.rfind("OHDR", id) + 1, b.rfind("OCHK", id) + 1) - 1;
  ASSERT_NE(start + 1, 0u) << "no chunk signature before the heap ID";
  const auto* bytes = reinterpret_cast<const uint8_t*>(b.data());
  size_t end = id + 16;
  while (end + 4 <= b.size() && end - start < 65536 && lookup3(bytes + start, end - start) != *decode_le(b, end)) ++end;
  ASSERT_LT(end + 4, b.size()) << "no checksum found after the heap ID";
  edit(b, id);
  b.replace(end, 4, le(lookup3(bytes + start, end - start), 4));
}

void set_index(std::string& b, size_t id, uint32_t index) { b.replace(id + 12, 4, le(index, 4)); }
void set_length(std::string& b, size_t id, uint32_t length) { b.replace(id, 4, le(length, 4)); }

// A file written by minidl's h5 writer (version 1 object headers): "target" after enough
// attributes that it lives in a continuation chunk.
std::string written_file(const fs::path& dir) {
  const std::string path = (dir / "strings.h5").string();
  h5::H5File f = h5::H5File::create(path);
  f.root().write_string_attr("keras_version", "2.4.0");
  for (int i = 0; i < 40; ++i) f.root().write_string_attr("pad" + std::to_string(i), std::string(30, 'p'));
  f.root().write_string_attr("target", "hello world");
  f.root().write_string_attr("empty", "");
  return path;
}

TEST(H5HeapId, Version1HeaderFromMinidlsWriter) {
  const fs::path dir = fresh_dir();
  const std::string good = written_file(dir);
  {
    const h5::Group root = h5::H5File::open_read(good).root();
    EXPECT_EQ(root.read_string_attr("target"), "hello world");
    EXPECT_EQ(root.read_string_attr("empty"), "");
    EXPECT_EQ(root.read_string_attr("pad39"), std::string(30, 'p'));
  }
  const std::string index = (dir / "index.h5").string();
  patch_heap_id(good, index, 11, [](std::string& b, size_t id) { set_index(b, id, 999); });
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] { h5::H5File::open_read(index).root().read_string_attr("target"); },
      {index + ": /: attribute 'target': damaged variable-length string: heap ID 0 of 1", "names object 999",
       "which has no such object"}));
  EXPECT_EQ(h5::H5File::open_read(index).root().read_string_attr("keras_version"), "2.4.0");  // others still read
  for (uint32_t length : {200u, 10u, 0u}) {
    const std::string bad = (dir / ("length" + std::to_string(length) + ".h5")).string();
    patch_heap_id(good, bad, 11, [&](std::string& b, size_t id) { set_length(b, id, length); });
    EXPECT_TRUE(ThrowsQuietly<IOError>([&] { h5::H5File::open_read(bad).root().read_string_attr("target"); },
                                       {bad + ": /: attribute 'target'", "has length " + std::to_string(length),
                                        "holds 11 bytes"}));
  }
  // A null heap ID (address 0, length 0) is the null string, which reads as empty. One with
  // the undefined address (all 0xff) passes the check as null too.
  const std::string null_id = (dir / "null.h5").string();
  patch_heap_id(good, null_id, 11, [](std::string& b, size_t id) { b.replace(id, 16, std::string(16, '\0')); });
  EXPECT_EQ(h5::H5File::open_read(null_id).root().read_string_attr("target"), "");
  const std::string undefined = (dir / "undefined.h5").string();
  patch_heap_id(good, undefined, 11, [](std::string& b, size_t id) {
    b.replace(id, 16, std::string(4, '\0') + std::string(8, '\xff') + std::string(4, '\0'));
  });
  try {  // libhdf5 1.10 refuses the undefined address itself
    EXPECT_EQ(h5::H5File::open_read(undefined).root().read_string_attr("target"), "");
  } catch (const IOError& e) {
    EXPECT_EQ(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot read variable-length strings"), std::string::npos) << e.what();
  }
}

TEST(H5HeapId, InMemoryImage) {
  const fs::path dir = fresh_dir();
  std::string bytes = read_file(written_file(dir));
  const size_t id = find_heap_id(bytes, 11, first_collection(bytes));
  ASSERT_NE(id, std::string::npos);
  const std::span<const uint8_t> image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  EXPECT_EQ(h5::H5File::open_from_memory(image, "in.keras/model.weights.h5").root().read_string_attr("target"),
            "hello world");
  set_index(bytes, id, 0x7fffffff);
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] { h5::H5File::open_from_memory(image, "in.keras/model.weights.h5").root().read_string_attr("target"); },
      {"in.keras/model.weights.h5: /: attribute 'target': damaged variable-length string", "names object 2147483647"}));
}

const fs::path kData = fs::path(MINIDL_SOURCE_DIR) / "tests" / "io" / "data";

TEST(H5HeapId, Version2HeaderWithContinuationsAndDenseStorage) {
  const std::string good = (kData / "v2_header_strings.h5").string();
  ASSERT_TRUE(fs::exists(good));
  const std::string bytes = read_file(good);
  ASSERT_NE(bytes.find("OHDR"), std::string::npos);
  ASSERT_NE(bytes.find("OCHK"), std::string::npos);
  {
    const h5::H5File f = h5::H5File::open_read(good);
    const h5::Group compact = f.root().open_group("compact");
    for (int i = 0; i < 22; ++i) {
      const std::string name = (i < 10 ? "a0" : "a") + std::to_string(i);
      EXPECT_EQ(compact.read_string_attr(name), std::string(40 + i, static_cast<char>('a' + i))) << name;
    }
    EXPECT_EQ(compact.read_string_attr("empty"), "");
    EXPECT_EQ(compact.read_string_array_attr("names"), (std::vector<std::string>{"alpha", "beta", "gamma"}));
    const h5::Group dense = f.root().open_group("dense");  // not in the header: read unchecked
    for (int i = 0; i < 12; ++i) {
      const std::string name = (i < 10 ? "d0" : "d") + std::to_string(i);
      EXPECT_EQ(dense.read_string_attr(name), std::string(5 + i, static_cast<char>('A' + i))) << name;
    }
  }
  const fs::path dir = fresh_dir();
  const std::string last = (dir / "last.h5").string();  // a21: the header's last continuation chunk
  patch_heap_id(good, last, 61, [](std::string& b, size_t id) {
    edit_checksummed(b, id, [](std::string& c, size_t at) { set_index(c, at, 300); });
  });
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] { h5::H5File::open_read(last).root().open_group("compact").read_string_attr("a21"); },
      {last + ": /compact: attribute 'a21': damaged variable-length string", "names object 300"}));
  const std::string beta = (dir / "beta.h5").string();  // the second of three strings
  patch_heap_id(good, beta, 4, [](std::string& b, size_t id) {
    edit_checksummed(b, id, [](std::string& c, size_t at) { set_length(c, at, 40); });
  });
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] { h5::H5File::open_read(beta).root().open_group("compact").read_string_array_attr("names"); },
      {beta + ": /compact: attribute 'names': damaged variable-length string: heap ID 1 of 3", "has length 40",
       "holds 4 bytes"}));
}

TEST(H5HeapId, FuzzInputThroughLoadModelIsAnIOError) {
  // A fuzzer's file: a vlen "layer_names" whose fourth heap ID names object 2147483653.
  const std::string crash = (kData / "fuzz_heap_id_index.h5").string();
  ASSERT_TRUE(fs::exists(crash));
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] { load_model(crash); },
      {crash + ": /model_weights: attribute 'layer_names': damaged variable-length string: heap ID 3 of 4",
       "names object 2147483653", "which has no such object"}));
  try {  // `minidl inspect` either reports the attribute in its text or raises; it never crashes
    const std::string text = describe_keras_file(crash);
    EXPECT_NE(text.find("damaged variable-length string"), std::string::npos) << text;
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("damaged variable-length string"), std::string::npos) << e.what();
  }
}

TEST(H5HeapId, SavedModelWithDamagedVersionIdIsAnIOError) {
  const fs::path dir = fresh_dir();
  reset_layer_names();
  auto s = std::make_shared<SequentialImpl>();
  s->add(Input({3}));
  s->add(Dense(2));
  const std::string good = (dir / "model.h5").string();
  s->save(good);
  size_t length = 0;
  {
    const h5::H5File f = h5::H5File::open_read(good);
    ASSERT_EQ(f.root().attr("keras_version").type_name(), "string (variable-length, UTF-8)");
    length = f.root().read_string_attr("keras_version").size();
  }
  const std::string bad = (dir / "bad.h5").string();
  patch_heap_id(good, bad, length, [](std::string& b, size_t id) { set_index(b, id, 40000); });
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] { load_model(bad); }, {bad + ": /: attribute 'keras_version': damaged variable-length string", "40000"}));
}

}  // namespace
}  // namespace minidl
