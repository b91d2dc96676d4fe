// Global heap validation (io/hdf5_heap_check.h): damaged collections behind variable-length
// string attributes are a clean IOError naming the file and the attribute before libhdf5
// reads them (without the check, libhdf5 1.10 copies by the damaged sizes and crashes),
// and every sound file — the shared Keras files and the files minidl writes — passes.
#include <gtest/gtest.h>

#include <cstring>
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
using h5::detail::find_heap_damage;
using h5::detail::HeapDamage;
using h5::detail::MemoryBytes;
using namespace testing;

// --- synthetic collections ---------------------------------------------------------------

struct Obj {
  uint16_t index;
  std::string data;
};

// A collection of `size` bytes holding `objs`, closed by a free-space object, with
// `length_size`-byte lengths.
std::string collection(const std::vector<Obj>& objs, uint64_t size = 4096, unsigned length_size = 8) {
  std::string c(size, '\0');
  std::memcpy(c.data(), "GCOL\x01", 5);
  put_le(c, 8, size, length_size);
  size_t p = 8 + length_size;
  for (const Obj& o : objs) {
    put_le(c, p, o.index, 2);
    put_le(c, p + 2, 1, 2);
    put_le(c, p + 8, o.data.size(), length_size);
    std::memcpy(c.data() + p + 8 + length_size, o.data.data(), o.data.size());
    p += 8 + length_size + (o.data.size() + 7) / 8 * 8;
  }
  if (size - p >= 8 + length_size) put_le(c, p + 8, size - p, length_size);  // free space: index 0
  return c;
}

std::optional<HeapDamage> scan(const std::string& bytes, unsigned length_size = 8) {
  return find_heap_damage(MemoryBytes({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}), length_size);
}

const std::vector<Obj> kObjects = {{1, "2.4.0"}, {2, "tensorflow"}, {3, std::string(300, '{')}};
constexpr size_t kPrefix = 2048;  // where the collection sits in the synthetic files
constexpr size_t kFirstObject = kPrefix + 16;

TEST(H5GlobalHeap, SoundCollectionsPass) {
  EXPECT_EQ(scan(std::string(kPrefix, 'x') + collection(kObjects) + std::string(100, 'y')), std::nullopt);
  EXPECT_EQ(scan(std::string(kPrefix, 'x') + collection(kObjects, 8192)), std::nullopt);  // bigger, at the end
  EXPECT_EQ(scan(collection({}, 4096, 4), 4), std::nullopt);
  EXPECT_EQ(scan(collection(kObjects, 4096, 4), 4), std::nullopt);
  EXPECT_EQ(scan(std::string(5000, 'x')), std::nullopt);          // no collection at all
  EXPECT_EQ(scan(std::string("GCOL\x02") + std::string(100, '\xff')), std::nullopt);  // not version 1
  EXPECT_EQ(scan(""), std::nullopt);
  // Objects filling the collection exactly, with no free space left.
  EXPECT_EQ(scan(collection({{1, std::string(4096 - 32, 'a')}})), std::nullopt);
}

TEST(H5GlobalHeap, ObjectSizePastTheCollection) {
  std::string f = std::string(kPrefix, 'x') + collection(kObjects);
  put_le(f, kFirstObject + 8, 0x7fffffff, 8);
  const auto d = scan(f);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->offset, kPrefix);
  EXPECT_NE(d->what.find("object 1 at file offset 2064 has size 2147483647"), std::string::npos) << d->what;
  // Barely too big: the size fits, the size padded to a multiple of 8 does not.
  std::string g = collection({{1, "a"}}, 4100);
  put_le(g, 16 + 8, 4100 - 32 - 3, 8);
  EXPECT_TRUE(scan(g).has_value());
  put_le(g, 16 + 8, 4100 - 32 - 4, 8);
  EXPECT_EQ(scan(g), std::nullopt);
  // A size that overflows when padded.
  put_le(g, 16 + 8, ~uint64_t{0}, 8);
  EXPECT_TRUE(scan(g).has_value());
}

TEST(H5GlobalHeap, CollectionSizePastTheEndOfFile) {
  std::string f = std::string(kPrefix, 'x') + collection(kObjects);
  put_le(f, kPrefix + 8, 4097, 8);
  auto d = scan(f);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->offset, kPrefix);
  EXPECT_NE(d->what.find("collection size 4097 passes the end of the file"), std::string::npos) << d->what;
  put_le(f, kPrefix + 8, ~uint64_t{0}, 8);
  EXPECT_TRUE(scan(f).has_value());
  // The header itself cut off by the end of the file.
  EXPECT_TRUE(scan(std::string(100, 'x') + "GCOL\x01\0\0\0\0\x10").has_value());
}

TEST(H5GlobalHeap, CollectionBelowTheMinimumSize) {
  const auto d = scan(std::string(kPrefix, 'x') + collection({{1, "ab"}}, 64));
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->what.find("collection size 64 is below the minimum of 4096"), std::string::npos) << d->what;
}

