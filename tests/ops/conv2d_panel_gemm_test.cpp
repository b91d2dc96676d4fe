// tests/ops/conv2d_panel_gemm_test.cpp — ops/panel_gemm.h against a double-precision product,
// and the convolutions that take it (several chunks of images, 32-wide groups: the im2col
// forward and a 1x1 kernel's input gradient) against ops/conv2d_reference.h and finite differences.
#include "ops/panel_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "support/conv_cases.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// C = max(0, A * op(B) + (C0 or bias)) in double (the max only with relu);
// op(B) is B [K, N] or the transpose of B [N, K]; bias empty: none.
std::vector<double> naive_product(int64_t M, int64_t N, int64_t K, const std::vector<float>& A, int64_t lda,
                                  const std::vector<float>& B, int64_t ldb, bool trans_b, const std::vector<float>& C0,
                                  int64_t ldc, bool accumulate, const std::vector<float>& bias, bool relu) {
  std::vector<double> out(C0.begin(), C0.end());
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = accumulate ? C0[m * ldc + n] : bias.empty() ? 0.0 : bias[n];
      for (int64_t k = 0; k < K; ++k) s += double(A[m * lda + k]) * (trans_b ? B[n * ldb + k] : B[k * ldb + n]);
      out[m * ldc + n] = relu ? std::max(s, 0.0) : s;
    }
  return out;
}

}  // namespace

TEST(PanelGemm, MatchesDoubleProduct) {
  if (!ops::panel_gemm_applicable(32)) GTEST_SKIP() << "built without AVX-512: panel_gemm is not used";
  std::mt19937 rng(31);
  // Rows: one, fewer than a register tile, not a whole row block, many. Depths:
  // one, odd, one block, two uneven blocks. Leading dimensions wider than the matrices.
  for (int64_t M : {1, 7, 25, 61})
    for (int64_t N : {32, 96})
      for (int64_t K : {1, 5, 256, 301})
        for (bool trans_b : {false, true})
          for (int start = 0; start < 3; ++start)  // from zero, from C, from a bias
            for (bool relu : {false, true}) {
              const bool accumulate = start == 1;
              const int64_t lda = K + 3, ldb = (trans_b ? K : N) + 5, ldc = N + 7;
              const auto A = random_floats(M * lda, rng);
              const auto B = random_floats((trans_b ? N : K) * ldb, rng);
              const auto bias = start == 2 ? random_floats(N, rng) : std::vector<float>();
              auto C = random_floats(M * ldc, rng);
              const auto want = naive_product(M, N, K, A, lda, B, ldb, trans_b, C, ldc, accumulate, bias, relu);
              std::vector<float> packed(ops::panel_gemm_packed_floats(K, N), kNaN);
              ops::panel_gemm_pack(K, N, B.data(), ldb, trans_b, packed.data());
              ops::panel_gemm(M, N, K, A.data(), lda, packed.data(), accumulate, C.data(), ldc,
                              bias.empty() ? nullptr : bias.data(), relu);
              ASSERT_TRUE(close(C, want, 1e-5)) << "M=" << M << " N=" << N << " K=" << K << " trans_b=" << trans_b
                                                << " start=" << start << " relu=" << relu;
            }
}

TEST(PanelGemm, RejectsWidthsThatAreNotWholePanels) {
  std::vector<float> B(8 * 40), packed(8 * 40);
  EXPECT_THROW(ops::panel_gemm_pack(8, 40, B.data(), 40, false, packed.data()), ValueError);
  EXPECT_FALSE(ops::panel_gemm_applicable(16));
  EXPECT_FALSE(ops::panel_gemm_applicable(40));
  if (!ops::panel_gemm_applicable(32)) return;
  std::vector<float> A(4 * 8), C(4 * 32), bias(32);
  std::vector<float> packed32(ops::panel_gemm_packed_floats(8, 32));
  ops::panel_gemm_pack(8, 32, B.data(), 32, false, packed32.data());
  EXPECT_THROW(ops::panel_gemm(4, 32, 8, A.data(), 8, packed32.data(), true, C.data(), 32, bias.data()), ValueError);
}

