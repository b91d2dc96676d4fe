// io/datasets.h — ready-made datasets, shaped the way the Keras examples use them.
//
//   auto d = load_fashion_mnist();              // like keras.datasets.fashion_mnist.load_data()
//   model.fit(d.x_train, d.y_train, ...);       //   then x / 255. and a channel axis
//
// Fashion-MNIST is read from IDX files (io/idx.h) in a directory: the argument, else the
// environment variable MINIDL_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist
// (installed by the Debian package `dataset-fashion-mnist`).
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace minidl {

inline constexpr const char* kDefaultFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct FashionMnist {
  Tensor x_train;  // [60000, 28, 28, 1], pixel / 255 in [0, 1]
  Tensor y_train;  // [60000], class ids 0..9 as floats
  Tensor x_test;   // [10000, 28, 28, 1]
  Tensor y_test;   // [10000]
};

// The directory load_fashion_mnist(dir) reads: dir, else $MINIDL_FASHION_MNIST_DIR, else the default.
std::string fashion_mnist_dir(const std::string& dir = "");

// Loads train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
// t10k-labels-idx1-ubyte.gz (the uncompressed names without .gz are accepted too).
// limit >= 0 keeps only the first `limit` training examples (the test set stays whole).
// Throws IOError when a file is missing (the message says which package provides it),
// malformed, or when image and label counts disagree.
FashionMnist load_fashion_mnist(const std::string& dir = "", int64_t limit = -1);

}  // namespace minidl
