// tests/layers/conv2d_algorithm_layer_test.cpp — the Conv2D layer (layers/conv) under each
// process-wide convolution algorithm (ops/conv2d_algorithm.h): forward and the input,
// kernel and bias gradients against ops/conv2d_reference on strides, dilation,
// groups, both paddings and both data formats; the ValueError of a forced method
// on a layer it cannot compute; and the main job's model training a small batch
// under "im2col" and "reference" with the losses of "auto".
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "core/errors.h"
#include "core/random.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/pooling/pooling2d.h"
#include "layers/regularization/dropout.h"
#include "layers/reshaping/reshaping.h"
#include "ops/conv2d_direct.h"
#include "ops/winograd.h"
#include "support/assertions.h"
#include "support/conv_cases.h"
#include "support/conv_layer_cases.h"
#include "support/models.h"
#include "support/tensors.h"
#include "train/model.h"
#include "train/optimizers.h"

namespace minidl {
namespace {

using namespace testing;

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.span().begin(), t.span().end()); }

ops::Conv2DGeometry geometry_of(const ConvLayerCase& c) {
  return ops::make_conv_geometry(c.N, c.H, c.W, c.C, c.KH, c.KW, c.SH, c.SW, c.DH, c.DW, c.same);
}

// Whether the forced method computes this case (auto, im2col and reference compute all).
bool computes(const std::string& algorithm, const ConvLayerCase& c) {
  if (algorithm == "winograd") return ops::winograd_applicable(geometry_of(c), c.G, c.F);
  if (algorithm == "direct") return ops::direct_applicable(geometry_of(c), c.G);
  return true;
}

// Strides, dilation, groups, pointwise, both paddings and data formats, and
// cases wide enough for Winograd (3x3, stride 1, 8 channels and filters per group).
std::vector<ConvLayerCase> cases() {
  return {
      {.N = 2, .H = 7, .W = 6, .C = 3, .F = 4, .KH = 3, .KW = 3, .SH = 2, .SW = 2, .same = true},
      {.N = 2, .H = 8, .W = 7, .C = 2, .F = 5, .KH = 3, .KW = 2, .DH = 2, .DW = 2, .channels_first = true},
      {.N = 2, .H = 6, .W = 6, .C = 4, .F = 6, .KH = 3, .KW = 3, .G = 2, .same = true},
      {.N = 2, .H = 5, .W = 4, .C = 6, .F = 3, .KH = 1, .KW = 1, .channels_first = true, .use_bias = false},
      {.N = 2, .H = 9, .W = 8, .C = 16, .F = 16, .KH = 3, .KW = 3, .same = true, .channels_first = true},
      {.N = 1, .H = 10, .W = 9, .C = 16, .F = 16, .KH = 3, .KW = 3, .DH = 2, .DW = 2, .G = 2},
      {.N = 2, .H = 9, .W = 9, .C = 16, .F = 8, .KH = 3, .KW = 3, .SH = 2, .SW = 2, .same = true,
       .channels_first = true},
  };
}

std::string describe(const std::string& algorithm, const ConvLayerCase& c) {
  return algorithm + ": N=" + std::to_string(c.N) + " H=" + std::to_string(c.H) + " W=" + std::to_string(c.W) +
         " C=" + std::to_string(c.C) + " F=" + std::to_string(c.F) + " kernel " + std::to_string(c.KH) + "x" +
         std::to_string(c.KW) + " strides " + std::to_string(c.SH) + "," + std::to_string(c.SW) + " dilation " +
         std::to_string(c.DH) + "," + std::to_string(c.DW) + " groups " + std::to_string(c.G) +
         (c.same ? " same " : " valid ") + (c.channels_first ? "channels_first" : "channels_last");
}

// The case's Conv2D layer with random weights from rng.
std::shared_ptr<Conv2DImpl> make_layer(const ConvLayerCase& c, std::mt19937_64& rng) {
  auto layer = make_conv2d_layer(c);
  const Tensor kernel = random_tensor({c.KH, c.KW, c.C / c.G, c.F}, rng, -0.5f, 0.5f);
  if (c.use_bias)
    layer->set_weights({kernel, random_tensor({c.F}, rng, -0.5f, 0.5f)});
  else
    layer->set_weights({kernel});
  return layer;
}

// Whether the case runs on Winograd: forced, or picked by auto.
bool on_winograd(const std::string& algorithm, const ConvLayerCase& c) {
  return (algorithm == "winograd" || algorithm == "auto") && ops::winograd_applicable(geometry_of(c), c.G, c.F);
}