// The relu keeps a NaN as std::max(v, 0.f) does (the conv's other paths) and clamps negatives.
TEST(PanelGemm, ReluKeepsNaN) {
  if (!ops::panel_gemm_applicable(32)) GTEST_SKIP() << "built without AVX-512: panel_gemm is not used";
  const std::vector<float> A{1.f}, B(32, 0.f);
  std::vector<float> bias(32, -0.f), C(32, 1.f), packed(ops::panel_gemm_packed_floats(1, 32));
  bias[3] = std::numeric_limits<float>::quiet_NaN(), bias[5] = -2.f, bias[7] = 3.f;
  ops::panel_gemm_pack(1, 32, B.data(), 32, false, packed.data());
  ops::panel_gemm(1, 32, 1, A.data(), 1, packed.data(), false, C.data(), 32, bias.data(), /*relu=*/true);
  EXPECT_TRUE(std::isnan(C[3]));
  EXPECT_EQ(C[5], 0.f);
  EXPECT_EQ(C[7], 3.f);
}

// Convolutions whose tiles go through panel_gemm: a batch of several chunks,
// 32 or 64 filters per group (the forward), 32 channels per group with a 1x1
// kernel (its input gradient). Strides, padding both ways (same with stride 2
// pads bottom/right only), dilation, groups, odd sizes, tiny tiles; 1 and 2 threads.
TEST(PanelGemm, ConvolutionsMatchTheReference) {
  std::mt19937 rng(32);
  const Config cases[] = {
      {4, 9, 7, 5, 3, 3, 2, 2, 1, 1, 1, 32, true, true, 0},      // stride 2, same (odd total padding)
      {3, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 64, true, false, 0},     // stride 1 below the Winograd channel count
      {3, 11, 9, 6, 3, 2, 1, 2, 2, 1, 1, 32, false, true, 300},  // dilation, valid, tiles split images
      {4, 5, 6, 64, 1, 1, 1, 1, 1, 1, 2, 64, false, true, 0},    // 1x1, two groups of 32 both ways
      {5, 7, 3, 32, 1, 1, 1, 1, 1, 1, 1, 96, false, true, 2000}, // 1x1, tiled mid-image
      {3, 7, 7, 32, 1, 1, 2, 2, 1, 1, 1, 32, true, true, 0}};    // 1x1 stride 2: unfolded
  for (const Config& c : cases)
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      const ConvData d = random_conv_data(c, rng);
      auto ws = workspace_for(c);
      const ConvOutputs o = run_conv2d(c, d, ws);
      const std::string what = std::to_string(threads) + " threads, " + c.str();
      ASSERT_TRUE(close(o.y, reference_forward(c, d.x, d.k, c.bias_of(d.b)), 1e-5)) << what;
      ASSERT_TRUE(gradients_match(o, reference_backward(c, d.x, d.k, d.dy), 1e-5, false, what));
      // The fused relu on the same path.
      const ConvOutputs r = run_conv2d(c, d, ws, /*relu=*/true);
      const auto want = with_relu(reference_forward(c, d.x, d.k, c.bias_of(d.b)), d.dy);
      ASSERT_TRUE(close(r.y, want.y, 1e-5)) << "relu, " << what;
    }
  set_num_threads(2);
}

// The same bits on 1, 2 and 3 threads: each tile is one serial product.
TEST(PanelGemm, ConvolutionBitsDoNotDependOnThreads) {
  std::mt19937 rng(33);
  const Config c{4, 6, 5, 32, 1, 1, 1, 1, 1, 1, 1, 64, false, true, 0};
  const ConvData d = random_conv_data(c, rng);
  set_num_threads(1);
  auto ws1 = workspace_for(c);
  const ConvOutputs one = run_conv2d(c, d, ws1);
  for (int threads : {2, 3}) {
    set_num_threads(threads);
    auto ws = workspace_for(c);
    const ConvOutputs o = run_conv2d(c, d, ws);
    EXPECT_EQ(o.y, one.y) << threads;
    EXPECT_EQ(o.dx, one.dx) << threads;
    EXPECT_EQ(o.dk, one.dk) << threads;
  }
  set_num_threads(2);
}

TEST(PanelGemm, ConvolutionGradientsMatchFiniteDifferences) {
  std::mt19937 rng(34);
  const Config cases[] = {{2, 5, 4, 32, 1, 1, 1, 1, 1, 1, 1, 32, false, true, 0},
                          {2, 5, 5, 4, 3, 3, 2, 2, 1, 1, 1, 32, true, true, 0}};
  for (const Config& c : cases) {
    auto ws = workspace_for(c);
    SCOPED_TRACE(c.str());
    check_gradients_by_finite_differences(c, ws, rng, 1e-3);
  }
}
