// Hostile .keras archives: members declaring huge sizes, inflating past their declared size,
// flipped bytes (CRC-32), deflate bombs and names escaping a folder are clean, fast IOErrors
// raised before anything large is inflated or allocated; normal archives still load.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zip.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "core/errors.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "layers/core/dense.h"
#include "support/assertions.h"
#include "support/files.h"
#include "train/model.h"

using namespace minidl;
namespace fs = std::filesystem;
using namespace minidl::testing;

namespace {

struct Member {
  std::string name;
  std::string data;
  bool deflate = false;
};

// An archive written by libzip itself, members deflated (level 9) or stored.
void make_zip(const std::string& path, const std::vector<Member>& members) {
  int code = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  ASSERT_NE(za, nullptr);
  for (const auto& m : members) {
    zip_source_t* src = zip_source_buffer(za, m.data.data(), m.data.size(), 0);
    ASSERT_NE(src, nullptr);
    const zip_int64_t i = zip_file_add(za, m.name.c_str(), src, ZIP_FL_ENC_UTF_8);
    ASSERT_GE(i, 0) << zip_strerror(za);
    ASSERT_EQ(zip_set_file_compression(za, i, m.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 9), 0);
  }
  ASSERT_EQ(zip_close(za), 0);
}

void put_u32(std::string& bytes, size_t at, uint32_t v) {
  for (int k = 0; k < 4; ++k) bytes[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
}

// Rewrites the uncompressed size a member's local header and central directory record declare
// (byte offsets of the zip format's fixed header fields). False when the member is not found.
bool patch_declared_size(const std::string& path, const std::string& name, uint32_t size) {
  std::string bytes = read_file(path);
  int patched = 0;
  for (size_t at = bytes.find("PK\x03\x04"); at != std::string::npos; at = bytes.find("PK\x03\x04", at + 4))
    if (bytes.compare(at + 30, name.size(), name) == 0) put_u32(bytes, at + 22, size), ++patched;
  for (size_t at = bytes.find("PK\x01\x02"); at != std::string::npos; at = bytes.find("PK\x01\x02", at + 4))
    if (bytes.compare(at + 46, name.size(), name) == 0) put_u32(bytes, at + 24, size), ++patched;
  write_file(path, bytes);
  return patched == 2;
}

std::string keras_config(const std::string& path) {
  const Bytes b = read_zip(path).at("config.json");
  return {b.begin(), b.end()};
}

// A small saved model and its .keras file.
std::string saved_keras(const fs::path& dir, Sequential* out = nullptr) {
  reset_layer_names();
  Sequential model({Dense(4, {.input_shape = Shape{3}}), Dense(2)});
  const std::string path = (dir / "m.keras").string();
  model->save(path);
  if (out) *out = model;
  return path;
}

// Runs f and returns its duration in seconds.
double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST(ZipLimits, NormalKerasArchivesStillLoadStoredOrDeflated) {
  const fs::path dir = minidl::testing::fresh_dir();
  Sequential model;
  const std::string path = saved_keras(dir, &model);
  const Tensor x = Tensor::uniform({5, 3});
  EXPECT_EQ(load_model(path)->predict(x).to_vector(), model->predict(x).to_vector());
  // The same members deflated, as Python's zipfile writes them with ZIP_DEFLATED.
  const auto entries = read_zip(path);
  std::vector<Member> members;
  for (const auto& [name, data] : entries) members.push_back({name, std::string(data.begin(), data.end()), true});
  const std::string deflated = (dir / "deflated.keras").string();
  make_zip(deflated, members);
  const ZipReader zip(deflated);
  for (const auto& m : zip.members()) EXPECT_FALSE(m.stored) << m.name;
  EXPECT_EQ(load_model(deflated)->predict(x).to_vector(), model->predict(x).to_vector());
}

TEST(ZipLimits, ConfigDeclaringMoreThanItsLimitIsRefusedBeforeInflating) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = (dir / "big_config.keras").string();
  // 200 KB stored, declared as 100 MiB: a ratio of 500:1 passes the directory check, the
  // 64 MiB config.json limit refuses it.
  make_zip(path, {{"config.json", std::string(200000, ' ')}, {"model.weights.h5", "x"}});
  ASSERT_TRUE(patch_declared_size(path, "config.json", 100u << 20));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(path); },
                                   {path, "config.json", "declares 104857600 bytes", "67108864 allowed"}));
}

TEST(ZipLimits, MembersDeclaringGigabytesAreRefusedFast) {
  // config.json and model.weights.h5 each declaring 1.9 GiB: refused before anything is inflated.
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = saved_keras(dir);
  ASSERT_TRUE(patch_declared_size(path, "config.json", 1900u << 20));
  ASSERT_TRUE(patch_declared_size(path, "model.weights.h5", 1900u << 20));
  double took = 0;
  for (auto* f : {+[](const std::string& p) { load_model(p); }, +[](const std::string& p) { describe_keras_file(p); }})
    took += seconds([&] { EXPECT_TRUE(ThrowsQuietly<IOError>([&] { f(path); }, {path, "config.json", "1992294400"})); });
  EXPECT_LT(took, 2.0);
}

