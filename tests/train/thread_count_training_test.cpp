// Seeded training gives the same weights, to the bit, on 1, 2 and 3 threads:
// every parallel product and reduction on the training step's path splits its
// work by the problem's sizes alone (see core/threads.h parallel_chunks).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include <minidl/minidl.h>

#include "support/models.h"


using namespace minidl;

namespace {

struct ThreadCountGuard {
  int saved = num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

// Fashion-MNIST-shaped random data: x [n, 28, 28, 1] in [0, 1), labels 0..9.
std::pair<Tensor, Tensor> random_images(int64_t n) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> pixel(0.f, 1.f);
  Tensor x({n, 28, 28, 1}), y({n});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = pixel(rng);
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(rng() % 10);
  return {x, y};
}

// The main job's model (Keras's mnist_cnn), or a variant with
// BatchNormalization and L2 regularizers.
Sequential mnist_cnn(bool batch_norm) {
  if (!batch_norm) return minidl::testing::mnist_cnn();
  return Sequential({
      Conv2D(32, 3, {.kernel_regularizer = L2(1e-3), .input_shape = Shape{28, 28, 1}}),
      BatchNormalization(),
      ActivationLayer("relu"),
      Conv2D(64, 3, {.activation = "relu"}),
      MaxPooling2D(2),
      Flatten(),
      Dense(128, {.activation = "relu", .kernel_regularizer = L2(1e-3)}),
      Dense(10, {.activation = "softmax"}),
  });
}

// Weights (trainable and not) after a few seeded Adam steps on `threads` threads.
std::vector<Tensor> train(int threads, bool batch_norm, uint64_t seed = 42) {
  set_num_threads(threads);
  set_random_seed(seed);
  auto [x, y] = random_images(384);
  Sequential model = mnist_cnn(batch_norm);
  model->compile(std::make_shared<Adam>(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  model->fit(x, y, {.batch_size = 128, .epochs = 1, .verbose = 0});  // 3 steps, shuffled
  return model->get_weights();
}

void expect_same_bits(const std::vector<Tensor>& a, const std::vector<Tensor>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].shape(), b[i].shape()) << what << ", weight " << i;
    ASSERT_EQ(0, std::memcmp(a[i].data(), b[i].data(), sizeof(float) * static_cast<size_t>(a[i].numel())))
        << what << ", weight " << i << " differs";
  }
}

}  // namespace

TEST(ThreadCountTraining, MnistCnnWeightsAreTheSameBitsOnOneTwoAndThreeThreads) {
  ThreadCountGuard guard;
  const std::vector<Tensor> one = train(1, false);
  expect_same_bits(train(2, false), one, "2 threads vs 1");
  expect_same_bits(train(3, false), one, "3 threads vs 1");
}

TEST(ThreadCountTraining, BatchNormAndRegularizersAreTheSameBitsOnOneTwoAndThreeThreads) {
  ThreadCountGuard guard;
  const std::vector<Tensor> one = train(1, true);
  expect_same_bits(train(2, true), one, "2 threads vs 1");
  expect_same_bits(train(3, true), one, "3 threads vs 1");
}

// The test must be able to fail: another seed changes the weights.
TEST(ThreadCountTraining, AnotherSeedGivesOtherWeights) {
  ThreadCountGuard guard;
  const std::vector<Tensor> a = train(1, false), b = train(1, false, 43);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_NE(0, std::memcmp(a[0].data(), b[0].data(), sizeof(float) * static_cast<size_t>(a[0].numel())));
}
