// io/hdf5: round trips of every attribute and dataset form the Keras saver writes;
// groups, paths, in-memory files and handle lifetimes.
#include "io/hdf5.h"

#include <gtest/gtest.h>

#include "core/errors.h"
#include "support/assertions.h"
#include "support/files.h"

using namespace minidl;
using namespace minidl::h5;
using minidl::testing::fresh_path;
using minidl::testing::ThrowsQuietly;

TEST(H5Attributes, VariableLengthUtf8StringRoundTrips) {
  const std::string path = fresh_path("a.h5");
  const std::string text = "caf\xc3\xa9 \xe2\x9c\x93 {\"class_name\": \"Sequential\"}";
  H5File::create(path).root().write_string_attr("model_config", text);
  Attribute a = H5File::open_read(path).root().attr("model_config");
  EXPECT_EQ(a.type_name(), "string (variable-length, UTF-8)");
  EXPECT_EQ(a.shape(), Shape{});
  EXPECT_EQ(a.read_string(), text);
}

TEST(H5Attributes, FixedLengthStringRoundTripsWithoutPadding) {
  const std::string path = fresh_path("a.h5");
  {
    H5File f = H5File::create(path);
    f.root().write_fixed_string_attr("backend", "tensorflow");
    f.root().write_fixed_string_attr("empty", "");
  }
  Group root = H5File::open_read(path).root();
  EXPECT_EQ(root.attr("backend").type_name(), "string (fixed-length 10, ASCII)");
  EXPECT_EQ(root.read_string_attr("backend"), "tensorflow");
  EXPECT_EQ(root.read_string_attr("empty"), "");
}

TEST(H5Attributes, StringArrayIsFixedLengthNullPaddedAsKerasWritesIt) {
  const std::string path = fresh_path("a.h5");
  H5File::create(path).root().write_string_array_attr("layer_names", {"conv2d", "dense_1", "b"});
  Attribute a = H5File::open_read(path).root().attr("layer_names");
  EXPECT_EQ(a.type_name(), "string (fixed-length 7, ASCII)");
  EXPECT_EQ(a.shape(), Shape{3});
  EXPECT_EQ(a.read_strings(), (std::vector<std::string>{"conv2d", "dense_1", "b"}));
}

TEST(H5Attributes, EmptyStringListIsAnEmptyFloat64ArrayAndReadsBackEmpty) {
  const std::string path = fresh_path("a.h5");
  {
    H5File f = H5File::create(path);
    f.root().write_string_array_attr("weight_names", {});
    f.root().write_empty_array_attr("explicit");
  }
  Group root = H5File::open_read(path).root();
  for (const char* name : {"weight_names", "explicit"}) {
    EXPECT_EQ(root.attr(name).type_name(), "float64");
    EXPECT_EQ(root.attr(name).shape(), Shape{0});
    EXPECT_TRUE(root.read_string_array_attr(name).empty());
  }
}

TEST(H5Attributes, SingleElementStringArrayReadsAsAString) {
  const std::string path = fresh_path("a.h5");
  H5File::create(path).root().write_string_array_attr("one", {"only"});
  EXPECT_EQ(H5File::open_read(path).root().read_string_attr("one"), "only");
}

TEST(H5Attributes, NumericScalarsRoundTripInTheirStoredType) {
  const std::string path = fresh_path("a.h5");
  {
    Group root = H5File::create(path).root();
    root.write_double_attr("lr", 0.01, DType::kFloat32);
    root.write_double_attr("wide", 0.1);
    root.write_int_attr("batch_size", -3000000000LL);
  }
  Group root = H5File::open_read(path).root();
  EXPECT_EQ(root.attr("lr").type_name(), "float32");
  EXPECT_EQ(root.read_double_attr("lr"), static_cast<double>(0.01f));
  EXPECT_EQ(root.read_double_attr("wide"), 0.1);
  EXPECT_EQ(root.attr("batch_size").type_name(), "int64");
  EXPECT_EQ(root.read_int_attr("batch_size"), -3000000000LL);
  EXPECT_EQ(root.read_double_attr("batch_size"), -3e9);
}

