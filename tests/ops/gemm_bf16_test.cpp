// tests/ops/gemm_bf16_test.cpp — bfloat16 rounding against a double-precision reference; the
// bfloat16 GEMM (fallback and oneDNN) against a double product of the rounded operands; the fallback warning.
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/errors.h"
#include "core/logging.h"
#include "ops/blas.h"
#include "ops/gemm_bf16.h"

using namespace minidl;

namespace {

// The nearest bfloat16 value of a finite float, ties to the value with an even
// last mantissa bit, computed in double from the spacing of bfloat16 values
// around it (2^(e-7) for |x| in [2^e, 2^(e+1)), 2^-133 below 2^-126). Values
// past the largest finite bfloat16 (rounding up to 2^128) become infinity.
double reference_bf16(float xf) {
  const double x = xf;
  if (x == 0) return x;
  const double ax = std::fabs(x);
  int e = 0;
  std::frexp(ax, &e);  // ax = m * 2^e, m in [0.5, 1): ax in [2^(e-1), 2^e)
  const double spacing = std::ldexp(1.0, std::max(e - 1, -126) - 7);
  const double lo = std::floor(ax / spacing) * spacing, hi = lo + spacing;
  double r;
  if (ax - lo < hi - ax) {
    r = lo;
  } else if (ax - lo > hi - ax) {
    r = hi;
  } else {
    r = std::fmod(lo / spacing, 2.0) == 0 ? lo : hi;
  }
  if (r >= std::ldexp(1.0, 128)) r = std::numeric_limits<double>::infinity();
  return std::copysign(r, x);
}

float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// C = op(A) op(B) in double over the bfloat16-rounded operands.
std::vector<double> reference_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const std::vector<float>& A,
                                   int64_t lda, const std::vector<float>& B, int64_t ldb) {
  std::vector<double> c(static_cast<size_t>(M * N), 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double a = reference_bf16(ta ? A[k * lda + i] : A[i * lda + k]);
        const double b = reference_bf16(tb ? B[j * ldb + k] : B[k * ldb + j]);
        acc += a * b;
      }
      c[i * N + j] = acc;
    }
  return c;
}

std::vector<float> uniform(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}

// Checks a float32-accumulated product against the double one, within float32
// accumulation error. Unrounded operands would miss by about 1e-2 on these
// sizes (a 2^-9 relative error per operand over hundreds of terms).
void expect_product_near(const std::vector<float>& c, const std::vector<double>& ref) {
  ASSERT_EQ(c.size(), ref.size());
  for (size_t i = 0; i < c.size(); ++i)
    EXPECT_NEAR(c[i], ref[i], 2e-5 * (1 + std::fabs(ref[i]))) << "element " << i;
}

}  // namespace

TEST(RoundToBfloat16Test, MatchesDoubleReferenceOverEveryExponent) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits;
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const float x = bits_to_float(bits(rng));
    if (!std::isfinite(x)) continue;
    const double want = reference_bf16(x);
    const float got = ops::round_to_bfloat16(x);
    ASSERT_EQ(static_cast<double>(got), want) << "x = " << x;
    ASSERT_EQ(std::signbit(got), std::signbit(x)) << "x = " << x;
    ++checked;
  }
  EXPECT_GT(checked, 190000);
}

TEST(RoundToBfloat16Test, TiesGoToEvenAndSpecialValuesKeepTheirKind) {
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: even mantissa (1) wins.
  EXPECT_EQ(ops::round_to_bfloat16(1.f + std::ldexp(1.f, -8)), 1.f);
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
  EXPECT_EQ(ops::round_to_bfloat16(1.f + 3 * std::ldexp(1.f, -8)), 1.f + std::ldexp(1.f, -6));
  // Just above the tie rounds up.
  EXPECT_EQ(ops::round_to_bfloat16(std::nextafter(1.f + std::ldexp(1.f, -8), 2.f)), 1.f + std::ldexp(1.f, -7));
  EXPECT_EQ(ops::round_to_bfloat16(-2.5f), -2.5f);  // exactly representable
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(ops::round_to_bfloat16(inf), inf);
  EXPECT_EQ(ops::round_to_bfloat16(-inf), -inf);
  EXPECT_EQ(ops::round_to_bfloat16(std::numeric_limits<float>::max()), inf);  // past bfloat16's largest
  EXPECT_TRUE(std::signbit(ops::round_to_bfloat16(-0.f)));
  EXPECT_TRUE(std::isnan(ops::round_to_bfloat16(std::numeric_limits<float>::quiet_NaN())));
  // A NaN whose payload sits only in the dropped bits stays a NaN.
  EXPECT_TRUE(std::isnan(ops::round_to_bfloat16(bits_to_float(0x7f800001u))));
  EXPECT_TRUE(std::isnan(ops::round_to_bfloat16(bits_to_float(0xffffffffu))));
  // The smallest subnormal float rounds to zero; bfloat16's smallest subnormal is kept.
  EXPECT_EQ(ops::round_to_bfloat16(std::numeric_limits<float>::denorm_min()), 0.f);
  EXPECT_EQ(ops::round_to_bfloat16(std::ldexp(1.f, -133)), std::ldexp(1.f, -133));
}

