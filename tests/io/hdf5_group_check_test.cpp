// Link and attribute storage checks (io/hdf5_link_storage.h, run by io/hdf5_group_check.cpp
// on every group and dataset minidl opens or traverses): a Link Info, Attribute Info or
// Symbol Table message naming storage that is not there is a clean IOError naming the file,
// the object, the message and the address before libhdf5 follows it (without the check,
// libhdf5 1.10 opens a v2 B-tree at the undefined address and crashes). Dense groups written
// by minidl, version 2 headers with dense links and attributes
// (tests/io/data/v2_header_strings.h5) and old-style groups still read. Also the check of a
// variable-length string attribute's character size (io/hdf5_heap_check.h).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "io/hdf5.h"
#include "io/hdf5_heap_check.h"
#include "io/hdf5_link_storage.h"
#include "io/keras_model.h"
#include "support/assertions.h"
#include "support/files.h"
#include "support/hdf5_bytes.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;
using h5::detail::FileLayout;
using h5::detail::find_storage_damage;
using h5::detail::MemoryBytes;
using namespace testing;

constexpr uint64_t kUndefined = ~uint64_t{0};
const fs::path kData = fs::path(MINIDL_SOURCE_DIR) / "tests" / "io" / "data";

// --- find_storage_damage on synthetic images ---------------------------------------------

// A file image: a version 1 object header at address 0 holding `messages` (type, body),
// and at fixed offsets a fractal heap header, a v2 B-tree header, a v1 B-tree node and a
// local heap whose 88-byte data segment follows it; 4096 bytes in all.
constexpr uint64_t kHeap = 512, kBtree2 = 1024, kBtree1 = 1536, kLocalHeap = 2048, kSize = 4096;

std::string image(const std::vector<std::pair<unsigned, std::string>>& messages, uint64_t data_size = 88) {
  std::string body;
  for (auto [type, b] : messages) {
    b.resize((b.size() + 7) / 8 * 8, '\0');
    body += le(type, 2) + le(b.size(), 2) + le(0, 4) + b;
  }
  std::string out = le(1, 1) + le(0, 1) + le(messages.size(), 2) + le(1, 4) + le(body.size(), 4) + le(0, 4) + body;
  out.resize(kSize, '\0');
  auto put = [&](uint64_t at, const std::string& s) { out.replace(at, s.size(), s); };
  put(kHeap, "FRHP");
  put(kBtree2, "BTHD");
  put(kBtree1, "TREE");
  put(kLocalHeap, "HEAP" + le(0, 4) + le(data_size, 8) + le(0, 8) + le(kLocalHeap + 32, 8));
  return out;
}