TEST(H5Attributes, WritingAgainReplacesTheAttribute) {
  const std::string path = fresh_path("a.h5");
  {
    Group root = H5File::create(path).root();
    root.write_int_attr("x", 1);
    root.write_string_attr("x", "now a string");
  }
  EXPECT_EQ(H5File::open_read(path).root().read_string_attr("x"), "now a string");
}

TEST(H5Attributes, WrongKindsAreIOErrorsNamingFileObjectAndAttribute) {
  const std::string path = fresh_path("a.h5");
  {
    Group g = H5File::create(path).root().create_group("model_weights");
    g.write_double_attr("lr", 0.5);
    g.write_string_array_attr("names", {"a", "b"});
  }
  Group g = H5File::open_read(path).root().open_group("model_weights");
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { g.read_string_attr("lr"); },
                                   {path, "/model_weights", "attribute 'lr'", "expected a single string", "float64"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { g.read_int_attr("lr"); }, {"expected a single integer"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { g.read_string_attr("names"); }, {"attribute 'names'", "shape (2,)"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { g.read_double_attr("names"); }, {"expected a single number"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { g.read_string_array_attr("lr"); }, {"expected strings"}));
  EXPECT_TRUE(
      ThrowsQuietly<IOError>([&] { g.attr("missing"); }, {path, "/model_weights", "attribute 'missing' not found"}));
}

TEST(H5Attributes, AttributeLargerThan64KiBIsStored) {
  const std::string path = fresh_path("a.h5");
  const std::string big(200000, 'x');
  H5File::create(path).root().write_string_attr("model_config", big);
  EXPECT_EQ(H5File::open_read(path).root().read_string_attr("model_config"), big);
}

TEST(H5Attributes, HasAttrAndAttrNames) {
  const std::string path = fresh_path("a.h5");
  {
    Group root = H5File::create(path).root();
    root.write_int_attr("b", 1);
    root.write_int_attr("a", 2);
  }
  Group root = H5File::open_read(path).root();
  EXPECT_TRUE(root.has_attr("a"));
  EXPECT_FALSE(root.has_attr("c"));
  EXPECT_EQ(root.attr_names(), (std::vector<std::string>{"a", "b"}));
}

TEST(H5Datasets, Float32TensorRoundTripsWithShape) {
  const std::string path = fresh_path("d.h5");
  const Tensor k = Tensor::arange({3, 3, 1, 4});
  H5File::create(path).root().write_tensor("kernel:0", k);
  Dataset d = H5File::open_read(path).root().open_dataset("kernel:0");
  EXPECT_EQ(d.shape(), (Shape{3, 3, 1, 4}));
  EXPECT_EQ(d.type_class(), TypeClass::kFloat);
  EXPECT_EQ(d.type_name(), "float32");
  EXPECT_EQ(d.read_tensor().to_vector(), k.to_vector());
}

TEST(H5Datasets, OtherStorageTypesConvertToFloat32OnRead) {
  const std::string path = fresh_path("d.h5");
  const Tensor v = Tensor::from_data({5}, {0.f, 1.5f, -2.f, 100.f, 3.f});
  const Tensor u = Tensor::from_data({3}, {0.f, 7.f, 255.f});
  {
    Group root = H5File::create(path).root();
    root.write_tensor("f64", v, DType::kFloat64);
    root.write_tensor("f16", v, DType::kFloat16);
    root.write_tensor("i32", Tensor::from_data({2}, {-4.f, 9.f}), DType::kInt32);
    root.write_tensor("i64", Tensor::from_data({2}, {-4.f, 9.f}), DType::kInt64);
    root.write_tensor("u8", u, DType::kUInt8);
  }
  Group root = H5File::open_read(path).root();
  EXPECT_EQ(root.open_dataset("f64").type_name(), "float64");
  EXPECT_EQ(root.open_dataset("f16").type_name(), "float16");
  EXPECT_EQ(root.open_dataset("u8").type_name(), "uint8");
  EXPECT_EQ(root.open_dataset("f64").read_tensor().to_vector(), v.to_vector());
  EXPECT_EQ(root.open_dataset("f16").read_tensor().to_vector(), v.to_vector());  // all exact in binary16
  EXPECT_EQ(root.open_dataset("i32").read_tensor().to_vector(), (std::vector<float>{-4.f, 9.f}));
  EXPECT_EQ(root.open_dataset("i64").read_tensor().to_vector(), (std::vector<float>{-4.f, 9.f}));
  EXPECT_EQ(root.open_dataset("u8").read_tensor().to_vector(), u.to_vector());
}

TEST(H5Datasets, ExplicitShapeMustHoldTheSameElementCount) {
  const std::string path = fresh_path("d.h5");
  Group root = H5File::create(path).root();
  EXPECT_EQ(root.write_tensor("w", Tensor::arange({6}), {2, 3}).shape(), (Shape{2, 3}));
  EXPECT_THROW(root.write_tensor("bad", Tensor::arange({6}), {4, 2}), ValueError);
}

TEST(H5Datasets, ScalarDatasetsRoundTrip) {
  const std::string path = fresh_path("d.h5");
  {
    Group root = H5File::create(path).root();
    root.write_scalar("iterations", 42, DType::kInt64);
    root.write_scalar("loss", 0.25);
  }
  Group root = H5File::open_read(path).root();
  EXPECT_EQ(root.open_dataset("iterations").shape(), Shape{});
  EXPECT_EQ(root.open_dataset("iterations").read_scalar(), 42.0);
  Tensor t = root.open_dataset("loss").read_tensor();
  EXPECT_EQ(t.shape(), Shape{});
  EXPECT_EQ(t.item(), 0.25f);
}

TEST(H5Datasets, EmptyDatasetReadsAsEmptyTensor) {
  const std::string path = fresh_path("d.h5");
  H5File::create(path).root().write_tensor("none", Tensor::zeros({0, 3}));
  EXPECT_EQ(H5File::open_read(path).root().open_dataset("none").read_tensor().shape(), (Shape{0, 3}));
}

TEST(H5Datasets, ShapeMismatchMessageNamesFilePathExpectedAndFound) {
  const std::string path = fresh_path("model.h5");
  H5File::create(path).root().write_tensor("model_weights/conv2d/conv2d/kernel:0", Tensor::zeros({3, 3, 32}));
  Dataset d = H5File::open_read(path).root().open_dataset("model_weights/conv2d/conv2d/kernel:0");
  try {
    d.read_tensor(Shape{3, 3, 1, 32});
    FAIL() << "no IOError";
  } catch (const IOError& e) {
    EXPECT_EQ(std::string(e.what()), path +
                                         ": /model_weights/conv2d/conv2d/kernel:0: expected float dataset of shape "
                                         "(3, 3, 1, 32), found (3, 3, 32)");
  }
  EXPECT_EQ(d.read_tensor(Shape{3, 3, 32}).shape(), (Shape{3, 3, 32}));
}

TEST(H5Datasets, SizeGuardRefusesBeforeAllocating) {
  const std::string path = fresh_path("d.h5");
  H5File::create(path).root().write_tensor("w", Tensor::zeros({4, 3}));
  Dataset d = H5File::open_read(path).root().open_dataset("w");
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { d.read_tensor(10); }, {"/w", "(4, 3)", "too large"}));
  EXPECT_EQ(d.read_tensor(12).numel(), 12);
}

TEST(H5Datasets, StringDatasetIsNotATensor) {
  const std::string path = fresh_path("d.h5");
  H5File::create(path).root().write_string_dataset("note", "hello");
  Dataset d = H5File::open_read(path).root().open_dataset("note");
  EXPECT_EQ(d.type_class(), TypeClass::kString);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { d.read_tensor(); }, {path, "/note", "expected a numeric dataset", "string"}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { d.read_scalar(); }, {"/note", "expected a single number"}));
}

// --- groups, paths, in-memory files, handle lifetimes -------------------------------

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
