// io/zip: round trips through libzip, the STORED layout .keras needs, and broken archives.
#include "io/zip.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/errors.h"
#include "io/hdf5.h"
#include "support/assertions.h"
#include "support/files.h"

using namespace minidl;
namespace fs = std::filesystem;
using namespace minidl::testing;

namespace {

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

uint16_t le16(const std::string& s, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(s[at]) | (static_cast<unsigned char>(s[at + 1]) << 8));
}

}  // namespace

TEST(Zip, EntriesRoundTrip) {
  const std::string path = minidl::testing::fresh_path("a.zip");
  Bytes binary(70000);
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<uint8_t>(i * 131 + 7);
  write_zip(path, {{"metadata.json", bytes_of("{\"keras_version\": \"3.10.0\"}"), {}},
                   {"config.json", bytes_of("{}"), {}},
                   {"assets/blob.bin", binary, {}},
                   {"empty", {}, {}}});
  const auto entries = read_zip(path);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries.at("metadata.json"), bytes_of("{\"keras_version\": \"3.10.0\"}"));
  EXPECT_EQ(entries.at("config.json"), bytes_of("{}"));
  EXPECT_EQ(entries.at("assets/blob.bin"), binary);
  EXPECT_TRUE(entries.at("empty").empty());
}

TEST(Zip, EntriesAreStoredUncompressedInTheGivenOrder) {
  const std::string path = minidl::testing::fresh_path("a.zip");
  const std::string text(1000, 'a');  // would deflate to almost nothing
  write_zip(path, {{"z_first.json", bytes_of(text), {}}, {"a_second.h5", bytes_of("xyz"), {}}});
  const std::string file = read_file(path);
  ASSERT_EQ(file.substr(0, 4), std::string("PK\x03\x04", 4));
  EXPECT_EQ(le16(file, 8), 0);  // compression method of the first local header: 0 = stored
  EXPECT_EQ(file.substr(30, 12), "z_first.json");
  EXPECT_NE(file.find(text), std::string::npos);
  EXPECT_LT(file.find("z_first.json"), file.find("a_second.h5"));
}

TEST(Zip, ModificationTimeIsKept) {
  const std::string path = minidl::testing::fresh_path("a.zip");
  // 1980-01-01 00:00 local time, the date Keras gives its JSON entries.
  std::tm tm{};
  tm.tm_year = 80;
  tm.tm_mday = 1;
  tm.tm_isdst = -1;
  write_zip(path, {{"config.json", bytes_of("{}"), std::mktime(&tm)}});
  const std::string file = read_file(path);
  EXPECT_EQ(le16(file, 10), 0);                        // DOS time 00:00:00
  EXPECT_EQ(le16(file, 12), (0 << 9) | (1 << 5) | 1);  // DOS date: year 1980 + 0, month 1, day 1
}

TEST(Zip, EmptyArchiveIsValid) {
  const std::string path = minidl::testing::fresh_path("e.zip");
  write_zip(path, {});
  EXPECT_EQ(fs::file_size(path), 22u);
  EXPECT_TRUE(read_zip(path).empty());
}

TEST(Zip, Hdf5WeightsInsideAZipReadFromMemory) {
  const std::string path = minidl::testing::fresh_path("m.keras");
  std::vector<uint8_t> image;
  {
    h5::H5File f = h5::H5File::create_in_memory("model.weights.h5");
    f.root().write_tensor("layers/dense/vars/0", Tensor::arange({3, 2}));
    image = f.image();
  }
  write_zip(path, {{"config.json", bytes_of("{}"), {}}, {"model.weights.h5", image, {}}});
  const auto entries = read_zip(path);
  h5::H5File w = h5::H5File::open_from_memory(entries.at("model.weights.h5"), path + "/model.weights.h5");
  EXPECT_EQ(w.root().open_dataset("layers/dense/vars/0").read_tensor().to_vector(), Tensor::arange({3, 2}).to_vector());
}

TEST(Zip, BadArchivesAreIOErrors) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = (dir / "bad.keras").string();
  write_file(path, "this is not a zip archive, only text");
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_zip(path); }, {path, "not a readable zip archive"}));
  write_file(path, "");
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_zip(path); }, {path, "empty file"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_zip((dir / "absent.zip").string()); }, {"absent.zip: no such file"}));
}

TEST(Zip, TruncatedAndCorruptedArchivesAreIOErrors) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string good_path = (dir / "good.zip").string();
  write_zip(good_path, {{"config.json", bytes_of(std::string(500, 'c')), {}}});
  const std::string good = read_file(good_path);
  const std::string path = (dir / "bad.zip").string();
  write_file(path, good.substr(0, good.size() - 10));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_zip(path); }, {path}));
  std::string flipped = good;
  flipped[100] = static_cast<char>(flipped[100] ^ 1);  // inside the stored data: CRC mismatch
  write_file(path, flipped);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_zip(path); }, {path, "config.json"}));
}

TEST(Zip, LimitsAreCheckedBeforeReading) {
  const std::string path = minidl::testing::fresh_path("big.zip");
  write_zip(path, {{"a", Bytes(1000), {}}, {"b", Bytes(1000), {}}});
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_zip(path, {.max_entry_bytes = 999}); }, {"entry 'a'", "limit 999"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_zip(path, {.max_total_bytes = 1500}); }, {"1500"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_zip(path, {.max_entries = 1}); }, {"2 entries"}));
}

TEST(Zip, WriterRejectsDuplicateNamesAndKeepsTheOldFile) {
  const std::string path = minidl::testing::fresh_path("k.zip");
  write_file(path, "old");
  EXPECT_THROW(write_zip(path, {{"x", {}, {}}, {"x", {}, {}}}), ValueError);
  EXPECT_THROW(write_zip(path, {{"", {}, {}}}), ValueError);
  EXPECT_EQ(read_file(path), "old");
}
