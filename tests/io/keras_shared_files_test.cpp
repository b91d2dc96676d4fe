// The real Keras files of ../shared/keras-h5 (see its PROVENANCE.md): every one loads, and
// where the file comes with reference outputs, minidl's predictions match them. Each test
// prints the maximum relative error it measured.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "io/npy.h"
#include "layers/conv/conv2d.h"
#include "support/keras_files.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;
using namespace testing;

std::string at(const std::string& name) { return (keras_h5_dir() / name).string(); }

void report(const std::string& file, double err) {
  std::cout << "[keras-h5] " << file << ": max relative error " << err << "\n";
  ::testing::Test::RecordProperty("max_rel_error", std::to_string(err));
}

Tensor file_dataset(const std::string& file, const std::string& path) {
  return h5::H5File::open_read(at(file)).root().open_dataset(path).read_tensor();
}

// The model of the architecture `stem`.arch.json and the weights file `stem`.h5.
std::shared_ptr<ModelImpl> load_parts(const std::string& stem) {
  return load_model_from_parts(at(stem + ".arch.json"), at(stem + ".h5"));
}

// A weight as Keras saved it: weight `index` of `layer`, the dataset layer/layer/name.
struct FileWeight {
  std::string layer;
  size_t index;
  std::string name;
};

// load_parts(stem), each listed weight checked to hold its dataset of `stem`.h5 unchanged.
std::shared_ptr<ModelImpl> load_parts_checking(const std::string& stem, const std::vector<FileWeight>& weights) {
  auto model = load_parts(stem);
  for (const FileWeight& w : weights)
    EXPECT_EQ(model->get_layer(w.layer)->get_weights()[w.index].to_vector(),
              file_dataset(stem + ".h5", w.layer + "/" + w.layer + "/" + w.name).to_vector())
        << stem << ": " << w.layer << " " << w.name;
  return model;
}

TEST(KerasSharedFiles, Keras1TheanoMnistCnnMatchesItsPrintedOutput) {
  MINIDL_REQUIRE_SHARED();
  const std::string stem = "k1-theano-th_mnist-cnn-same_weights";
  auto model = load_parts(stem);
  const std::vector<double> in = numbers_in(read_file(keras_h5_dir() / (stem + ".input.dat")));
  ASSERT_EQ(in.size(), 3u + 28 * 28);
  ASSERT_EQ(in[0], 1);
  const Tensor x = testing::to_tensor({1, 1, 28, 28}, in, 3);  // CHW sample, channels_first model
  const Tensor expected = testing::to_tensor({1, 10}, numbers_in(read_file(keras_h5_dir() / (stem + ".expected.txt"))));
  const Tensor y = model->predict(x);
  report(stem, testing::max_rel_error(y, expected));
  // The expected values are printed with 7 significant digits.
  EXPECT_TRUE(testing::AllClose(y, expected, 1e-6, 1e-4));
}

TEST(KerasSharedFiles, Keras1TheanoKernelsAreTransposedAndRotated) {
  MINIDL_REQUIRE_SHARED();
  const std::string stem = "k1-theano-th_mnist-cnn-same_weights";
  auto model = load_parts(stem);
  const Tensor file = file_dataset(stem + ".h5", "convolution2d_2/convolution2d_2_W");  // (out, in, kh, kw)
  const Tensor k = model->get_layer("convolution2d_2")->get_weights()[0];             // (kh, kw, in, out)
  ASSERT_EQ(k.shape(), (Shape{3, 3, 4, 4}));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t c = 0; c < 4; ++c)
        for (int64_t o = 0; o < 4; ++o) ASSERT_EQ(k.at({i, j, c, o}), file.at({o, c, 2 - i, 2 - j}));
}

TEST(KerasSharedFiles, Keras122TensorflowArangeConvLoadsUnchanged) {
  MINIDL_REQUIRE_SHARED();
  auto model = load_model(at("k1.2.2-tf_conv2d-arange_model.h5"));
  const auto w = model->get_layer("convolution2d_1")->get_weights();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].to_vector(), Tensor::arange({3, 3, 5, 6}).to_vector());
  EXPECT_EQ(w[1].to_vector(), Tensor::arange({6}).to_vector());
  EXPECT_EQ(model->get_layer("convolution2d_1")->get_config()["data_format"], "channels_last");
  EXPECT_TRUE(model->compiled());  // Adam from its Keras 1 training_config ("lr")
}

TEST(KerasSharedFiles, Keras213TheanoKernelIsRotatedAsKerasDoes) {
  MINIDL_REQUIRE_SHARED();
  auto model = load_model(at("k2.1.3-theano_conv2d-arange_model.h5"));
  const Tensor k = model->get_layer("conv2d_1")->get_weights()[0];
  const Tensor file = Tensor::arange({3, 3, 5, 6});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t c = 0; c < 5; ++c)
        for (int64_t o = 0; o < 6; ++o) ASSERT_EQ(k.at({i, j, c, o}), file.at({2 - i, 2 - j, c, o}));
}

TEST(KerasSharedFiles, Keras213CnnBatchNormMatchesKerasPredict) {
  MINIDL_REQUIRE_SHARED();
  auto model = load_model(at("k2.1.3-tf_cnn-bn_model.h5"));
  const Tensor x = read_npy(at("k2.1.3-tf_cnn-bn_model.input.npy"));
  const Tensor expected = read_npy(at("k2.1.3-tf_cnn-bn_model.expected.npy"));
  const Tensor y = model->predict(x);
  report("k2.1.3-tf_cnn-bn_model", testing::max_rel_error(y, expected));
  EXPECT_TRUE(testing::AllClose(y, expected, 1e-6, 1e-4));
}

