// tests/applications/imagenet_utils_test.cpp — what the architectures share: preprocess_input in
// Keras's three modes against a double-precision reference, Keras's input-shape rules and
// messages, correct_pad, and the registry of architectures by Keras name.
#include <random>

#include "applications/imagenet_utils.h"
#include "architecture_checks.h"
#include "layers/base/input_layer.h"

namespace minidl {
namespace {

using namespace testing;
using ::testing::Contains;
namespace iu = applications::imagenet_utils;

// Pixel values in [0, 255), reproducible from seed.
Tensor images(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return random_tensor(shape, rng, 0.f, 255.f);
}

// Keras's formulas per element, in double: c is the element's channel (RGB order in x).
double caffe_ref(const Tensor& x, int64_t pixel, int64_t c) {
  const double bgr_mean[3] = {103.939, 116.779, 123.68};
  return double(x[pixel * 3 + (2 - c)]) - bgr_mean[c];
}
double torch_ref(double v, int64_t c) {
  const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
  return (v / 255.0 - mean[c]) / std[c];
}

TEST(PreprocessInput, ThreeModesMatchKerasFormulas) {
  const Tensor x = images({2, 3, 4, 3}, 11);
  const Tensor tf = iu::preprocess_input(x, "channels_last", "tf");
  const Tensor caffe = iu::preprocess_input(x, "channels_last", "caffe");
  const Tensor torch = iu::preprocess_input(x, "channels_last", "torch");
  ASSERT_EQ(caffe.shape(), x.shape());
  for (int64_t p = 0; p < x.numel() / 3; ++p) {
    for (int64_t c = 0; c < 3; ++c) {
      const int64_t i = p * 3 + c;
      EXPECT_NEAR(tf[i], double(x[i]) / 127.5 - 1.0, 1e-5);
      EXPECT_NEAR(caffe[i], caffe_ref(x, p, c), 1e-4);
      EXPECT_NEAR(torch[i], torch_ref(x[i], c), 1e-5);
    }
  }
  EXPECT_NE(caffe[0], x[0]);  // a new tensor; x itself is unchanged
  EXPECT_TRUE(AllClose(x, images({2, 3, 4, 3}, 11), 0, 0));
}

TEST(PreprocessInput, ChannelsFirstWorksPerChannelPlane) {
  const Tensor x = images({1, 3, 2, 2}, 12);  // (batch, channels, rows, cols)
  const Tensor torch = iu::preprocess_input(x, "channels_first", "torch");
  const Tensor caffe = iu::preprocess_input(x, "channels_first", "caffe");
  const double bgr_mean[3] = {103.939, 116.779, 123.68};
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t k = 0; k < 4; ++k) {
      EXPECT_NEAR(torch[c * 4 + k], torch_ref(x[c * 4 + k], c), 1e-5);
      EXPECT_NEAR(caffe[c * 4 + k], double(x[(2 - c) * 4 + k]) - bgr_mean[c], 1e-4);
    }
}

TEST(PreprocessInput, BadArgumentsRaiseKerasErrors) {
  const Tensor x = images({1, 2, 2, 3}, 13);
  EXPECT_THAT([&] { iu::preprocess_input(x, "", "inception"); },
              ThrowsMessage<ValueError>(HasSubstr("Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode=inception")));
  EXPECT_THAT([&] { iu::preprocess_input(x, "nhwc", "tf"); },
              ThrowsMessage<ValueError>(HasSubstr("Received: data_format=nhwc")));
  EXPECT_THAT([] { iu::preprocess_input(images({1, 2, 2, 4}, 1), "channels_last", "caffe"); },
              ThrowsMessage<ValueError>(HasSubstr("expected 3 colour channels")));
}

TEST(ObtainInputShape, FollowsKerasRules) {
  EXPECT_EQ(iu::obtain_input_shape(std::nullopt, 224, 32, true), Shape({224, 224, 3}));
  EXPECT_EQ(iu::obtain_input_shape(std::nullopt, 299, 71, false), Shape({kNone, kNone, 3}));
  EXPECT_EQ(iu::obtain_input_shape(Shape{40, 50, 1}, 224, 32, true), Shape({40, 50, 1}));
  EXPECT_EQ(iu::obtain_input_shape(Shape{kNone, 50, 3}, 224, 32, false), Shape({kNone, 50, 3}));
  EXPECT_THAT([] { iu::obtain_input_shape(Shape{kNone, 50, 3}, 224, 32, true); },
              ThrowsMessage<ValueError>(HasSubstr("Received: input_shape=(None, 50, 3)")));
  EXPECT_THAT([] { iu::obtain_input_shape(Shape{50, 3}, 224, 32, false); },
              ThrowsMessage<ValueError>(HasSubstr("`input_shape` must be a tuple of three integers.")));
  EXPECT_EQ(iu::python_tuple(Shape{10}), "(10,)");
}

TEST(CorrectPad, PadsLikeTensorFlowSame) {
  // Even sizes pad (0, 1); odd sizes (1, 1); an unknown size pads as an odd one (Keras).
  EXPECT_EQ(iu::correct_pad(Input({32, 33, 8}), 3), Padding2D({0, 1}, {1, 1}));
  EXPECT_EQ(iu::correct_pad(Input({kNone, kNone, 8}), 3), Padding2D({0, 1}, {0, 1}));
  EXPECT_EQ(iu::correct_pad(Input({7, 8, 8}), 5), Padding2D({2, 2}, {1, 2}));
}

TEST(ApplicationsRegistry, BuildsByKerasName) {
  const std::vector<std::string> names = applications::names();
  for (const char* n : {"DenseNet121", "DenseNet169", "DenseNet201", "InceptionV3", "MobileNet", "MobileNetV2",
                        "ResNet101", "ResNet101V2", "ResNet152", "ResNet152V2", "ResNet50", "ResNet50V2", "VGG16",
                        "Xception"})
    EXPECT_THAT(names, Contains(std::string(n)));
  const Model m = applications::build("MobileNetV2", {.include_top = false, .input_shape = Shape{32, 32, 3}});
  EXPECT_EQ(m->name(), "mobilenetv2_1.00_32");
  EXPECT_EQ(m->outputs()[0].shape(), Shape({kNone, 1, 1, 1280}));
}

}  // namespace
}  // namespace minidl