std::optional<std::string> damage(const std::string& bytes, FileLayout layout = {}) {
  const MemoryBytes b({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  return find_storage_damage(b, layout, 0);
}

// Link Info: version 0, flags, the maximum creation index when tracked, the addresses.
std::pair<unsigned, std::string> link_info(uint64_t heap, uint64_t names, std::optional<uint64_t> order = {}) {
  const uint8_t flags = order ? 0x03 : 0x00;
  return {0x0002, le(0, 1) + le(flags, 1) + (order ? le(7, 8) : "") + le(heap, 8) + le(names, 8) +
                      (order ? le(*order, 8) : "")};
}

void expect_damage(const std::optional<std::string>& what, const std::vector<std::string>& parts) {
  ASSERT_TRUE(what.has_value()) << "expected: " << parts.front();
  for (const auto& p : parts) EXPECT_NE(what->find(p), std::string::npos) << *what << "\nlacks: " << p;
}

TEST(H5LinkStorage, SoundLinkInfoPasses) {
  EXPECT_EQ(damage(image({link_info(kUndefined, kUndefined)})), std::nullopt);  // compact storage
  EXPECT_EQ(damage(image({link_info(kUndefined, kUndefined, kUndefined)})), std::nullopt);
  EXPECT_EQ(damage(image({link_info(kHeap, kBtree2)})), std::nullopt);  // dense storage
  EXPECT_EQ(damage(image({link_info(kHeap, kBtree2, kBtree2)})), std::nullopt);
  EXPECT_EQ(damage(image({})), std::nullopt);  // no storage messages at all
}

TEST(H5LinkStorage, LinkInfoAddressesAreChecked) {
  // The fuzzer's damage: a fractal heap address far past the end of the file.
  expect_damage(damage(image({link_info(0xffffffff08000001, kUndefined, kUndefined)})),
                {"Link Info message at file offset 24",
                 "fractal heap address 18446744069548802049 (0xffffffff08000001)",
                 "no room for a 146-byte fractal heap header inside the file (4096 bytes)"});
  // A defined heap makes libhdf5 open the name index: it must be defined too.
  expect_damage(damage(image({link_info(kHeap, kUndefined)})),
                {"fractal heap address 512 is defined but the name index v2 B-tree address is undefined"});
  expect_damage(damage(image({link_info(kHeap, kHeap)})),
                {"name index v2 B-tree address 512 holds \"FRHP\", not a v2 B-tree header (\"BTHD\")"});
  expect_damage(damage(image({link_info(kBtree2, kBtree2)})), {"fractal heap address 1024 holds \"BTHD\""});
  expect_damage(damage(image({link_info(kHeap, kBtree2, kBtree1)})),
                {"creation order index v2 B-tree address 1536 holds \"TREE\""});
  expect_damage(damage(image({link_info(kHeap, 3000)})), {"address 3000 holds bytes 00 00 00 00"});
  // Room for the whole fixed-size header, not just the signature.
  std::string near_end = image({link_info(kHeap, kSize - 30)});
  near_end.replace(kSize - 30, 4, "BTHD");
  expect_damage(damage(near_end), {"address 4066", "no room for a 38-byte v2 B-tree header"});
  // A body too short for the fields its flags promise.
  std::pair<unsigned, std::string> cut = link_info(kHeap, kBtree2, kBtree2);
  cut.second.resize(26);
  expect_damage(damage(image({cut})), {"its body of 32 bytes is shorter than the 34 bytes its flags 0x03 call for"});
  // Versions libhdf5 refuses by itself are left to it.
  std::pair<unsigned, std::string> v1 = link_info(kHeap, kUndefined);
  v1.second[0] = 1;
  EXPECT_EQ(damage(image({v1})), std::nullopt);
}

TEST(H5LinkStorage, AttributeInfoAddressesAreChecked) {
  auto attribute_info = [](uint64_t heap, uint64_t names) {
    return std::pair<unsigned, std::string>{0x0015, le(0, 1) + le(1, 1) + le(3, 2) + le(heap, 8) + le(names, 8)};
  };
  EXPECT_EQ(damage(image({attribute_info(kHeap, kBtree2)})), std::nullopt);
  EXPECT_EQ(damage(image({attribute_info(kUndefined, kUndefined)})), std::nullopt);
  expect_damage(damage(image({attribute_info(kHeap, kLocalHeap)})),
                {"Attribute Info message", "name index v2 B-tree address 2048 holds \"HEAP\""});
  expect_damage(damage(image({attribute_info(kHeap, kUndefined)})), {"name index v2 B-tree address is undefined"});
}

TEST(H5LinkStorage, SymbolTableAddressesAreChecked) {
  auto symbol_table = [](uint64_t tree, uint64_t heap) {
    return std::pair<unsigned, std::string>{0x0011, le(tree, 8) + le(heap, 8)};
  };
  EXPECT_EQ(damage(image({symbol_table(kBtree1, kLocalHeap)})), std::nullopt);
  expect_damage(damage(image({symbol_table(kBtree2, kLocalHeap)})),
                {"Symbol Table message", "v1 B-tree address 1024 holds \"BTHD\", not a v1 B-tree node (\"TREE\")"});
  expect_damage(damage(image({symbol_table(kBtree1, kUndefined)})), {"local heap address 18446744073709551615"});
  expect_damage(damage(image({symbol_table(kBtree1, kLocalHeap)}, 1u << 20)),
                {"data segment of 1048576 bytes at address 2080, which does not fit inside the file (4096 bytes)"});
}

TEST(H5LinkStorage, LinkMessagesDecode) {
  // Version 1; flags: 1-byte name length, creation order (0x04), link type (0x08),
  // character set (0x10); then the name and the link's information.
  auto link_message = [](uint8_t flags, const std::string& fields, const std::string& name, const std::string& info) {
    return std::pair<unsigned, std::string>{0x0006, le(1, 1) + le(flags, 1) + fields + le(name.size(), 1) + name + info};
  };
  EXPECT_EQ(damage(image({link_message(0x04, le(3, 8), "dense", le(kHeap, 8))})), std::nullopt);  // hard
  EXPECT_EQ(damage(image({link_message(0x08, le(1, 1), "soft", le(4, 2) + "/a/b")})), std::nullopt);
  EXPECT_EQ(damage(image({link_message(0x18, le(64, 1) + le(1, 1), "ext", le(3, 2) + "f\0o")})), std::nullopt);
  // The fuzzer's damage: version and flags overwritten.
  std::pair<unsigned, std::string> bad = link_message(0x04, le(3, 8), "dense", le(kHeap, 8));
  bad.second[0] = static_cast<char>(0xfb);
  expect_damage(damage(image({bad})), {"Link message at file offset 24: version 251, not 1"});
  expect_damage(damage(image({link_message(0x24, le(3, 8), "dense", le(kHeap, 8))})), {"unknown flags 0x24"});
  expect_damage(damage(image({link_message(0x08, le(7, 1), "x", le(0, 2))})), {"unknown link type 7"});
  expect_damage(damage(image({link_message(0x10, le(2, 1), "x", le(kHeap, 8))})), {"unknown character set 2"});
  expect_damage(damage(image({link_message(0x00, "", "", le(kHeap, 8))})), {"its name is empty"});
  expect_damage(damage(image({link_message(0x08, le(1, 1), "soft", le(200, 2) + "/a/b")})),
                {"its link value passes the end of its 16-byte body"});
  // A name length past the body (the body is padded to 8 bytes with zeros).
  std::pair<unsigned, std::string> long_name = link_message(0x00, "", "abc", "");
  long_name.second[2] = 100;
  expect_damage(damage(image({long_name})), {"its name passes the end"});
}

TEST(H5LinkStorage, AddressesAreRelativeToTheBaseAndSizedAsTheSuperblockSays) {
  // A 512-byte user block before the header: every address is 512 less than its offset.
  const std::string shifted = std::string(512, '\0') + image({link_info(kHeap, kBtree2)});
  const MemoryBytes b({reinterpret_cast<const uint8_t*>(shifted.data()), shifted.size()});
  EXPECT_EQ(find_storage_damage(b, FileLayout{8, 8, 512}, 0), std::nullopt);
  expect_damage(find_storage_damage(b, FileLayout{8, 8, 0}, 512), {"fractal heap address 512 holds bytes 01 00 01 00"});
  // 4-byte addresses: the undefined address is 0xffffffff.
  const std::string narrow = image({{0x0002, le(0, 1) + le(0, 1) + le(0xffffffff, 4) + le(0xffffffff, 4)}});
  EXPECT_EQ(damage(narrow, FileLayout{4, 8, 0}), std::nullopt);
  expect_damage(damage(image({link_info(kHeap, kBtree2)}), FileLayout{16, 8, 0}), {"unsupported size of offsets 16"});
}

// --- the characters of variable-length strings ----------------------------------------------

TEST(H5StringDatatype, VariableLengthStringsHaveOneByteCharacters) {
  using h5::detail::check_string_datatype;
  auto check = [](const std::string& t) {
    return check_string_datatype({reinterpret_cast<const uint8_t*>(t.data()), t.size()});
  };
  // h5py's str: variable-length (class 9, version 1) string (type 1), UTF-8, 16 bytes; base
  // type an unsigned 8-bit integer (class 0) of 1 byte, bit offset 0, precision 8.
  const std::string base = le(0x10, 1) + le(0, 3) + le(1, 4) + le(0, 2) + le(8, 2);
  EXPECT_EQ(check(le(0x19, 1) + le(0x0101, 3) + le(16, 4) + base), std::nullopt);
  // A fuzzer's file: the base type's size became 0x4f434701 ("GCOL" written over it), and
  // libhdf5 1.10.8 allocates the string's length times that size (6.6 GB for 5 characters)
  // in H5T__conv_vlen under H5Aread.
  const std::string bytes = read_file(kData / "fuzz_vlen_char_size.h5");
  ASSERT_GE(bytes.size(), 0x1928u + 20);
  expect_damage(check(bytes.substr(0x1928, 20)), {"characters of 1329809153 bytes, not 1"});
  const std::string big = le(0x10, 1) + le(0, 3) + le(1329809153, 4) + le(0, 2) + le(8, 2);
  expect_damage(check(le(0x19, 1) + le(0x0101, 3) + le(16, 4) + big), {"characters of 1329809153 bytes"});
  expect_damage(check(le(0x19, 1) + le(0x0101, 3) + le(16, 4)), {"no room for its base type"});
  // Other types are not its concern: a fixed-length string, a variable-length sequence.
  EXPECT_EQ(check(le(0x13, 1) + le(0, 3) + le(15, 4)), std::nullopt);
  EXPECT_EQ(check(le(0x19, 1) + le(0, 3) + le(16, 4) + big), std::nullopt);
}

// --- whole files ---------------------------------------------------------------------------

// The whole file: the damaged character size is refused before H5Aread allocates for it.
TEST(H5GroupCheck, FuzzVlenCharacterSizeIsAnIOErrorThroughLoadModel) {
  const std::string path = (kData / "fuzz_vlen_char_size.h5").string();
  ASSERT_TRUE(fs::exists(path));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(path); }, {path, "characters of 1329809153 bytes, not 1"}));
}

