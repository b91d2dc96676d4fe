// io/hdf5 groups, paths, in-memory files and handle lifetimes.
#include <gtest/gtest.h>

#include "io/hdf5.h"
#include "support/assertions.h"
#include "support/files.h"

using namespace minidl;
using namespace minidl::h5;
using minidl::testing::fresh_path;
using minidl::testing::ThrowsQuietly;

TEST(H5Groups, SlashedDatasetNamesCreateNestedGroups) {
  const std::string path = fresh_path("g.h5");
  {
    Group mw = H5File::create(path).root().create_group("model_weights");
    mw.write_tensor("dense/dense/kernel:0", Tensor::zeros({2, 3}));
  }
  Group root = H5File::open_read(path).root();
  EXPECT_TRUE(root.is_group("model_weights/dense/dense"));
  EXPECT_TRUE(root.is_dataset("model_weights/dense/dense/kernel:0"));
  EXPECT_FALSE(root.is_group("model_weights/dense/dense/kernel:0"));
  EXPECT_TRUE(root.open_group("model_weights/dense").exists("/model_weights/dense/dense"));  // absolute path
  EXPECT_EQ(root.open_group("model_weights").open_dataset("dense/dense/kernel:0").path(),
            "/model_weights/dense/dense/kernel:0");
}

TEST(H5Groups, ExistsIsFalseForMissingIntermediatesAndPathsThroughDatasets) {
  const std::string path = fresh_path("g.h5");
  H5File::create(path).root().write_tensor("a/w", Tensor::zeros({1}));
  Group root = H5File::open_read(path).root();
  EXPECT_TRUE(root.exists("a/w"));
  EXPECT_FALSE(root.exists("a/x"));
  EXPECT_FALSE(root.exists("nope/deeper/still"));
  EXPECT_FALSE(root.exists("a/w/inside"));
  EXPECT_TRUE(root.exists(""));
}

TEST(H5Groups, ChildrenListInNameOrCreationOrder) {
  const std::string path = fresh_path("g.h5");
  {
    Group root = H5File::create(path).root();
    for (const char* name : {"dense", "conv2d_1", "conv2d"}) root.create_group(name);
    root.write_tensor("batch", Tensor::zeros({1}));
  }
  Group root = H5File::open_read(path).root();
  EXPECT_EQ(root.children(), (std::vector<std::string>{"batch", "conv2d", "conv2d_1", "dense"}));
  EXPECT_EQ(root.children(Order::kCreation), (std::vector<std::string>{"dense", "conv2d_1", "conv2d", "batch"}));
}

TEST(H5Groups, CreateGroupRefusesExistingNamesWhileRequireGroupReuses) {
  const std::string path = fresh_path("g.h5");
  Group root = H5File::create(path).root();
  Group g = root.create_group("a/b");
  EXPECT_EQ(g.path(), "/a/b");
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { root.create_group("a/b"); }, {path, "/a/b", "already exists"}));
  EXPECT_EQ(root.require_group("a/b").path(), "/a/b");
  root.write_tensor("a/w", Tensor::zeros({1}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { root.write_tensor("a/w", Tensor::zeros({1})); }, {"/a/w", "already exists"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { root.create_group("a/w/c"); }, {"/a/w", "expected a group, found a dataset"}));
}

TEST(H5Groups, OpeningMissingOrWrongKindNamesThePath) {
  const std::string path = fresh_path("g.h5");
  H5File::create(path).root().write_tensor("layer/w", Tensor::zeros({1}));
  Group root = H5File::open_read(path).root();
  EXPECT_TRUE(
      ThrowsQuietly<IOError>([&] { root.open_group("layer/missing"); }, {path, "/layer/missing", "no such group"}));
  EXPECT_TRUE(
      ThrowsQuietly<IOError>([&] { root.open_dataset("layer"); }, {"/layer", "expected a dataset, found a group"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { root.open_dataset("x/y:0"); }, {"/x/y:0", "no such dataset"}));
}

TEST(H5Groups, HandlesKeepTheFileOpenAfterTheH5FileIsGone) {
  const std::string path = fresh_path("g.h5");
  H5File::create(path).root().write_tensor("w", Tensor::arange({3}));
  Dataset d = [&] { return H5File::open_read(path).root().open_dataset("w"); }();
  EXPECT_EQ(d.read_tensor().to_vector(), (std::vector<float>{0, 1, 2}));
}

TEST(H5Groups, CopiedHandlesShareTheObject) {
  const std::string path = fresh_path("g.h5");
  H5File f = H5File::create(path);
  Group a = f.root().create_group("a");
  Group b = a;
  a = f.root();
  b.write_int_attr("x", 5);
  EXPECT_EQ(f.root().open_group("a").read_int_attr("x"), 5);
}

TEST(H5Memory, InMemoryFileImageReopensFromMemory) {
  std::vector<uint8_t> bytes;
  {
    H5File f = H5File::create_in_memory("model.weights.h5");
    f.root().write_tensor("layers/dense/vars/0", Tensor::arange({2, 2}));
    f.root().open_group("layers/dense/vars").write_string_attr("name", "dense");
    bytes = f.image();
  }
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes[1], 'H');  // "\x89HDF"
  H5File g = H5File::open_from_memory(bytes, "model.keras/model.weights.h5");
  EXPECT_EQ(g.name(), "model.keras/model.weights.h5");
  EXPECT_EQ(g.root().open_dataset("layers/dense/vars/0").read_tensor().to_vector(), (std::vector<float>{0, 1, 2, 3}));
  EXPECT_EQ(g.root().open_group("layers/dense/vars").read_string_attr("name"), "dense");
}

TEST(H5Memory, TwoImagesWithTheSameDisplayNameStayDistinct) {
  auto make = [](float v) {
    H5File f = H5File::create_in_memory("same.h5");
    f.root().write_tensor("w", Tensor::full({1}, v));
    return f.image();
  };
  const auto one = make(1.f), two = make(2.f);
  H5File a = H5File::open_from_memory(one, "same.h5");
  H5File b = H5File::open_from_memory(two, "same.h5");
  EXPECT_EQ(a.root().open_dataset("w").read_tensor().item(), 1.f);
  EXPECT_EQ(b.root().open_dataset("w").read_tensor().item(), 2.f);
}

TEST(H5Memory, DiskFileImageEqualsItsBytes) {
  const std::string path = fresh_path("g.h5");
  {
    H5File f = H5File::create(path);
    f.root().write_tensor("w", Tensor::arange({5}));
    f.close();
    f.close();  // idempotent
  }
  const std::string disk = minidl::testing::read_file(path);
  const std::vector<uint8_t> img = H5File::open_read(path).image();
  EXPECT_EQ(std::string(img.begin(), img.end()), disk);
  const std::vector<uint8_t> bytes(disk.begin(), disk.end());
  EXPECT_EQ(H5File::open_from_memory(bytes, "copy").root().open_dataset("w").read_tensor().numel(), 5);
}