TEST(H5GlobalHeap, FreeSpaceMustCloseTheCollection) {
  const std::string good = collection(kObjects);
  const size_t free_at = 16 + (16 + 8) + (16 + 16) + (16 + 304);
  ASSERT_EQ(good[free_at + 8], static_cast<char>((4096 - free_at) & 0xff));
  std::string zero = good;  // a zero-size free-space object would make libhdf5 loop forever
  put_le(zero, free_at + 8, 0, 8);
  auto d = scan(zero);
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->what.find("free-space object at file offset " + std::to_string(free_at) + " has size 0"),
            std::string::npos)
      << d->what;
  std::string longer = good;
  put_le(longer, free_at + 8, 4096 - free_at + 8, 8);
  EXPECT_TRUE(scan(longer).has_value());
}

TEST(H5GlobalHeap, RepeatedObjectIndex) {
  const auto d = scan(collection({{1, "a"}, {2, "b"}, {1, "c"}}));
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->what.find("object index 1 appears twice"), std::string::npos) << d->what;
}

TEST(H5GlobalHeap, NonzeroReservedBytesAreStillChecked) {
  std::string f = collection(kObjects);  // libhdf5 ignores the reserved bytes, so must the scan
  f[5] = 'r';
  EXPECT_EQ(scan(f), std::nullopt);
  put_le(f, 16 + 8, 5000, 8);
  EXPECT_TRUE(scan(f).has_value());
}

TEST(H5GlobalHeap, CollectionsAcrossTheScanWindowsAreFound) {
  // The scan reads 1 MiB at a time: put the signature across that boundary.
  for (size_t before : {(size_t{1} << 20) - 2, (size_t{1} << 20) - 4, (size_t{1} << 20)}) {
    std::string f = std::string(before, 'x') + collection(kObjects) + std::string(10, 'z');
    EXPECT_EQ(scan(f), std::nullopt) << before;
    put_le(f, before + 16 + 8, 0x7fffffff, 8);
    const auto d = scan(f);
    ASSERT_TRUE(d.has_value()) << before;
    EXPECT_EQ(d->offset, before);
  }
}

TEST(H5GlobalHeap, SecondCollectionIsChecked) {
  std::string f = collection(kObjects) + collection(kObjects);
  EXPECT_EQ(scan(f), std::nullopt);
  put_le(f, 4096 + 8, 9000, 8);
  const auto d = scan(f);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->offset, 4096u);
}

TEST(H5GlobalHeap, UnsupportedLengthSize) { EXPECT_TRUE(scan(collection(kObjects), 1).has_value()); }

// --- real files ---------------------------------------------------------------------------

std::string saved_model(const fs::path& dir) {
  reset_layer_names();
  auto s = std::make_shared<SequentialImpl>();
  s->add(Input({3}));
  s->add(Dense(2));
  const std::string path = (dir / "model.h5").string();
  s->save(path);
  return path;
}

// A copy of `src` at `dst` with `edit` applied to its bytes; the first collection's offset.
size_t damaged_copy(const std::string& src, const std::string& dst, const std::function<void(std::string&, size_t)>& edit) {
  std::string bytes = read_file(src);
  const size_t at = first_collection(bytes);
  if (at != std::string::npos) edit(bytes, at);
  write_file(dst, bytes);
  return at;
}

void set_first_object_size(std::string& b, size_t at) { put_le(b, at + 16 + 8, 0x7fffffff, 8); }
void set_collection_size_past_eof(std::string& b, size_t at) { put_le(b, at + 8, b.size() - at + 4096, 8); }

TEST(H5GlobalHeap, MinidlSavedModelWithDamagedObjectSizeIsAnIOError) {
  const fs::path dir = testing::fresh_dir();
  const std::string good = saved_model(dir);
  ASSERT_NO_THROW(load_model(good));
  ASSERT_EQ(h5::H5File::open_read(good).root().attr("keras_version").type_name(), "string (variable-length, UTF-8)");
  const std::string bad = (dir / "bad.h5").string();
  const size_t at = damaged_copy(good, bad, set_first_object_size);
  ASSERT_NE(at, std::string::npos);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(bad); },
                                   {bad + ": /: attribute '", "damaged global heap collection at file offset " +
                                                                  std::to_string(at), "has size 2147483647"}));
  // describe reports unreadable attributes in its text instead of raising: no crash, and
  // the damage is named.
  std::string text;
  ASSERT_NO_THROW(text = describe_keras_file(bad));
  EXPECT_NE(text.find(bad + ": /: attribute 'keras_version': damaged global heap collection"), std::string::npos)
      << text;
}

TEST(H5GlobalHeap, MinidlSavedModelWithCollectionPastTheEndIsAnIOError) {
  const fs::path dir = testing::fresh_dir();
  const std::string bad = (dir / "bad.h5").string();
  const size_t at = damaged_copy(saved_model(dir), bad, set_collection_size_past_eof);
  ASSERT_NE(at, std::string::npos);
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] { load_model(bad); },
      {bad + ": /: attribute '", "collection at file offset " + std::to_string(at), "passes the end of the file"}));
}