TEST(H5GroupCheck, FuzzInputIsAnIOErrorThroughLoadModelAndH5) {
  // A fuzzer's file: /model_weights/conv2d/conv2d's Link Info names a fractal heap at
  // 0xffffffff08000001 (compact storage writes the undefined address there), and its name
  // index is undefined; libhdf5 1.10.8 then opens a v2 B-tree at the undefined address.
  const std::string crash = (kData / "fuzz_link_info_heap.h5").string();
  ASSERT_TRUE(fs::exists(crash));
  const std::vector<std::string> parts = {
      crash + ": /model_weights/conv2d/conv2d: damaged link or attribute storage: Link Info message at file offset " +
          "1384",
      "fractal heap address 18446744069548802049 (0xffffffff08000001) leaves no room for a 146-byte fractal heap "
      "header inside the file (32304 bytes)"};
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(crash); }, parts));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { describe_keras_file(crash); }, parts));
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] { h5::H5File::open_read(crash).root().open_dataset("model_weights/conv2d/conv2d/kernel:0"); }, parts));
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] { h5::H5File::open_read(crash).root().open_group("model_weights/conv2d/conv2d"); }, parts));
  // From a file image (the core driver's buffer is read in place).
  const std::string bytes = read_file(crash);
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] {
        h5::H5File::open_from_memory({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "in.h5")
            .root()
            .exists("model_weights/conv2d/conv2d/kernel:0");
      },
      {"in.h5: /model_weights/conv2d/conv2d: damaged link or attribute storage: Link Info message"}));
  // The groups above it are sound.
  const h5::H5File f = h5::H5File::open_read(crash);
  EXPECT_EQ(f.root().open_group("model_weights").children().size(), 4u);
  EXPECT_EQ(f.root().open_group("model_weights/conv2d").children(), std::vector<std::string>{"conv2d"});
  EXPECT_TRUE(f.root().exists("model_weights/conv2d/conv2d"));
}