TEST(RoundToBfloat16Test, ArrayFormRoundsInPlace) {
  std::vector<float> v = uniform(1000, 3);
  std::vector<float> want(v.size());
  for (size_t i = 0; i < v.size(); ++i) want[i] = static_cast<float>(reference_bf16(v[i]));
  ops::round_to_bfloat16(v.data(), v.data(), static_cast<int64_t>(v.size()));
  EXPECT_EQ(v, want);
}

TEST(GemmBf16Test, MatchesDoubleProductOfRoundedOperandsForEveryTransposition) {
  const int64_t M = 37, N = 29, K = 300;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 1;
      const std::vector<float> A = uniform((ta ? K : M) * lda, 1), B = uniform((tb ? N : K) * ldb, 2);
      std::vector<float> C(static_cast<size_t>(M * ldc), 0.5f);
      ops::gemm_bf16(ta, tb, M, N, K, 2.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), ldc);
      const std::vector<double> ref = reference_gemm(ta, tb, M, N, K, A, lda, B, ldb);
      std::vector<float> packed;
      std::vector<double> want;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          packed.push_back(C[i * ldc + j]);
          want.push_back(2 * ref[i * N + j]);
        }
      expect_product_near(packed, want);
      for (int64_t i = 0; i < M; ++i) EXPECT_EQ(C[i * ldc + N], 0.5f) << "column beyond N was written";
    }
}

TEST(GemmBf16Test, LargeProductSplitIntoBlocksAndBetaAccumulates) {
  const int64_t M = 300, N = 70, K = 160;  // above the one-block threshold
  const std::vector<float> A = uniform(M * K, 4), B = uniform(K * N, 5);
  std::vector<float> C = uniform(M * N, 6);
  const std::vector<float> C0 = C;
  ops::gemm_bf16(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 1.f, C.data(), N);
  std::vector<double> want = reference_gemm(false, false, M, N, K, A, K, B, N);
  for (size_t i = 0; i < want.size(); ++i) want[i] += C0[i];  // beta * C is not rounded
  expect_product_near(C, want);
}

TEST(GemmBf16Test, BadStridesRaiseValueError) {
  std::vector<float> a(16), b(16), c(16);
  EXPECT_THROW(ops::gemm_bf16(false, false, 4, 4, 4, 1.f, a.data(), 3, b.data(), 4, 0.f, c.data(), 4), ValueError);
  EXPECT_THROW(ops::gemm_bf16(false, false, -1, 4, 4, 1.f, a.data(), 4, b.data(), 4, 0.f, c.data(), 4), ValueError);
}

TEST(GemmBf16Test, OneDnnBf16GemmMatchesDoubleReferenceWhereItRuns) {
  const int64_t M = 150, N = 33, K = 257;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const std::vector<float> A = uniform(M * K, 8), B = uniform(K * N, 9);
      std::vector<float> C(static_cast<size_t>(M * N), 0.f);
      const int64_t lda = ta ? M : K, ldb = tb ? K : N;
      if (!ops::gemm_bf16_onednn(ta, tb, M, N, K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), N))
        GTEST_SKIP() << "oneDNN's bfloat16 GEMM is not built in or does not run on this CPU";
      expect_product_near(C, reference_gemm(ta, tb, M, N, K, A, lda, B, ldb));
    }
}

// In a fresh process: two fallback products, then exit 0 when exactly one
// warning line was written and the product is right.
[[noreturn]] void two_products_and_count_warnings() {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  logger()->sinks().push_back(sink);
  std::vector<float> a(4, 1.f), b(4, 1.f), c(4);
  ops::gemm_bf16(false, false, 2, 2, 2, 1.f, a.data(), 2, b.data(), 2, 0.f, c.data(), 2);
  ops::gemm_bf16(false, false, 2, 2, 2, 1.f, a.data(), 2, b.data(), 2, 0.f, c.data(), 2);
  int warnings = 0;
  for (const auto& line : sink->last_formatted()) warnings += line.find("mixed_bfloat16") != std::string::npos;
  std::exit(warnings == 1 && c[0] == 2.f ? 0 : 1);
}

// The warning is written once per process: the threadsafe death-test style
// re-executes the test binary, so no earlier test has written it there.
TEST(GemmBf16DeathTest, FallbackWritesOneWarningLine) {
  if (ops::bf16_gemm_available()) GTEST_SKIP() << "this CPU runs the bfloat16 GEMM: no fallback";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(two_products_and_count_warnings(), ::testing::ExitedWithCode(0), "");
}