TEST(KerasSharedFiles, Keras206JetTaggerWeightsLoadIntoItsArchitecture) {
  MINIDL_REQUIRE_SHARED();
  auto model = load_parts_checking("k2.0.6-tf_jettagger-conv2d-bn_weights",
                                   {{"cnn2D_1_relu", 0, "kernel:0"}, {"batch_normalization_2", 3, "moving_variance:0"}});
  const Tensor y = model->predict(Tensor::uniform({2, 25, 25, 1}));
  ASSERT_EQ(y.shape(), (Shape{2, 5}));
  for (int64_t r = 0; r < 2; ++r) {
    double s = 0;
    for (int64_t c = 0; c < 5; ++c) s += y.at({r, c});
    EXPECT_NEAR(s, 1.0, 1e-5);  // softmax output
  }
}

TEST(KerasSharedFiles, Keras231ChannelsFirstFunctionalLoadsAndPredicts) {
  MINIDL_REQUIRE_SHARED();
  auto model = load_model(at("k2.3.1-tf_conv2d-channels-first_functional_model.h5"));
  EXPECT_FALSE(model->compiled());  // saved without training_config
  EXPECT_EQ(model->get_layer("conv2d_1")->get_config()["data_format"], "channels_first");
  EXPECT_EQ(model->get_layer("max_pooling2d_1")->get_config()["data_format"], "channels_last");
  const Tensor y = model->predict(Tensor::uniform({1, 1, 28, 28}));
  EXPECT_EQ(y.shape(), (Shape{1, 22}));
}

TEST(KerasSharedFiles, TfKeras224ToyResnetWeightsLoadIntoItsArchitecture) {
  MINIDL_REQUIRE_SHARED();
  auto model = load_parts_checking("tfk2.2.4_toy-resnet-add_weights", {{"dense_7", 0, "kernel:0"}});
  EXPECT_EQ(model->predict(Tensor::uniform({1, 28, 28, 1})).shape(), (Shape{1, 10}));
}

TEST(KerasSharedFiles, TfKeras212ConvConvAddMatchesThirdPartyReference) {
  MINIDL_REQUIRE_SHARED();
  const std::string stem = "tfk2.12.0_conv-conv-add_functional_model";
  auto model = load_model(at(stem + ".h5"));
  const Tensor x = testing::to_tensor({1, 10, 10, 3}, numbers_in(read_file(keras_h5_dir() / (stem + ".input.txt"))));
  const Tensor expected =
      testing::to_tensor({1, 10, 10, 3}, numbers_in(read_file(keras_h5_dir() / (stem + ".reference-acetone.txt"))));
  const Tensor y = model->predict(x);
  report(stem, testing::max_rel_error(y, expected));
  EXPECT_TRUE(testing::AllClose(y, expected, 1e-6, 1e-4));
}

TEST(KerasSharedFiles, TfKeras250AcasDenseMatchesKerasPredict) {
  MINIDL_REQUIRE_SHARED();
  auto model = load_model(at("tfk2.5.0_acas-dense_model.h5"));
  const auto in = numbers_in(read_file(keras_h5_dir() / "tfk2.5.0_acas-dense_model.input.txt"));
  const auto out = numbers_in(read_file(keras_h5_dir() / "tfk2.5.0_acas-dense_model.expected.txt"));
  ASSERT_EQ(in.size(), 5000u);
  ASSERT_EQ(out.size(), 5000u);
  const Tensor y = model->predict(testing::to_tensor({1000, 5}, in), 256);
  const Tensor expected = testing::to_tensor({1000, 5}, out);
  report("tfk2.5.0_acas-dense_model", testing::max_rel_error(y, expected));
  EXPECT_TRUE(testing::AllClose(y, expected, 1e-6, 1e-4));
}

TEST(KerasSharedFiles, Keras3LegacyH5AndWeightsH5HoldIdenticalWeights) {
  MINIDL_REQUIRE_SHARED();
  auto legacy = load_model(at("k3.10.0_mnist-cnn_legacy-model.h5"));
  EXPECT_TRUE(legacy->compiled());  // Adam + categorical_crossentropy from its training_config
  auto parts = load_parts("k3.10.0_mnist-cnn.weights");
  EXPECT_TRUE(testing::SameWeights(*legacy, *parts));
  EXPECT_EQ(legacy->get_config(), parts->get_config());
  EXPECT_EQ(legacy->get_layer("dense")->get_weights()[0].to_vector(),
            file_dataset("k3.10.0_mnist-cnn.weights.h5", "layers/dense/vars/0").to_vector());
  const Tensor x = Tensor::uniform({2, 28, 28, 1});
  EXPECT_EQ(legacy->predict(x).to_vector(), parts->predict(x).to_vector());
}

// Every file of the folder, one line each: the pass/fail table of the report.
TEST(KerasSharedFiles, EveryFileLoads) {
  MINIDL_REQUIRE_SHARED();
  int failed = 0, total = 0;
  for (const auto& e : fs::directory_iterator(keras_h5_dir())) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".h5") continue;
    ++total;
    std::string status = "ok";
    try {
      std::shared_ptr<ModelImpl> m;
      std::string stem = name.substr(0, name.size() - 3);
      if (fs::exists(keras_h5_dir() / (stem + ".arch.json"))) {
        m = load_model_from_parts(at(stem + ".arch.json"), at(name));
      } else {
        m = load_model(at(name));
      }
      status += fmt::format(" ({} layers, {} weights)", m->layers().size(), m->weights().size());
    } catch (const std::exception& ex) {
      status = std::string("FAILED: ") + ex.what();
      ++failed;
      ADD_FAILURE() << name << ": " << ex.what();
    }
    std::cout << "[keras-h5] " << name << ": " << status << "\n";
  }
  EXPECT_EQ(total, 11);
  EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace minidl
