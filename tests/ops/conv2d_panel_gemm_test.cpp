// tests/ops/conv2d_panel_gemm_test.cpp — ops/panel_gemm.h against a double-precision product,
// and the convolutions that take it (several chunks of images, 32-wide groups: the im2col
// forward and a 1x1 kernel's input gradient) against ops/conv2d_reference.h and finite differences.
#include "ops/panel_gemm.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "support/conv_cases.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// C = A * op(B) (+ C0) in double; op(B) is B [K, N] or the transpose of B [N, K].
std::vector<double> naive_product(int64_t M, int64_t N, int64_t K, const std::vector<float>& A, int64_t lda,
                                  const std::vector<float>& B, int64_t ldb, bool trans_b, const std::vector<float>& C0,
                                  int64_t ldc, bool accumulate) {
  std::vector<double> out(C0.begin(), C0.end());
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = accumulate ? C0[m * ldc + n] : 0.0;
      for (int64_t k = 0; k < K; ++k) s += double(A[m * lda + k]) * (trans_b ? B[n * ldb + k] : B[k * ldb + n]);
      out[m * ldc + n] = s;
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
          for (bool accumulate : {false, true}) {
            const int64_t lda = K + 3, ldb = (trans_b ? K : N) + 5, ldc = N + 7;
            const auto A = random_floats(M * lda, rng);
            const auto B = random_floats((trans_b ? N : K) * ldb, rng);
            auto C = random_floats(M * ldc, rng);
            const auto want = naive_product(M, N, K, A, lda, B, ldb, trans_b, C, ldc, accumulate);
            std::vector<float> packed(ops::panel_gemm_packed_floats(K, N), kNaN);
            ops::panel_gemm_pack(K, N, B.data(), ldb, trans_b, packed.data());
            ops::panel_gemm(M, N, K, A.data(), lda, packed.data(), accumulate, C.data(), ldc);
            ASSERT_TRUE(close(C, want, 1e-5)) << "M=" << M << " N=" << N << " K=" << K << " trans_b=" << trans_b
                                              << " accumulate=" << accumulate;
          }
}

TEST(PanelGemm, RejectsWidthsThatAreNotWholePanels) {
  std::vector<float> B(8 * 40), packed(8 * 40);
  EXPECT_THROW(ops::panel_gemm_pack(8, 40, B.data(), 40, false, packed.data()), ValueError);
  EXPECT_FALSE(ops::panel_gemm_applicable(16));
  EXPECT_FALSE(ops::panel_gemm_applicable(40));
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