TEST(H5GlobalHeap, InMemoryImageWithDamagedHeapIsAnIOError) {
  const fs::path dir = testing::fresh_dir();
  std::string bytes = read_file(saved_model(dir));
  const size_t at = first_collection(bytes);
  ASSERT_NE(at, std::string::npos);
  set_first_object_size(bytes, at);
  const std::span<const uint8_t> image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  EXPECT_TRUE(ThrowsQuietly<IOError>(
      [&] { h5::H5File::open_from_memory(image, "inside.keras/model.weights.h5").root().read_string_attr("keras_version"); },
      {"inside.keras/model.weights.h5: /: attribute 'keras_version': damaged global heap collection"}));
}

TEST(H5GlobalHeap, FileOpenForWritingIsNotScanned) {
  // Its heap may still be in libhdf5's cache only; reading back what was written works.
  const std::string path = (testing::fresh_dir() / "w.h5").string();
  h5::H5File f = h5::H5File::create(path);
  f.root().write_string_attr("note", std::string(5000, 'n'));
  EXPECT_EQ(f.root().read_string_attr("note"), std::string(5000, 'n'));
}

TEST(H5GlobalHeap, SharedKerasFileWithDamagedHeapIsAnIOError) {
  MINIDL_REQUIRE_SHARED();
  const fs::path dir = testing::fresh_dir();
  const std::string src = (testing::shared_dir() / "keras-h5" / "k2.1.3-tf_cnn-bn_model.h5").string();
  ASSERT_NO_THROW(load_model(src));
  const std::string bad = (dir / "objsize.h5").string();
  ASSERT_NE(damaged_copy(src, bad, set_first_object_size), std::string::npos);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(bad); }, {bad + ": /: attribute '", "damaged global heap"}));
  std::string text;
  ASSERT_NO_THROW(text = describe_keras_file(bad));
  EXPECT_NE(text.find("damaged global heap collection"), std::string::npos) << text;
  const std::string past = (dir / "past_eof.h5").string();
  ASSERT_NE(damaged_copy(src, past, set_collection_size_past_eof), std::string::npos);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(past); }, {past + ": /: attribute '", "passes the end of the file"}));
}

// Reads every string attribute of every group and dataset below `g`; the number read.
int read_all_string_attrs(const h5::Object& o) {
  int n = 0;
  for (const auto& name : o.attr_names()) {
    const h5::Attribute a = o.attr(name);
    if (a.type_class() == h5::TypeClass::kString) {
      a.read_strings();
      ++n;
    }
  }
  return n;
}

int read_all_string_attrs_below(const h5::Group& g) {
  int n = read_all_string_attrs(g);
  for (const auto& child : g.children(h5::Order::kName)) {
    if (g.is_group(child))
      n += read_all_string_attrs_below(g.open_group(child));
    else if (g.is_dataset(child))
      n += read_all_string_attrs(g.open_dataset(child));
  }
  return n;
}

TEST(H5GlobalHeap, EverySharedFilePasses) {
  MINIDL_REQUIRE_SHARED();
  int files = 0, attrs = 0;
  for (const char* sub : {"keras-h5", "keras-apps", "conformance"}) {
    const fs::path dir = testing::shared_dir() / sub;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      const std::string path = e.path().string();
      if (!e.is_regular_file()) continue;
      if (e.path().extension() == ".h5") {
        const std::string bytes = read_file(path);
        EXPECT_EQ(scan(bytes), std::nullopt) << path;
        try {
          attrs += read_all_string_attrs_below(h5::H5File::open_read(path).root());
        } catch (const std::exception& ex) {
          ADD_FAILURE() << ex.what();
        }
        ++files;
      } else if (e.path().extension() == ".keras") {
        std::string text;
        EXPECT_NO_THROW(text = describe_keras_file(path)) << path;
        EXPECT_EQ(text.find("global heap"), std::string::npos) << path;
        ++files;
      }
    }
  }
  EXPECT_GT(files, 10);
  EXPECT_GT(attrs, 10);
}

TEST(H5GlobalHeap, EveryMinidlWrittenLayoutPasses) {
  const fs::path dir = testing::fresh_dir();
  reset_layer_names();
  auto s = std::make_shared<SequentialImpl>();
  s->add(Input({3}));
  s->add(Dense(2));
  s->compile("adam", "mse");
  s->fit(Tensor::ones({4, 3}), Tensor::zeros({4, 2}), {.batch_size = 4, .epochs = 1, .verbose = 0});
  for (const char* name : {"m.h5", "m.keras"}) {
    const std::string path = (dir / name).string();
    save_model(*s, path);
    EXPECT_NO_THROW(load_model(path)) << path;
  }
  const std::string legacy = (dir / "m.h5").string();
  EXPECT_EQ(scan(read_file(legacy)), std::nullopt);
  EXPECT_GT(read_all_string_attrs_below(h5::H5File::open_read(legacy).root()), 2);
  for (bool keras3 : {false, true}) {
    const std::string path = (dir / (keras3 ? "w.weights.h5" : "w.h5")).string();
    save_weights(*s, path, keras3);
    EXPECT_EQ(scan(read_file(path)), std::nullopt) << path;
    EXPECT_NO_THROW(read_all_string_attrs_below(h5::H5File::open_read(path).root())) << path;
  }
}

}  // namespace
}  // namespace minidl
