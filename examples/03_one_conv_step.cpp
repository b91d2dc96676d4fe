// examples/03_one_conv_step.cpp — one training step of a small CNN with im2col forced, from fit() to cblas_sgemm.
//
// minidl picks the fastest convolution method per layer (Winograd, a direct
// loop, or im2col + GEMM). A learner wants the plain one: set_conv_algorithm
// ("im2col") (ops/conv2d_algorithm.h) makes every conv layer unfold its input
// into a matrix and multiply it by the kernel with one sgemm. This example
// prints the shape of the data at every stop of one fit() step, redoes the
// convolution by hand with the same ops (im2col, then a GEMM), and checks it
// against the layer and against the naive loops of ops/conv2d_reference.h.
// Then it trains one step with im2col and the same step with the reference
// algorithm and checks that the weights agree. A wrong result exits 1.
//
// Read next, in this order: train/fit.cpp (FitLoop::train_step),
// layers/conv/conv_base.cpp (ConvBase::call), layers/conv/conv2d_function.cpp,
// ops/conv2d.cpp (conv2d_forward), ops/im2col.h, ops/blas.cpp (cblas_sgemm);
// then examples/04_load_keras_h5.cpp.
//
//   build/examples/03_one_conv_step
#include <minidl/minidl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "ops/conv2d_algorithm.h"
#include "example_checks.h"

using namespace minidl;

namespace {

void stop(const char* where, const char* what, const Shape& shape) {
  std::printf("  %-44s %-30s %s\n", where, what, shape_str(shape).c_str());
}

Sequential make_cnn(int64_t H, int64_t W, int64_t C, int64_t F) {
  return Sequential({Conv2D(F, 3, {.activation = "relu", .input_shape = Shape{H, W, C}, .name = "conv"}),
                     Flatten(), Dense(2, {.activation = "softmax", .name = "head"})});
}

}  // namespace

int main() {
  examples::Checks check("03_one_conv_step");
  set_random_seed(3);
  const int64_t N = 4, H = 8, W = 8, C = 3, F = 5, K = 3;
  // With "auto" this layer (KH*KW*C = 27 <= 32 taps) would take the direct loop.
  set_conv_algorithm("im2col");
  std::printf("conv algorithm: %s\n", std::string(conv_algorithm()).c_str());
  check(conv_algorithm() == "im2col", "every conv layer takes im2col + GEMM");

  Sequential model = make_cnn(H, W, C, F);
  Sequential twin = make_cnn(H, W, C, F);  // the same step with the reference loops, below
  twin->set_weights(model->get_weights());
  const Tensor x = Tensor::uniform({N, H, W, C}, -1.f, 1.f);
  const Tensor y = Tensor::from_data({N}, {0, 1, 1, 0});
  auto conv = std::dynamic_pointer_cast<Conv2DImpl>(model->get_layer("conv"));
  const Tensor kernel = conv->kernel().value(), bias = conv->get_weights()[1];

  // The geometry ops/conv2d.cpp computes: "valid" padding, stride 1.
  const ops::Conv2DGeometry g = ops::make_conv_geometry(N, H, W, C, K, K, 1, 1, 1, 1, /*same_padding=*/false);
  const int64_t M = N * g.OH * g.OW, KG = K * K * C;

  std::printf("\nForward, stop by stop (one batch of %ld images):\n", static_cast<long>(N));
  stop("ModelImpl::fit (train/fit.cpp)", "x, one batch", x.shape());
  stop("FitLoop::train_step -> FunctionalImpl::run", "input of layer 'conv'", x.shape());
  stop("ConvBase::call -> conv2d_variable", "tape entry \"conv2d\"", x.shape());
  // im2col: row (n, oh, ow) holds the 3x3xC window under output pixel (oh, ow).
  Tensor col = Tensor::zeros({M, KG});
  for (int64_t n = 0; n < N; ++n) ops::im2col(x.data() + n * H * W * C, g, 0, C, col.data() + n * g.OH * g.OW * KG);
  stop("ops::conv2d_forward: im2col", "col [N*OH*OW, KH*KW*C]", col.shape());
  const Tensor kernel_matrix = kernel.reshape({KG, F});  // same memory as the (KH, KW, C, F) kernel
  stop("ops::conv2d_forward: kernel as a matrix", "kernel [KH*KW*C, F]", kernel_matrix.shape());
  Tensor product = ops::matmul(col, kernel_matrix);  // ops::gemm -> cblas_sgemm
  stop("ops::gemm -> cblas_sgemm (ops/blas.cpp)", "col * kernel [N*OH*OW, F]", product.shape());
  for (int64_t i = 0; i < M * F; ++i) product[i] = std::max(product[i] + bias[i % F], 0.f);  // bias, fused relu
  const Tensor by_hand = product.reshape({N, g.OH, g.OW, F});
  stop("back in the layer: the rows as images", "conv output [N, OH, OW, F]", by_hand.shape());
  const Tensor layer_out = conv->apply(x);
  stop("Flatten -> Dense 'head'", "y_pred [N, 2]", model->predict(x).shape());

  std::printf("\nBackward, the same matrices transposed (ops/conv2d.cpp backward_im2col):\n");
  stop("dy, the loss gradient at 'conv'", "dy [N*OH*OW, F]", Shape{M, F});
  stop("dkernel = col^T * dy", "[KH*KW*C, F] = [KH*KW*C, M] [M, F]", Shape{KG, F});
  stop("dx = col2im(dy * kernel^T)", "[M, KH*KW*C] folded back", x.shape());

  // ops/conv2d_reference.h: the definition, as nested loops in double.
  const ops::ConvReferenceShape s{.N = N, .H = H, .W = W, .C = C, .KH = K, .KW = K};
  const std::vector<double> ref = ops::conv2d_reference(s, x.span(), kernel.span(), bias.span(), F);
  double err_layer = 0, err_hand = 0;
  for (int64_t i = 0; i < M * F; ++i) {
    const double r = std::max(ref[i], 0.0);
    err_layer = std::max(err_layer, std::fabs(layer_out[i] - r));
    err_hand = std::max(err_hand, std::fabs(by_hand[i] - r));
  }
  std::printf("\nmax |layer - reference| = %.2e, max |by hand - reference| = %.2e\n", err_layer, err_hand);
  check(layer_out.shape() == Shape({N, 6, 6, F}), "conv output is (4, 6, 6, 5)");
  check(err_layer < 1e-5, "Conv2D with im2col matches ops/conv2d_reference");
  check(err_hand < 1e-5, "im2col + GEMM by hand matches ops/conv2d_reference");

  // One step of fit with im2col, and the same step with the reference loops.
  for (Sequential* m : {&model, &twin}) (*m)->compile(std::make_shared<SGD>(0.1), "sparse_categorical_crossentropy");
  const FitOptions one_step{.batch_size = N, .epochs = 1, .verbose = 0, .shuffle = false};
  const Tensor kernel_before = kernel.clone();
  model->fit(x, y, one_step);
  set_conv_algorithm("reference");
  twin->fit(x, y, one_step);
  set_conv_algorithm("auto");
  const Tensor k_im2col = conv->kernel().value(), k_ref = twin->get_layer("conv")->get_weights()[0];
  const double moved = max_abs_diff(k_im2col, kernel_before), err_step = max_abs_diff(k_im2col, k_ref);
  std::printf("\nafter one SGD step: kernel moved by up to %.2e; im2col vs reference step differ by %.2e\n", moved,
              err_step);
  check(moved > 1e-6, "the step changed the conv kernel");
  check(err_step < 1e-5, "the im2col step equals the reference step");

  return check.finish();
}
