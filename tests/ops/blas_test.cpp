#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "core/random.h"
#include "core/tensor.h"
#include "ops/blas.h"
#include "support/assertions.h"
#include "support/tensors.h"

using namespace minidl;
using minidl::testing::AllClose;

namespace {

// C = alpha * op(A) op(B) + beta * C in double, reading A/B/C through their leading dimensions.
std::vector<double> naive_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                               const std::vector<float>& A, int64_t lda, const std::vector<float>& B, int64_t ldb,
                               double beta, const std::vector<float>& C, int64_t ldc) {
  std::vector<double> out(C.begin(), C.end());
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double a = ta ? A[k * lda + i] : A[i * lda + k];
        const double b = tb ? B[j * ldb + k] : B[k * ldb + j];
        acc += a * b;
      }
      out[i * ldc + j] = alpha * acc + beta * C[i * ldc + j];
    }
  return out;
}

std::vector<float> random_vec(int64_t n) {
  Tensor t = Tensor::uniform({n}, -1.f, 1.f);
  return t.to_vector();
}

struct GemmCase {
  bool ta, tb;
};

class GemmVariants : public ::testing::TestWithParam<GemmCase> {};

}  // namespace

TEST_P(GemmVariants, MatchesNaiveWithPaddedLeadingDimensions) {
  const auto [ta, tb] = GetParam();
  const int64_t M = 7, N = 5, K = 9;
  // Stored shapes: A is [M,K] or [K,M]; B is [K,N] or [N,K]; each row padded by 3 floats.
  const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 4;
  const auto A = random_vec((ta ? K : M) * lda), B = random_vec((tb ? N : K) * ldb), C0 = random_vec(M * ldc);
  std::vector<float> C = C0;
  ops::gemm(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, -2.f, C.data(), ldc);
  const auto ref = naive_gemm(ta, tb, M, N, K, 0.5, A, lda, B, ldb, -2.0, C0, ldc);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      if (j < N)
        EXPECT_NEAR(C[i * ldc + j], ref[i * ldc + j], 1e-5) << "at (" << i << ", " << j << ")";
      else
        EXPECT_EQ(C[i * ldc + j], C0[i * ldc + j]) << "padding column " << j << " of row " << i << " was written";
    }
}

INSTANTIATE_TEST_SUITE_P(Blas, GemmVariants,
                         ::testing::Values(GemmCase{false, false}, GemmCase{true, false}, GemmCase{false, true},
                                           GemmCase{true, true}));

TEST(Blas, BetaZeroOverwritesNaNInC) {
  std::vector<float> A = {1, 2, 3, 4}, B = {1, 0, 0, 1}, C(4, std::nanf(""));
  ops::gemm(false, false, 2, 2, 2, 1.f, A.data(), 2, B.data(), 2, 0.f, C.data(), 2);
  EXPECT_EQ(C, (std::vector<float>{1, 2, 3, 4}));
}

TEST(Blas, ZeroInnerDimensionScalesCByBeta) {
  std::vector<float> C = {1, 2, 3, 4};
  ops::gemm(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 3.f, C.data(), 2);
  EXPECT_EQ(C, (std::vector<float>{3, 6, 9, 12}));
}

TEST(Blas, RejectsLeadingDimensionSmallerThanRow) {
  std::vector<float> A(12), B(12), C(12);
  EXPECT_THROW(ops::gemm(false, false, 3, 4, 3, 1.f, A.data(), 2, B.data(), 4, 0.f, C.data(), 4), ValueError);
  EXPECT_THROW(ops::gemm(false, true, 3, 4, 3, 1.f, A.data(), 3, B.data(), 2, 0.f, C.data(), 4), ValueError);
  EXPECT_THROW(ops::gemm(false, false, 3, 4, 3, 1.f, A.data(), 3, B.data(), 4, 0.f, C.data(), 3), ValueError);
}

TEST(Blas, RejectsNegativeSizes) {
  std::vector<float> A(4), B(4), C(4);
  EXPECT_THROW(ops::gemm(false, false, -1, 2, 2, 1.f, A.data(), 2, B.data(), 2, 0.f, C.data(), 2), ValueError);
}

