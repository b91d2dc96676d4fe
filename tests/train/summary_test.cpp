// Keras's own numbers for well-known models: the summary must agree.
#include <gtest/gtest.h>

#include <minidl/minidl.h>

#include "support/assertions.h"
#include "support/models.h"

using namespace minidl;
using minidl::testing::ContainsAll;
using minidl::testing::HasParamTotals;
using minidl::testing::mnist_cnn;

TEST(KerasSummary, MnistCnnHas1199882ParamsLikeKeras) {
  reset_layer_names();
  Sequential model = mnist_cnn();
  EXPECT_EQ(model->count_params(), 1199882);
  const std::string s = model->summary();
  // Rows exactly as keras/examples/mnist_cnn.py prints them (tf.keras 2.4).
  EXPECT_TRUE(ContainsAll(s, {"conv2d (Conv2D)              (None, 26, 26, 32)        320       \n",
                              "conv2d_1 (Conv2D)            (None, 24, 24, 64)        18496     \n",
                              "max_pooling2d (MaxPooling2D) (None, 12, 12, 64)        0         \n",
                              "flatten (Flatten)            (None, 9216)              0         \n",
                              "dense (Dense)                (None, 128)               1179776   \n"}));
  EXPECT_TRUE(HasParamTotals(s, "1,199,882", "1,199,882", "0"));
}

TEST(KerasSummary, BatchNormMovingStatisticsAreNonTrainable) {
  Sequential model({Dense(4, {.input_shape = Shape{3}}), BatchNormalization()});
  // Dense 3*4+4 = 16; BN gamma, beta (trainable) + moving mean/variance (not): 4 each.
  EXPECT_EQ(model->count_params(), 32);
  const std::string s = model->summary();
  EXPECT_TRUE(HasParamTotals(s, "32", "24", "8"));
}

TEST(KerasSummary, FunctionalSummaryListsConnections) {
  reset_layer_names();
  KerasTensor in = Input({8});
  KerasTensor a = Dense(4)(in);
  KerasTensor b = Dense(4)(in);
  KerasTensor sum = Add()({a, b});  // Keras: Add()([a, b])
  Model model(in, sum);
  const std::string s = model->summary();
  EXPECT_TRUE(ContainsAll(s, {"Connected to", "input_1[0][0]", "dense[0][0]", "dense_1[0][0]", "Total params: 72\n"}));
}