TEST(H5GroupCheck, FuzzInputWithADamagedLinkMessageIsAnIOError) {
  // A fuzzer's Keras 3 weights file: the version and flags of the Link message naming
  // "dense" in /layers became 0xfb; libhdf5 1.10.8 then frees unset pointers in
  // H5G__link_release_table under H5Literate.
  const std::string crash = (kData / "fuzz_link_message.h5").string();
  ASSERT_TRUE(fs::exists(crash));
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] { h5::H5File::open_read(crash).root().open_group("layers").children(); },
      {crash + ": /layers: damaged link or attribute storage: Link message at file offset 792: version 251, not 1"}));
}

// A file minidl writes with /a holding 20 children (dense link storage: a fractal heap, a
// name index and a creation order index), one of them the group b with a dataset x.
std::string write_dense(const std::string& path) {
  h5::H5File f = h5::H5File::create(path);
  const h5::Group a = f.root().create_group("a");
  for (int i = 0; i < 19; ++i) a.write_scalar(std::to_string(100 + i).insert(0, 1, 'd'), i);
  a.create_group("b").write_scalar("x", 42);
  f.close();
  return read_file(path);
}

// The file offset of the Link Info message's fractal heap address in `bytes`: the place
// where the heap's offset is followed by a v2 B-tree header's.
size_t link_info_heap_field(const std::string& bytes) {
  const size_t heap = bytes.find("FRHP");
  EXPECT_NE(heap, std::string::npos);
  EXPECT_EQ(bytes.find("FRHP", heap + 1), std::string::npos);
  for (size_t tree = bytes.find("BTHD"); tree != std::string::npos; tree = bytes.find("BTHD", tree + 1)) {
    const size_t at = bytes.find(le(heap, 8) + le(tree, 8));
    if (at != std::string::npos) return at;
  }
  ADD_FAILURE() << "no Link Info naming the fractal heap";
  return 0;
}