// gemv_row is gemm with M = 1: checked against the double loop for both layouts
// of B, a padded ldb, beta != 0, and sizes below and above the split into
// column blocks (2M multiply-adds).
TEST(Blas, GemvRowMatchesNaiveForBothLayouts) {
  for (bool tb : {false, true})
    for (const auto& [N, K] : {std::pair<int64_t, int64_t>{10, 128}, {128, 9216}, {640, 4096}, {7, 1}}) {
      const int64_t ldb = (tb ? K : N) + 3;
      const auto x = random_vec(K), B = random_vec((tb ? N : K) * ldb), y0 = random_vec(N + 2);
      std::vector<float> y = y0;
      ops::gemv_row(tb, N, K, 0.5f, x.data(), B.data(), ldb, -2.f, y.data());
      const auto ref = naive_gemm(false, tb, 1, N, K, 0.5, x, K, B, ldb, -2.0, y0, N + 2);
      double worst = 0, scale = 0;
      for (int64_t j = 0; j < N; ++j) {
        worst = std::max(worst, std::abs(y[j] - ref[j]));
        scale = std::max(scale, std::abs(ref[j]));
      }
      EXPECT_LE(worst, 1e-5 * scale) << "tb=" << tb << " N=" << N << " K=" << K;
      EXPECT_EQ(y[N], y0[N]) << "y beyond N was written";
      EXPECT_EQ(y[N + 1], y0[N + 1]) << "y beyond N was written";
    }
}

TEST(Blas, GemvRowSpecialCasesFollowGemm) {
  std::vector<float> y(3, std::nanf(""));
  const std::vector<float> x = {1, 2}, B = {1, 0, 0, 0, 1, 0};  // [2, 3]
  ops::gemv_row(false, 3, 2, 1.f, x.data(), B.data(), 3, 0.f, y.data());  // beta 0 overwrites NaN
  EXPECT_EQ(y, (std::vector<float>{1, 2, 0}));
  ops::gemv_row(false, 3, 0, 1.f, nullptr, nullptr, 3, 2.f, y.data());  // K == 0: beta * y
  EXPECT_EQ(y, (std::vector<float>{2, 4, 0}));
  EXPECT_THROW(ops::gemv_row(false, 3, 2, 1.f, x.data(), B.data(), 2, 0.f, y.data()), ValueError);
}

// Independence of the thread count: thread_count_test.cpp.

TEST(Matmul, MatchesNaiveForAllTransposeFlags) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const int64_t M = 4, N = 6, K = 3;
      Tensor a = ta ? Tensor::uniform({K, M}, -1, 1) : Tensor::uniform({M, K}, -1, 1);
      Tensor b = tb ? Tensor::uniform({N, K}, -1, 1) : Tensor::uniform({K, N}, -1, 1);
      Tensor c = ops::matmul(a, b, ta, tb);
      ASSERT_EQ(c.shape(), (Shape{M, N}));
      const auto ref = naive_gemm(ta, tb, M, N, K, 1.0, a.to_vector(), a.dim(1), b.to_vector(), b.dim(1), 0.0,
                                  std::vector<float>(M * N, 0.f), N);
      EXPECT_TRUE(AllClose(c, minidl::testing::to_tensor({M, N}, ref))) << "ta=" << ta << " tb=" << tb;
    }
}

TEST(Matmul, EmptyInnerDimensionGivesZeros) {
  Tensor c = ops::matmul(Tensor::zeros({3, 0}), Tensor::zeros({0, 2}));
  ASSERT_EQ(c.shape(), (Shape{3, 2}));
  for (int64_t i = 0; i < c.numel(); ++i) EXPECT_EQ(c[i], 0.f);
}

TEST(Matmul, RejectsMismatchedInnerDimensions) {
  EXPECT_THROW(ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 2})), ValueError);
  EXPECT_THROW(ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({2, 3}), false, false), ValueError);
  EXPECT_NO_THROW(ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({2, 3}), true, false));
}

TEST(Matmul, RejectsNonMatrixOperands) {
  EXPECT_THROW(ops::matmul(Tensor::zeros({2, 3, 1}), Tensor::zeros({3, 2})), ValueError);
  EXPECT_THROW(ops::matmul(Tensor::zeros({3}), Tensor::zeros({3, 2})), ValueError);
}
