// Reading the real Keras files in ../shared through io/hdf5: every layer's weights resolve
// through layer_names / weight_names, whatever string encoding the writer used.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/errors.h"
#include "io/hdf5.h"
#include "support/files.h"

using namespace minidl;
using namespace minidl::h5;
namespace fs = std::filesystem;

namespace {

struct LayerWeights {
  std::vector<std::string> weight_names;
  std::vector<Shape> shapes;
};

// layer -> weights of a Keras 1/2 full-model or save_weights file.
std::map<std::string, LayerWeights> list_weights(const std::string& path, std::vector<std::string>* order = nullptr) {
  Group root = H5File::open_read(path).root();
  Group weights = root.exists("model_weights") ? root.open_group("model_weights") : root;
  std::map<std::string, LayerWeights> out;
  for (const auto& layer : weights.read_string_array_attr("layer_names")) {
    Group g = weights.open_group(layer);
    LayerWeights& lw = out[layer];
    lw.weight_names = g.read_string_array_attr("weight_names");
    for (const auto& w : lw.weight_names) lw.shapes.push_back(g.open_dataset(w).read_tensor().shape());
    if (order) order->push_back(layer);
  }
  return out;
}

std::vector<std::string> files_matching(const fs::path& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string p = e.path().string();
    if (p.size() >= suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string keras_h5(const std::string& name) { return (minidl::testing::shared_dir() / "keras-h5" / name).string(); }

}  // namespace

TEST(KerasFiles, EveryLegacyFileResolvesAllWeights) {
  MINIDL_REQUIRE_SHARED();
  int files = 0, weights = 0;
  for (const auto& path : files_matching(minidl::testing::shared_dir() / "keras-h5", ".h5")) {
    if (path.find(".weights.h5") != std::string::npos) continue;  // Keras 3 layout, tested below
    SCOPED_TRACE(path);
    std::map<std::string, LayerWeights> layers;
    ASSERT_NO_THROW(layers = list_weights(path));
    EXPECT_FALSE(layers.empty());
    for (const auto& [name, lw] : layers)
      for (const Shape& s : lw.shapes) {
        EXPECT_TRUE(s.size() >= 1 && s.size() <= 4) << name << " " << shape_str(s);
        ++weights;
      }
    ++files;
  }
  EXPECT_GE(files, 10);
  EXPECT_GT(weights, 50);
}

TEST(KerasFiles, EveryConformanceModelAndWeightsFileResolves) {
  MINIDL_REQUIRE_SHARED();
  int files = 0;
  for (const std::string suffix : {"/model.h5", "/weights.h5", "/weights_after_step.h5"})
    for (const auto& path : files_matching(minidl::testing::shared_dir() / "conformance", suffix)) {
      SCOPED_TRACE(path);
      std::map<std::string, LayerWeights> layers;
      ASSERT_NO_THROW(layers = list_weights(path));
      EXPECT_FALSE(layers.empty());
      ++files;
    }
  EXPECT_GE(files, 26 * 2);
}

TEST(KerasFiles, Keras3LegacyH5HasVariableLengthNamesAndModelPrefixedWeights) {
  MINIDL_REQUIRE_SHARED();
  const std::string path = keras_h5("k3.10.0_mnist-cnn_legacy-model.h5");
  std::vector<std::string> order;
  auto layers = list_weights(path, &order);
  EXPECT_EQ(order, (std::vector<std::string>{"conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten",
                                             "dense", "dense_1"}));
  EXPECT_EQ(layers["conv2d"].weight_names,
            (std::vector<std::string>{"sequential/conv2d/kernel", "sequential/conv2d/bias"}));
  EXPECT_EQ(layers["conv2d"].shapes, (std::vector<Shape>{{3, 3, 1, 32}, {32}}));
  EXPECT_EQ(layers["dense"].shapes, (std::vector<Shape>{{1600, 100}, {100}}));
  EXPECT_TRUE(layers["flatten"].weight_names.empty());  // empty float64 array

  Group root = H5File::open_read(path).root();
  EXPECT_EQ(root.attr("keras_version").type_name(), "string (variable-length, UTF-8)");
  EXPECT_EQ(root.read_string_attr("keras_version"), "3.10.0");
  EXPECT_EQ(root.read_string_attr("backend"), "tensorflow");
  EXPECT_EQ(root.read_string_attr("model_config").rfind("{\"class_name\": \"Sequential\"", 0), 0u);
  EXPECT_TRUE(root.is_group("model_weights/top_level_model_weights"));
}

TEST(KerasFiles, Keras1TheanoWeightsHaveFixedLengthNamesAndFlatWeightNames) {
  MINIDL_REQUIRE_SHARED();
  const std::string path = keras_h5("k1-theano-th_mnist-cnn-same_weights.h5");
  std::vector<std::string> order;
  auto layers = list_weights(path, &order);
  ASSERT_EQ(order.size(), 12u);
  EXPECT_EQ(order.front(), "convolution2d_1");
  EXPECT_EQ(order.back(), "activation_4");
  EXPECT_EQ(layers["convolution2d_1"].weight_names,
            (std::vector<std::string>{"convolution2d_1_W", "convolution2d_1_b"}));
  EXPECT_EQ(layers["convolution2d_1"].shapes, (std::vector<Shape>{{4, 1, 3, 3}, {4}}));  // (out, in, kh, kw)
  EXPECT_EQ(layers["dense_1"].shapes[0], (Shape{784, 6}));
  Group root = H5File::open_read(path).root();
  EXPECT_EQ(root.attr("layer_names").type_name(), "string (fixed-length 15, ASCII)");
  EXPECT_FALSE(root.has_attr("keras_version"));
}

TEST(KerasFiles, TfKeras25HasVariableLengthLayerNamesWithColonZeroSuffixes) {
  MINIDL_REQUIRE_SHARED();
  auto layers = list_weights(keras_h5("tfk2.5.0_acas-dense_model.h5"));
  ASSERT_EQ(layers.size(), 6u);
  EXPECT_EQ(layers["dense"].weight_names, (std::vector<std::string>{"dense/kernel:0", "dense/bias:0"}));
  EXPECT_EQ(layers["dense_5"].shapes, (std::vector<Shape>{{16, 5}, {5}}));
}

TEST(KerasFiles, Keras213BatchNormHasFourWeightsInKerasOrder) {
  MINIDL_REQUIRE_SHARED();
  const std::string path = keras_h5("k2.1.3-tf_cnn-bn_model.h5");
  auto layers = list_weights(path);
  EXPECT_EQ(
      layers["batch_normalization_1"].weight_names,
      (std::vector<std::string>{"batch_normalization_1/gamma:0", "batch_normalization_1/beta:0",
                                "batch_normalization_1/moving_mean:0", "batch_normalization_1/moving_variance:0"}));
  Group mw = H5File::open_read(path).root().open_group("model_weights");
  EXPECT_EQ(mw.read_string_attr("keras_version"), "2.1.3");
  EXPECT_EQ(mw.attr("keras_version").type_name(), "string (variable-length, ASCII)");
}

TEST(KerasFiles, ConformanceConv000HasOneFourDimensionalKernel) {
  MINIDL_REQUIRE_SHARED();
  const std::string path = (minidl::testing::shared_dir() / "conformance/conv_000/model.h5").string();
  auto layers = list_weights(path);
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers["conv2d"].weight_names, (std::vector<std::string>{"conv2d/kernel:0"}));
  EXPECT_EQ(layers["conv2d"].shapes[0].size(), 4u);
  Group root = H5File::open_read(path).root();
  EXPECT_EQ(root.attr("model_config").type_name().rfind("string (fixed-length", 0), 0u);
  EXPECT_EQ(root.open_group("model_weights").read_string_attr("backend"), "tensorflow");  // fixed-length S10
}

TEST(KerasFiles, ConformanceCaseAttributesReadAsNumbersAndStrings) {
  MINIDL_REQUIRE_SHARED();
  Group c = H5File::open_read((minidl::testing::shared_dir() / "conformance/conv_000/case.h5").string()).root();
  EXPECT_FLOAT_EQ(static_cast<float>(c.read_double_attr("lr")), 0.2f);
  EXPECT_EQ(c.read_int_attr("batch_size"), 3);
  EXPECT_EQ(c.read_string_attr("keras_style"), "tf2.4");
  EXPECT_EQ(c.open_dataset("reg_loss_total").shape(), Shape{});
  EXPECT_EQ(c.open_dataset("expected_output").read_tensor().shape().at(0), 3);
}

TEST(KerasFiles, Keras3WeightsH5MatchesTheLegacyFileBitForBit) {
  MINIDL_REQUIRE_SHARED();
  Group k3 = H5File::open_read(keras_h5("k3.10.0_mnist-cnn.weights.h5")).root();
  EXPECT_TRUE(k3.attr_names().empty());
  EXPECT_EQ(k3.open_group("layers/conv2d/vars").read_string_attr("name"), "conv2d");
  EXPECT_EQ(k3.open_group("layers").children(),
            (std::vector<std::string>{"conv2d", "conv2d_1", "dense", "dense_1", "flatten", "max_pooling2d",
                                      "max_pooling2d_1"}));
  EXPECT_TRUE(k3.open_group("layers/flatten/vars").children().empty());
  EXPECT_EQ(k3.open_dataset("optimizer/vars/0").type_name(), "int64");
  EXPECT_EQ(k3.open_dataset("optimizer/vars/0").read_tensor().shape(), Shape{});
  Tensor kernel = k3.open_dataset("layers/conv2d/vars/0").read_tensor({3, 3, 1, 32});
  Group legacy = H5File::open_read(keras_h5("k3.10.0_mnist-cnn_legacy-model.h5")).root();
  Tensor same = legacy.open_dataset("model_weights/conv2d/sequential/conv2d/kernel").read_tensor();
  EXPECT_EQ(kernel.to_vector(), same.to_vector());
}

TEST(KerasFiles, TruncatedCopyOfARealFileIsAnIOError) {
  MINIDL_REQUIRE_SHARED();
  const std::string src = keras_h5("k2.1.3-tf_cnn-bn_model.h5");
  const std::string dst = (minidl::testing::temp_dir() / "truncated.h5").string();
  fs::copy_file(src, dst, fs::copy_options::overwrite_existing);
  fs::resize_file(dst, fs::file_size(src) * 2 / 3);
  ::testing::internal::CaptureStderr();
  EXPECT_THROW(list_weights(dst), IOError);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}