TEST(H5GroupCheck, DenseGroupsReadAndTheirDamageIsReported) {
  const fs::path dir = fresh_dir();
  const std::string good = (dir / "dense.h5").string();
  const std::string bytes = write_dense(good);
  const size_t field = link_info_heap_field(bytes);
  ASSERT_GT(field, 0u);
  {
    const h5::H5File f = h5::H5File::open_read(good);
    const std::vector<std::string> names = f.root().open_group("a").children(h5::Order::kCreation);
    ASSERT_EQ(names.size(), 20u);
    EXPECT_EQ(names.front(), "d100");
    EXPECT_EQ(names.back(), "b");
    EXPECT_EQ(f.root().open_dataset("a/b/x").read_scalar(), 42.0);
    const h5::H5File m = h5::H5File::open_from_memory({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                                                      "dense in memory");
    EXPECT_EQ(m.root().open_group("a").children().size(), 20u);
    EXPECT_TRUE(m.root().exists("/a/b/x"));
  }
  // The name index made undefined: the state libhdf5 crashes on.
  std::string undefined_names = bytes;
  undefined_names.replace(field + 8, 8, std::string(8, '\xff'));
  const std::string bad = (dir / "undefined_names.h5").string();
  write_file(bad, undefined_names);
  const std::string why = "is defined but the name index v2 B-tree address is undefined";
  const h5::H5File f = h5::H5File::open_read(bad);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { f.root().open_group("a"); },
                                     {bad + ": /a: damaged link or attribute storage: Link Info message", why}));
  // As an intermediate group of a longer path, before libhdf5 looks b up in it.
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { f.root().exists("a/b/x"); }, {bad + ": /a: damaged", why}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { f.root().open_dataset("/a/b/x"); }, {bad + ": /a: damaged", why}));
  // The name index pointing at the fractal heap.
  std::string heap_as_names = bytes;
  heap_as_names.replace(field + 8, 8, heap_as_names.substr(field, 8));
  const std::string wrong = (dir / "wrong_signature.h5").string();
  write_file(wrong, heap_as_names);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { h5::H5File::open_read(wrong).root().open_group("a").children(); },
                                     {wrong + ": /a: damaged link or attribute storage", "name index v2 B-tree address",
                                      "holds \"FRHP\", not a v2 B-tree header (\"BTHD\")"}));
}

TEST(H5GroupCheck, Version2HeadersWithDenseLinksAndAttributesRead) {
  // The root holds 24 links and /dense 12 attributes, both in dense storage.
  const std::string good = (kData / "v2_header_strings.h5").string();
  ASSERT_TRUE(fs::exists(good));
  const h5::H5File f = h5::H5File::open_read(good);
  const std::vector<std::string> names = f.root().children();
  EXPECT_EQ(names.size(), 24u);
  for (const std::string& name : names) EXPECT_TRUE(f.root().is_group(name)) << name;
  EXPECT_EQ(f.root().open_group("dense").attr_names().size(), 12u);
}

}  // namespace
}  // namespace minidl
