// io/datasets: Fashion-MNIST from generated IDX files, and the real files when installed.
#include "io/datasets.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "core/errors.h"
#include "support/assertions.h"
#include "support/files.h"

using namespace minidl;
namespace fs = std::filesystem;
using namespace minidl::testing;

namespace {

// Fake uncompressed Fashion-MNIST: n training and m test 28x28 images, pixel = label * 25.
void write_fake(const fs::path& dir, uint32_t n, uint32_t m) {
  for (auto [prefix, count] : {std::pair{"train", n}, std::pair{"t10k", m}}) {
    std::string labels, images;
    for (uint32_t i = 0; i < count; ++i) {
      labels += static_cast<char>(i % 10);
      images += std::string(28 * 28, static_cast<char>((i % 10) * 25));
    }
    write_file(dir / (std::string(prefix) + "-labels-idx1-ubyte"), be32(0x801) + be32(count) + labels);
    write_file(dir / (std::string(prefix) + "-images-idx3-ubyte"),
               be32(0x803) + be32(count) + be32(28) + be32(28) + images);
  }
}

}  // namespace

TEST(FashionMnist, LoadsScaledImagesWithAChannelAxis) {
  const fs::path dir = minidl::testing::fresh_dir();
  write_fake(dir, 12, 4);
  FashionMnist d = load_fashion_mnist(dir.string());
  EXPECT_EQ(d.x_train.shape(), (Shape{12, 28, 28, 1}));
  EXPECT_EQ(d.y_train.shape(), Shape{12});
  EXPECT_EQ(d.x_test.shape(), (Shape{4, 28, 28, 1}));
  EXPECT_EQ(d.y_test.to_vector(), (std::vector<float>{0, 1, 2, 3}));
  EXPECT_FLOAT_EQ(d.x_train.at({3, 27, 27, 0}), 75.f / 255.f);
}

TEST(FashionMnist, LimitTrimsOnlyTheTrainingSet) {
  const fs::path dir = minidl::testing::fresh_dir();
  write_fake(dir, 12, 4);
  FashionMnist d = load_fashion_mnist(dir.string(), 5);
  EXPECT_EQ(d.x_train.dim(0), 5);
  EXPECT_EQ(d.y_train.dim(0), 5);
  EXPECT_EQ(d.x_test.dim(0), 4);
}

TEST(FashionMnist, EnvironmentVariableChoosesTheDirectory) {
  const fs::path dir = minidl::testing::fresh_dir();
  write_fake(dir, 3, 2);
  ::setenv("MINIDL_FASHION_MNIST_DIR", dir.c_str(), 1);
  EXPECT_EQ(fashion_mnist_dir(), dir.string());
  EXPECT_EQ(load_fashion_mnist().x_train.dim(0), 3);
  ::unsetenv("MINIDL_FASHION_MNIST_DIR");
  EXPECT_EQ(fashion_mnist_dir(), kDefaultFashionMnistDir);
  EXPECT_EQ(fashion_mnist_dir("/x"), "/x");
}

TEST(FashionMnist, MissingFileNamesTheDebianPackage) {
  const fs::path dir = minidl::testing::fresh_dir();
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_fashion_mnist(dir.string()); },
                                   {(dir / "train-images-idx3-ubyte.gz").string(), "dataset-fashion-mnist"}));
}

TEST(FashionMnist, ImageAndLabelCountsMustAgree) {
  const fs::path dir = minidl::testing::fresh_dir();
  write_fake(dir, 6, 2);
  write_file(dir / "train-labels-idx1-ubyte", be32(0x801) + be32(5) + std::string(5, '\1'));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_fashion_mnist(dir.string()); }, {"6 images", "5 labels"}));
}

TEST(FashionMnist, RealTrainingSetHas60000ImagesAndLabelsInRange) {
  if (!fs::is_directory(kDefaultFashionMnistDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  FashionMnist d = load_fashion_mnist(kDefaultFashionMnistDir);
  EXPECT_EQ(d.x_train.shape(), (Shape{60000, 28, 28, 1}));
  EXPECT_EQ(d.x_test.shape(), (Shape{10000, 28, 28, 1}));
  const auto [lo, hi] = std::minmax_element(d.y_train.span().begin(), d.y_train.span().end());
  EXPECT_EQ(*lo, 0.f);
  EXPECT_EQ(*hi, 9.f);
  const auto [plo, phi] = std::minmax_element(d.x_train.span().begin(), d.x_train.span().end());
  EXPECT_EQ(*plo, 0.f);
  EXPECT_EQ(*phi, 1.f);
}