// Winograd's transforms spread rounding across a tile: its tolerance is
// relative to the tensor's largest value, as in tests/ops/winograd_test.cpp.
::testing::AssertionResult matches(bool winograd, const Tensor& got, const std::vector<double>& want) {
  return winograd ? close_to_scale(values(got), want, 1e-5) : close(values(got), want, 1e-5);
}

TEST(Conv2DAlgorithmLayer, EveryAlgorithmMatchesTheReferenceForwardAndBackward) {
  std::mt19937_64 rng(2025);
  int computed = 0, refused = 0;
  for (const char* algorithm : {"auto", "im2col", "winograd", "direct", "reference"}) {
    ConvAlgorithmGuard guard(algorithm);
    for (const ConvLayerCase& c : cases()) {
      const std::string what = describe(algorithm, c);
      auto layer = make_layer(c, rng);
      const Tensor x = random_tensor(c.input_shape(), rng, -1.f, 1.f);
      Variable xv(x.clone(), /*requires_grad=*/true);
      if (!computes(algorithm, c)) {
        EXPECT_TRUE(ThrowsWith<ValueError>([&] { (*layer)(xv); },
                                           {"algorithm \"" + std::string(algorithm) + "\" cannot compute"}))
            << what;
        ++refused;
        continue;
      }
      const bool wino = on_winograd(algorithm, c);
      const Variable y = (*layer)(xv);
      const Tensor kernel = layer->kernel().value();
      const Tensor bias = c.use_bias ? layer->bias().value() : Tensor();
      ASSERT_TRUE(matches(wino, y.value(), conv2d_expected(c, x, kernel, bias))) << "y, " << what;

      const Tensor seed = random_tensor(y.shape(), rng, -1.f, 1.f);
      std::vector<Variable> wrt{xv, layer->kernel()};
      if (c.use_bias) wrt.push_back(layer->bias());
      const std::vector<Tensor> got = grad(y, wrt, seed);
      const ops::Conv2DReferenceGradients want =
          ops::conv2d_reference_backward(c.reference_shape(), channels_last_values(c, x), kernel.span(),
                                         channels_last_values(c, seed), c.F, c.G);
      ASSERT_TRUE(matches(wino, got[0], in_case_layout(c, c.input_shape(), want.dx))) << "dx, " << what;
      ASSERT_TRUE(matches(wino, got[1], want.dkernel)) << "dkernel, " << what;
      if (c.use_bias) {
        ASSERT_TRUE(matches(wino, got[2], want.dbias)) << "dbias, " << what;
      }
      ++computed;
    }
  }
  // winograd: the two wide stride-1 cases; direct: the three one-group ones with at most 32 taps
  EXPECT_EQ(computed, 3 * 7 + 2 + 3);
  EXPECT_EQ(refused, 5 + 4);
}

// The main job (examples/train_fashion_mnist.cpp), on a batch of random images:
// two training steps under `algorithm`, with the same initial weights and
// dropout masks whatever the algorithm. Returns the two losses.
std::vector<double> train_main_model(const char* algorithm) {
  ConvAlgorithmGuard guard(algorithm);
  set_random_seed(42);
  Sequential model = testing::mnist_cnn();
  model->compile(std::make_shared<Adam>(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  std::mt19937_64 rng(7);
  const Tensor x = random_tensor({4, 28, 28, 1}, rng, 0.f, 1.f);
  Tensor y = Tensor::zeros({4});
  for (int64_t i = 0; i < 4; ++i) y.data()[i] = static_cast<float>((3 * i + 1) % 10);
  std::vector<double> losses;
  for (int step = 0; step < 2; ++step) losses.push_back(model->train_on_batch(x, y).at("loss"));
  return losses;
}

TEST(Conv2DAlgorithmLayer, MainModelTrainsUnderIm2colAndReferenceLikeAuto) {
  const std::vector<double> automatic = train_main_model("auto");
  ASSERT_TRUE(std::isfinite(automatic[0]) && std::isfinite(automatic[1]));
  for (const char* algorithm : {"im2col", "reference"}) {
    const std::vector<double> losses = train_main_model(algorithm);
    for (size_t i = 0; i < losses.size(); ++i)
      EXPECT_NEAR(losses[i], automatic[i], 1e-4 * automatic[i]) << algorithm << ", step " << i;
  }
  EXPECT_NE(automatic[1], automatic[0]);  // the first step changed the weights
}

}  // namespace
}  // namespace minidl