TEST(ZipLimits, DeflateBombIsRefusedBeforeInflating) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = (dir / "bomb.keras").string();
  // 16 MiB of zeros deflate to about 16 KB (1030:1).
  make_zip(path, {{"config.json", "{}"}, {"model.weights.h5", std::string(16 << 20, '\0'), true}});
  EXPECT_LT(fs::file_size(path), 100000u);
  const double took = seconds([&] {
    EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(path); },
                                     {path, "model.weights.h5", "16777216 bytes uncompressed", "1000:1"}));
  });
  EXPECT_LT(took, 1.0);
  // The ratio only applies to members above 1 MiB; and a higher limit lets the member through.
  EXPECT_EQ(ZipReader(path, {.max_ratio = 2000}).read("model.weights.h5", 16 << 20).size(), 16u << 20);
}

TEST(ZipLimits, MemberInflatingPastItsDeclaredSizeStopsThere) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = (dir / "longer.zip").string();
  std::string text(300000, 'a');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + (i * 7919 % 26));
  make_zip(path, {{"config.json", text, true}});
  ASSERT_TRUE(patch_declared_size(path, "config.json", 1000));
  const ZipReader zip(path);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { zip.read("config.json", 1 << 20); },
                                   {path, "config.json", "more than its declared 1000 bytes"}));
}

TEST(ZipLimits, StoredMemberShorterOrLongerThanDeclaredIsAnIOError) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = (dir / "s.zip").string();
  make_zip(path, {{"config.json", std::string(5000, 'c')}});
  ASSERT_TRUE(patch_declared_size(path, "config.json", 4000));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_zip(path); }, {path, "config.json"}));
  make_zip(path, {{"config.json", std::string(5000, 'c')}});
  ASSERT_TRUE(patch_declared_size(path, "config.json", 6000));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { read_zip(path); }, {path, "config.json"}));
}

TEST(ZipLimits, FlippedByteInAStoredMemberIsACrcMismatch) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = saved_keras(dir);
  const std::string good = read_file(path);
  const std::string cfg = keras_config(path);
  // A byte in the middle of config.json's data, then one in model.weights.h5's.
  std::string bytes = good;
  const size_t at = bytes.find(cfg);
  ASSERT_NE(at, std::string::npos);
  bytes[at + cfg.size() / 2] ^= 0x01;
  write_file(path, bytes);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(path); }, {path, "config.json", "CRC-32 mismatch", "declares"}));
  bytes = good;
  const size_t hdf5 = bytes.find("\x89HDF\r\n");
  ASSERT_NE(hdf5, std::string::npos);
  bytes[hdf5 + 600] ^= 0x01;
  write_file(path, bytes);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(path); }, {path, "model.weights.h5", "CRC-32 mismatch"}));
  // inspect reports the failing member on its line instead of stopping.
  const std::string described = describe_keras_file(path);
  EXPECT_NE(described.find("model.weights.h5"), std::string::npos) << described;
  EXPECT_NE(described.find("CRC-32 mismatch"), std::string::npos) << described;
}

TEST(ZipLimits, NamesEscapingAFolderRefuseTheArchive) {
  const fs::path dir = minidl::testing::fresh_dir();
  for (const std::string bad : {"../evil.json", "assets/../../evil.json", "/etc/evil.json", "C:evil", "a\\..\\b"}) {
    const std::string path = (dir / "t.keras").string();
    make_zip(path, {{"config.json", "{}"}, {bad, "x"}});
    EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(path); }, {path, bad, "'..'"})) << bad;
  }
  EXPECT_FALSE(fs::exists(dir.parent_path() / "evil.json"));
}

TEST(ZipLimits, MissingMemberAndPerMemberLimitNameWhatWasExpected) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = (dir / "a.zip").string();
  make_zip(path, {{"config.json", std::string(3000, 'x')}});
  const ZipReader zip(path);
  ASSERT_EQ(zip.members().size(), 1u);
  EXPECT_EQ(zip.members()[0].size, 3000);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { zip.read("model.weights.h5", 100); },
                                   {path, "model.weights.h5", "missing from the archive"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { zip.read("config.json", 2999); },
                                   {path, "config.json", "declares 3000 bytes", "2999 allowed"}));
  EXPECT_EQ(zip.read("config.json", 3000).size(), 3000u);
}

TEST(ZipLimits, InspectSaysMembersAreCrcChecked) {
  const fs::path dir = minidl::testing::fresh_dir();
  const std::string path = saved_keras(dir);
  const std::string out = describe_keras_file(path);
  EXPECT_NE(out.find("checksums: zip CRC-32 on 3 member(s), 3 of them match"), std::string::npos) << out;
  EXPECT_NE(out.find("model.weights.h5 checksums: fletcher32 on 4 of 4 datasets"), std::string::npos) << out;
}
