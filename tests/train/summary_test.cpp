// Keras's own numbers for well-known models: the summary must agree.
#include <gtest/gtest.h>

#include <minidl/minidl.h>

#include "support/models.h"


using namespace minidl;
using minidl::testing::mnist_cnn;

TEST(KerasSummary, MnistCnnHas1199882ParamsLikeKeras) {
  reset_layer_names();
  Sequential model = mnist_cnn();
  EXPECT_EQ(model->count_params(), 1199882);
  const std::string s = model->summary();
  // Rows exactly as keras/examples/mnist_cnn.py prints them (tf.keras 2.4).
  EXPECT_NE(s.find("conv2d (Conv2D)              (None, 26, 26, 32)        320       \n"), std::string::npos) << s;
  EXPECT_NE(s.find("conv2d_1 (Conv2D)            (None, 24, 24, 64)        18496     \n"), std::string::npos);
  EXPECT_NE(s.find("max_pooling2d (MaxPooling2D) (None, 12, 12, 64)        0         \n"), std::string::npos);
  EXPECT_NE(s.find("flatten (Flatten)            (None, 9216)              0         \n"), std::string::npos);
  EXPECT_NE(s.find("dense (Dense)                (None, 128)               1179776   \n"), std::string::npos);
  EXPECT_NE(s.find("Total params: 1,199,882\n"), std::string::npos);
  EXPECT_NE(s.find("Trainable params: 1,199,882\n"), std::string::npos);
  EXPECT_NE(s.find("Non-trainable params: 0\n"), std::string::npos);
}

TEST(KerasSummary, BatchNormMovingStatisticsAreNonTrainable) {
  Sequential model({Dense(4, {.input_shape = Shape{3}}), BatchNormalization()});
  // Dense 3*4+4 = 16; BN gamma, beta (trainable) + moving mean/variance (not): 4 each.
  EXPECT_EQ(model->count_params(), 32);
  const std::string s = model->summary();
  EXPECT_NE(s.find("Trainable params: 24\n"), std::string::npos) << s;
  EXPECT_NE(s.find("Non-trainable params: 8\n"), std::string::npos);
}

TEST(KerasSummary, FunctionalSummaryListsConnections) {
  reset_layer_names();
  KerasTensor in = Input({8});
  KerasTensor a = Dense(4)(in);
  KerasTensor b = Dense(4)(in);
  KerasTensor sum = Add()({a, b});  // Keras: Add()([a, b])
  Model model(in, sum);
  const std::string s = model->summary();
  EXPECT_NE(s.find("Connected to"), std::string::npos);
  EXPECT_NE(s.find("input_1[0][0]"), std::string::npos) << s;
  EXPECT_NE(s.find("dense[0][0]"), std::string::npos);
  EXPECT_NE(s.find("dense_1[0][0]"), std::string::npos);
  EXPECT_NE(s.find("Total params: 72\n"), std::string::npos);
}
