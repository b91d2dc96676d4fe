// load_weights by position and by name (with skip_mismatch), read_layer_weights into a
// standalone layer, and describe_keras_file.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "layers/base/input_layer.h"
#include "layers/base/registry.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "support/keras_files.h"

namespace minidl {
namespace {

using testing::ThrowsQuietly;

std::shared_ptr<SequentialImpl> two_dense(const std::string& a, const std::string& b, int64_t units_b = 2) {
  auto s = std::make_shared<SequentialImpl>();
  s->add(Input({3}));
  s->add(Dense(4, {.name = a}));
  s->add(Dense(units_b, {.name = b}));
  return s;
}

TEST(KerasLoadWeights, ByPositionIgnoresNames) {
  auto src = two_dense("a", "b");
  const std::string p = (testing::temp_dir() / "src.h5").string();
  save_weights(*src, p);
  auto dst = two_dense("x", "y");
  load_weights(*dst, p);
  EXPECT_TRUE(testing::SameWeights(*src, *dst));
}

TEST(KerasLoadWeights, ByNameLoadsOnlyMatchingLayers) {
  auto src = two_dense("shared", "b");
  const std::string p = (testing::temp_dir() / "src.h5").string();
  save_weights(*src, p);
  auto dst = two_dense("shared", "other");
  const auto other_before = dst->get_layer("other")->get_weights();
  load_weights(*dst, p, /*by_name=*/true);
  EXPECT_TRUE(testing::SameWeights(*src->get_layer("shared"), *dst->get_layer("shared")));
  EXPECT_EQ(dst->get_layer("other")->get_weights()[0].to_vector(), other_before[0].to_vector());
}

TEST(KerasLoadWeights, ByNameShapeMismatchThrowsUnlessSkipped) {
  auto src = two_dense("a", "b", 2);
  const std::string p = (testing::temp_dir() / "src.h5").string();
  save_weights(*src, p);
  auto dst = two_dense("a", "b", 7);  // 'b' has another shape
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { load_weights(*dst, p, true); }, {p, "b/kernel:0", "(4, 7)", "(4, 2)"}));
  const auto b_before = dst->get_layer("b")->get_weights();
  load_weights(*dst, p, true, /*skip_mismatch=*/true);
  EXPECT_TRUE(testing::SameWeights(*src->get_layer("a"), *dst->get_layer("a")));
  EXPECT_EQ(dst->get_layer("b")->get_weights()[0].to_vector(), b_before[0].to_vector());
}

TEST(KerasLoadWeights, Keras3WeightsByNameUseTheRecordedLayerNames) {
  auto src = two_dense("a", "b");
  const std::string p = (testing::temp_dir() / "src.weights.h5").string();
  save_weights(*src, p, /*keras3=*/true);
  auto dst = std::make_shared<SequentialImpl>();
  dst->add(Input({3}));
  dst->add(Dense(4, {.name = "a"}));
  load_weights(*dst, p, true);
  EXPECT_TRUE(testing::SameWeights(*src->get_layer("a"), *dst->get_layer("a")));
}

TEST(KerasLoadWeights, ReadLayerWeightsFeedsAStandaloneConv2D) {
  MINIDL_REQUIRE_SHARED();
  const std::string file = (testing::keras_h5_dir() / "tfk2.12.0_conv-conv-add_functional_model.h5").string();
  auto model = load_model(file);
  const json cfg = model->get_layer("conv2d_9")->get_config();
  auto conv = Conv2DImpl::from_config(cfg);
  conv->maybe_build({{kNone, 10, 10, 3}});
  conv->set_weights(read_layer_weights(file, "conv2d_9"));
  const Tensor x = Tensor::uniform({1, 10, 10, 3});
  EXPECT_EQ((*conv)(x).to_vector(), (*model->get_layer("conv2d_9"))(x).to_vector());
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { read_layer_weights(file, "nope"); }, {file, "nope", "conv2d_9"}));
}

TEST(KerasLoadWeights, ReadLayerWeightsFromKeras3WeightsFile) {
  MINIDL_REQUIRE_SHARED();
  const auto w = read_layer_weights((testing::keras_h5_dir() / "k3.10.0_mnist-cnn.weights.h5").string(), "conv2d_1");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].shape(), (Shape{3, 3, 32, 64}));
  EXPECT_EQ(w[1].shape(), (Shape{64}));
}

TEST(KerasDescribe, LegacyModelListsLayersWeightsAndVersions) {
  MINIDL_REQUIRE_SHARED();
  const std::string d = describe_keras_file((testing::keras_h5_dir() / "k2.1.3-tf_cnn-bn_model.h5").string());
  for (const std::string needle : {"legacy full-model", "keras_version: 2.1.3", "backend: tensorflow",
                                   "batch_normalization_1 (BatchNormalization)",
                                   "batch_normalization_1/moving_variance:0  (1,)  float32", "flatten_1 (Flatten)  no weights",
                                   "loss \"mse\""})
    EXPECT_NE(d.find(needle), std::string::npos) << needle << "\n" << d;
}

TEST(KerasDescribe, Keras3WeightsAndArchivesAreDescribed) {
  MINIDL_REQUIRE_SHARED();
  const std::string d = describe_keras_file((testing::keras_h5_dir() / "k3.10.0_mnist-cnn.weights.h5").string());
  EXPECT_NE(d.find("layers/conv2d_1  (layer 'conv2d_1')"), std::string::npos) << d;
  EXPECT_NE(d.find("vars/0  (3, 3, 32, 64)  float32"), std::string::npos) << d;
  auto m = load_model((testing::keras_h5_dir() / "k3.10.0_mnist-cnn_legacy-model.h5").string());
  const std::string p = (testing::temp_dir() / "m.keras").string();
  m->save(p);
  const std::string k = describe_keras_file(p);
  EXPECT_NE(k.find("config.json"), std::string::npos) << k;
  EXPECT_NE(k.find("\"Sequential\""), std::string::npos) << k;
  EXPECT_NE(k.find("layers/dense"), std::string::npos) << k;
}

TEST(KerasDescribe, NotHdf5IsAnIOError) {
  const auto p = testing::temp_dir() / "x.h5";
  testing::write_file(p, "nope");
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { describe_keras_file(p.string()); }, {p.string()}));
}

// A user layer registered at run time makes a file with that class loadable.
TEST(KerasLoadWeights, UserRegisteredLayerClassLoads) {
  const std::string cfg = R"({"class_name": "Sequential", "config": {"layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3]}},
    {"class_name": "MyDense", "config": {"name": "mine", "units": 2}}]}})";
  EXPECT_THROW(model_from_json(cfg), ValueError);
  LayerRegistry::instance().add("MyDense", [](const json& c) -> LayerPtr { return DenseImpl::from_config(c); });
  auto m = model_from_json(cfg);
  EXPECT_EQ(m->get_layer("mine")->get_weights()[0].shape(), (Shape{3, 2}));
}

}  // namespace
}  // namespace minidl
