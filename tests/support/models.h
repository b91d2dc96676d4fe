// tests/support/models.h — small models and data shared by the train and tool tests.
#pragma once

#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/regularization/dropout.h"
#include "layers/base/input_layer.h"
#include "layers/pooling/pooling2d.h"
#include "layers/reshaping/reshaping.h"
#include "train/model.h"

namespace minidl::testing {

// Input(in) -> Dense(out) with the given options, compiled with plain SGD and mse.
inline Model linear_model(int64_t in = 2, int64_t out = 1, double lr = 0.1, DenseOptions o = {}) {
  KerasTensor x = Input({in});
  Model m(x, Dense(out, std::move(o))(x));
  m->compile(std::make_shared<SGD>(lr), "mse");
  return m;
}

// The layer sizes of mnist_cnn: Keras's own, or smaller where a test must stay fast.
struct CnnSizes {
  int64_t side = 28;  // the images are side x side x 1
  int64_t conv1 = 32, conv2 = 64, dense = 128;
};

// The classic Keras mnist_cnn (keras/examples/mnist_cnn.py), as the main job
// (examples/train_fashion_mnist.cpp) builds it with the default sizes; not compiled.
inline Sequential mnist_cnn(const CnnSizes& s = {}) {
  return Sequential({
      Conv2D(s.conv1, 3, {.activation = "relu", .input_shape = Shape{s.side, s.side, 1}}),
      Conv2D(s.conv2, 3, {.activation = "relu"}),
      MaxPooling2D(2),
      Dropout(0.25),
      Flatten(),
      Dense(s.dense, {.activation = "relu"}),
      Dropout(0.5),
      Dense(10, {.activation = "softmax"}),
  });
}

// n samples of [n, in] and [n, out] targets from fixed formulas (no randomness).
inline Tensor ramp(int64_t n, int64_t cols, float scale = 0.1f, float offset = 0.f) {
  Tensor t({n, cols});
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = offset + scale * static_cast<float>((i * 7) % 11) - 0.5f;
  return t;
}

}  // namespace minidl::testing
