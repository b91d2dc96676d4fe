// Fletcher-32 checksums on the datasets minidl writes: present on every non-empty array,
// verified by libhdf5 on read, and a flipped byte becomes an IOError naming the dataset.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/errors.h"
#include "io/hdf5.h"
#include "io/keras_model.h"
#include "layers/core/dense.h"
#include "support/assertions.h"
#include "support/files.h"
#include "train/model.h"

using namespace minidl;
namespace fs = std::filesystem;
using namespace minidl::testing;

namespace {

// Values whose float32 bytes occur once in a small file.
Tensor distinctive(const Shape& shape) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = 12345.678f + static_cast<float>(i) * 0.5f;
  return t;
}

std::string float_bytes(float v) {
  std::string s(sizeof v, '\0');
  std::memcpy(s.data(), &v, sizeof v);
  return s;
}

// Flips one bit of the first occurrence of `needle` in the file; false when it is absent.
bool flip_byte_of(const std::string& path, const std::string& needle) {
  std::string bytes = read_file(path);
  const size_t at = bytes.find(needle);
  if (at == std::string::npos || bytes.find(needle, at + 1) != std::string::npos) return false;
  bytes[at + 1] = static_cast<char>(bytes[at + 1] ^ 0x10);
  write_file(path, bytes);
  return true;
}

}  // namespace

TEST(H5Checksum, WrittenArraysCarryFletcher32AndReadBackEqual) {
  const std::string path = (minidl::testing::fresh_dir() / "c.h5").string();
  const Tensor a = distinctive({3, 4, 2});
  {
    h5::H5File f = h5::H5File::create(path);
    f.root().write_tensor("g/f32", a);
    f.root().write_tensor("f16", Tensor::arange({5}), h5::DType::kFloat16);
    f.root().write_tensor("i64", Tensor::arange({2, 3}), h5::DType::kInt64);
    f.root().write_tensor("empty", Tensor(Shape{0, 3}));
    f.root().write_scalar("scalar", 7.0);
    f.close();
  }
  const h5::Group root = h5::H5File::open_read(path).root();
  for (const char* name : {"g/f32", "f16", "i64"}) EXPECT_TRUE(root.open_dataset(name).has_checksum()) << name;
  // HDF5 cannot chunk these: contiguous, no checksum, still readable.
  EXPECT_FALSE(root.open_dataset("empty").has_checksum());
  EXPECT_FALSE(root.open_dataset("scalar").has_checksum());
  EXPECT_EQ(root.open_dataset("g/f32").read_tensor().to_vector(), a.to_vector());
  EXPECT_EQ(root.open_dataset("f16").read_tensor().to_vector(), Tensor::arange({5}).to_vector());
  EXPECT_EQ(root.open_dataset("i64").read_tensor().to_vector(), Tensor::arange({2, 3}).to_vector());
  EXPECT_EQ(root.open_dataset("empty").read_tensor().shape(), (Shape{0, 3}));
  EXPECT_EQ(root.open_dataset("scalar").read_scalar(), 7.0);
}

TEST(H5Checksum, InMemoryFilesAreChecksummedToo) {
  h5::H5File f = h5::H5File::create_in_memory("model.weights.h5");
  f.root().write_tensor("layers/dense/vars/0", distinctive({4, 2}));
  const std::vector<uint8_t> image = f.image();
  const h5::H5File back = h5::H5File::open_from_memory(image, "m.keras/model.weights.h5");
  const h5::Dataset d = back.root().open_dataset("layers/dense/vars/0");
  EXPECT_TRUE(d.has_checksum());
  EXPECT_EQ(d.read_tensor().to_vector(), distinctive({4, 2}).to_vector());
}

TEST(H5Checksum, FlippedByteIsAnIOErrorNamingTheDataset) {
  const std::string path = (minidl::testing::fresh_dir() / "c.h5").string();
  {
    h5::H5File f = h5::H5File::create(path);
    f.root().write_tensor("weights/kernel", distinctive({8, 8}));
    f.close();
  }
  ASSERT_TRUE(flip_byte_of(path, float_bytes(12345.678f + 10 * 0.5f)));
  const h5::Dataset d = h5::H5File::open_read(path).root().open_dataset("weights/kernel");
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { d.read_tensor(); }, {path, "/weights/kernel", "checksum"}));
}

TEST(H5Checksum, SavedModelWithAFlippedWeightByteFailsToLoadNamingTheDataset) {
  const std::string path = (minidl::testing::fresh_dir() / "m.h5").string();
  reset_layer_names();
  Sequential model({Dense(8, {.input_shape = Shape{6}, .name = "hidden", .weights = {distinctive({6, 8}),
                                                                                  Tensor::zeros({8})}}),
                    Dense(2, {.name = "out"})});
  model->save(path);
  ASSERT_TRUE(h5::H5File::open_read(path).root().open_dataset("model_weights/hidden/hidden/kernel:0").has_checksum());
  EXPECT_NO_THROW(load_model(path));
  ASSERT_TRUE(flip_byte_of(path, float_bytes(12345.678f + 20 * 0.5f)));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(path); },
                                   {path, "/model_weights/hidden/hidden/kernel:0", "checksum"}));
}

TEST(H5Checksum, KerasFilesWithoutChecksumsStillLoad) {
  MINIDL_REQUIRE_SHARED();
  const fs::path file = minidl::testing::keras_h5_dir() / "tfk2.5.0_acas-dense_model.h5";
  const h5::Group root = h5::H5File::open_read(file.string()).root();
  const h5::Group mw = root.open_group("model_weights");
  const std::string layer = mw.read_string_array_attr("layer_names").at(0);
  const std::string weight = mw.open_group(layer).read_string_array_attr("weight_names").at(0);
  const h5::Dataset d = mw.open_group(layer).open_dataset(weight);
  EXPECT_FALSE(d.has_checksum());
  EXPECT_GT(d.read_tensor().numel(), 0);
  EXPECT_NO_THROW(load_model(file.string()));
}

TEST(H5Checksum, InspectReportsTheChecksummedDatasets) {
  const fs::path dir = minidl::testing::fresh_dir();
  reset_layer_names();
  Sequential model({Dense(4, {.input_shape = Shape{3}}), Dense(2)});
  model->save((dir / "m.h5").string());
  std::string out = describe_keras_file((dir / "m.h5").string());
  EXPECT_NE(out.find("checksums: fletcher32 on 4 of 4 datasets"), std::string::npos) << out;
  // Trained with Adam: the optimizer's scalar iteration count is the one dataset without.
  model->compile("adam", "mse");
  model->train_on_batch(Tensor::uniform({2, 3}), Tensor::uniform({2, 2}));
  model->save((dir / "c.h5").string());
  out = describe_keras_file((dir / "c.h5").string());
  EXPECT_NE(out.find("checksums: fletcher32 on 12 of 13 datasets"), std::string::npos) << out;
  EXPECT_NE(out.find("scalars and empty arrays cannot carry one"), std::string::npos) << out;
}

TEST(H5Checksum, InspectSaysKerasFilesHaveNone) {
  MINIDL_REQUIRE_SHARED();
  const std::string out =
      describe_keras_file((minidl::testing::keras_h5_dir() / "tfk2.5.0_acas-dense_model.h5").string());
  EXPECT_NE(out.find("(legacy HDF5 has no checksums)"), std::string::npos) << out;
  EXPECT_EQ(out.find("fletcher32"), std::string::npos) << out;
}
