// tests/ops/bf16_convert_test.cpp — the bfloat16 conversion kernels (ops/bf16_convert.h) bit for
// bit against the scalar ops::round_to_bfloat16 on random bit patterns, ties, subnormals, infinities
// and NaNs, every length up to a few vectors and unaligned starts, for each kernel this CPU runs; the
// fused relu mask + column sums + rounding of dy against a double loop; the bfloat16 unfolding and
// GEMM on patterns against their float32 counterparts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/errors.h"
#include "ops/bf16_convert.h"
#include "ops/gemm_bf16.h"
#include "ops/im2col.h"

namespace minidl {
// A named namespace: the file-local names stay apart from those of the other files of a unity batch.
namespace bf16_convert_test {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

uint16_t scalar_bits(float f) { return static_cast<uint16_t>(bits_of(ops::round_to_bfloat16(f)) >> 16); }

std::vector<ops::Bf16Kernel> kernels_here() {
  std::vector<ops::Bf16Kernel> k = {ops::Bf16Kernel::kAuto, ops::Bf16Kernel::kPortable};
  if (ops::bf16_kernel_available(ops::Bf16Kernel::kAvx512Bf16)) k.push_back(ops::Bf16Kernel::kAvx512Bf16);
  return k;
}

// Special patterns: ties below and above even, the largest floats (rounding to
// infinity or not), subnormals of both signs (with ties), zeros, infinities,
// quiet and signalling NaNs with small and large payloads.
std::vector<float> special_values() {
  const uint32_t patterns[] = {
      0x3f808000u, 0x3f818000u, 0x3f808001u, 0x3f807fffu, 0xbf808000u, 0xbf818000u, 0x7f7fffffu, 0x7f7f7fffu,
      0x7f7f8000u, 0xff7f8000u, 0x7f7effffu, 0x00000001u, 0x00008000u, 0x00018000u, 0x00007fffu, 0x007fffffu,
      0x007f8000u, 0x80000001u, 0x80018000u, 0x807fffffu, 0x00800000u, 0x00000000u, 0x80000000u, 0x7f800000u,
      0xff800000u, 0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u, 0x7fbfffffu, 0x7fffffffu, 0x7f808000u,
      0x3f800000u, 0x40490fdbu, 0x33d6bf95u, 0xc2f6e979u};
  std::vector<float> v;
  for (uint32_t p : patterns) v.push_back(float_of(p));
  return v;
}

// Random bit patterns (every class: NaNs and infinities ~0.4%, subnormals
// ~0.4%), then the special values, then random normal floats.
std::vector<float> test_values(size_t random_count) {
  std::mt19937 rng(7);
  std::vector<float> v;
  for (size_t i = 0; i < random_count; ++i) v.push_back(float_of(static_cast<uint32_t>(rng())));
  for (float s : special_values()) v.push_back(s);
  std::normal_distribution<float> normal(0.f, 3.f);
  for (size_t i = 0; i < random_count; ++i) v.push_back(normal(rng));
  return v;
}

TEST(Bf16Convert, BitsMatchScalarRoundingBitForBit) {
  const std::vector<float> v = test_values(50000);
  for (ops::Bf16Kernel k : kernels_here()) {
    SCOPED_TRACE(static_cast<int>(k));
    std::vector<uint16_t> got(v.size(), 0xdeadu);
    ops::to_bf16_bits(v.data(), got.data(), static_cast<int64_t>(v.size()), k);
    for (size_t i = 0; i < v.size(); ++i)
      ASSERT_EQ(got[i], scalar_bits(v[i])) << "input 0x" << std::hex << bits_of(v[i]);
  }
}

TEST(Bf16Convert, EveryLengthAndOffsetWritesExactlyItsElements) {
  const std::vector<float> v = test_values(64);  // specials sit at 64..99
  for (ops::Bf16Kernel k : kernels_here())
    for (int64_t offset : {0, 1, 3, 60})
      for (int64_t n = 0; n <= 40; ++n) {
        SCOPED_TRACE(::testing::Message() << "kernel " << static_cast<int>(k) << " offset " << offset << " n " << n);
        std::vector<uint16_t> got(static_cast<size_t>(n + 2), 0xbeefu);
        ops::to_bf16_bits(v.data() + offset, got.data() + 1, n, k);
        std::vector<float> rounded(static_cast<size_t>(n + 2), -7.f);
        ops::round_bf16(v.data() + offset, rounded.data() + 1, n, k);
        EXPECT_EQ(got.front(), 0xbeefu);
        EXPECT_EQ(got.back(), 0xbeefu);  // nothing written past n
        EXPECT_EQ(rounded.front(), -7.f);
        EXPECT_EQ(rounded.back(), -7.f);
        for (int64_t i = 0; i < n; ++i) {
          const float x = v[static_cast<size_t>(offset + i)];
          ASSERT_EQ(got[static_cast<size_t>(i + 1)], scalar_bits(x));
          ASSERT_EQ(bits_of(rounded[static_cast<size_t>(i + 1)]), bits_of(ops::round_to_bfloat16(x)));
        }
      }
}

TEST(Bf16Convert, RoundsInPlace) {
  std::vector<float> v = test_values(1000);
  std::vector<uint32_t> want;
  for (float x : v) want.push_back(bits_of(ops::round_to_bfloat16(x)));
  ops::round_bf16(v.data(), v.data(), static_cast<int64_t>(v.size()));
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(bits_of(v[i]), want[i]);
}

TEST(Bf16Convert, SubnormalsKeepTheirValueOnEveryKernel) {
  // vcvtneps2bf16 alone reads these as zero; the kernels must not.
  const float tiny = float_of(0x00018000u);  // a subnormal tie: rounds to even 0x0002
  for (ops::Bf16Kernel k : kernels_here()) {
    std::vector<float> v(37, tiny);
    v[5] = float_of(0x80000001u);
    std::vector<uint16_t> got(v.size());
    ops::to_bf16_bits(v.data(), got.data(), static_cast<int64_t>(v.size()), k);
    EXPECT_EQ(got[0], 0x0002u);
    EXPECT_EQ(got[36], 0x0002u);  // in the tail
    EXPECT_EQ(got[5], 0x8000u);
  }
}

TEST(Bf16Convert, UnavailableKernelRaisesValueError) {
  if (ops::bf16_kernel_available(ops::Bf16Kernel::kAvx512Bf16)) GTEST_SKIP() << "this CPU has AVX512_BF16";
  float x = 1.f;
  uint16_t h = 0;
  EXPECT_THROW(ops::to_bf16_bits(&x, &h, 1, ops::Bf16Kernel::kAvx512Bf16), ValueError);
}

// The relu mask, the double column sums and the rounding of dy, for narrow
// rows (several per piece) and rows wider than a piece.
TEST(Bf16Convert, MaskSumMatchesDoubleLoopAndScalarRounding) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  for (int64_t cols : {1, 7, 64, 2049, 5000})
    for (bool masked : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "cols " << cols << (masked ? " masked" : ""));
      const int64_t rows = cols > 100 ? 3 : 300;
      std::vector<float> dy(static_cast<size_t>(rows * cols)), mask(dy.size());
      for (float& x : dy) x = u(rng);
      for (float& x : mask) x = u(rng) > 0.f ? u(rng) : 0.f;
      std::vector<double> want(static_cast<size_t>(cols), 0.5), sums(want);
      std::vector<uint16_t> bits(dy.size());
      std::vector<float> rounded(dy.size());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          const size_t i = static_cast<size_t>(r * cols + c);
          want[static_cast<size_t>(c)] += !masked || mask[i] > 0.f ? dy[i] : 0.0;
        }
      ops::mask_sum_to_bf16_bits(dy.data(), masked ? mask.data() : nullptr, rows, cols, sums.data(), bits.data());
      std::vector<double> sums2(static_cast<size_t>(cols), 0.5);
      ops::mask_sum_round_bf16(dy.data(), masked ? mask.data() : nullptr, rows, cols, sums2.data(), rounded.data());
      for (int64_t c = 0; c < cols; ++c) {
        ASSERT_NEAR(sums[static_cast<size_t>(c)], want[static_cast<size_t>(c)], 1e-9);
        ASSERT_EQ(sums[static_cast<size_t>(c)], sums2[static_cast<size_t>(c)]);
      }
      for (size_t i = 0; i < dy.size(); ++i) {
        const float v = !masked || mask[i] > 0.f ? dy[i] : 0.f;
        ASSERT_EQ(bits[i], scalar_bits(v));
        ASSERT_EQ(bits_of(rounded[i]), bits_of(ops::round_to_bfloat16(v)));
      }
      // Without sums or without output, the other is unchanged.
      std::vector<uint16_t> bits2(dy.size());
      ops::mask_sum_to_bf16_bits(dy.data(), masked ? mask.data() : nullptr, rows, cols, nullptr, bits2.data());
      EXPECT_EQ(bits2, bits);
      std::vector<double> sums3(static_cast<size_t>(cols), 0.5);
      ops::mask_sum_to_bf16_bits(dy.data(), masked ? mask.data() : nullptr, rows, cols, sums3.data(), nullptr);
      EXPECT_EQ(sums3, sums);
    }
}

TEST(Bf16Convert, Im2colOfPatternsIsTheUnfoldingOfTheFloats) {
  // "same" padding, stride 2, dilation, a channel subrange: every branch of the row loop.
  const ops::Conv2DGeometry g = ops::make_conv_geometry(1, 7, 6, 5, 3, 3, 2, 1, 1, 2, true);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> x(static_cast<size_t>(g.H * g.W * g.C));
  for (float& v : x) v = ops::round_to_bfloat16(u(rng));
  std::vector<uint16_t> x16(x.size());
  ops::to_bf16_bits(x.data(), x16.data(), static_cast<int64_t>(x.size()));
  for (int64_t c0 : {0, 1}) {
    const int64_t CG = c0 == 0 ? g.C : 3, K = g.KH * g.KW * CG, P = g.OH * g.OW;
    std::vector<float> col(static_cast<size_t>(P * K), -1.f);
    std::vector<uint16_t> col16(col.size(), 0xffffu);
    ops::im2col_rows(x.data(), g, c0, CG, 1, P, col.data());
    ops::im2col_rows(x16.data(), g, c0, CG, 1, P, col16.data());
    for (int64_t i = 0; i < (P - 1) * K; ++i)
      ASSERT_EQ(bits_of(col[static_cast<size_t>(i)]), uint32_t{col16[static_cast<size_t>(i)]} << 16) << i;
  }
}

TEST(Bf16Convert, GemmOnPatternsEqualsGemmOnFloats) {
  const float one = 1.f;
  uint16_t one16 = 0;
  ops::to_bf16_bits(&one, &one16, 1);
  float probe = 0.f;
  if (!ops::gemm_bf16_bits(false, false, 1, 1, 1, 1.f, &one16, 1, &one16, 1, 0.f, &probe, 1))
    GTEST_SKIP() << "oneDNN's bfloat16 GEMM is not built in or does not run on this CPU";
  EXPECT_EQ(probe, 1.f);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int64_t M = 37, N = 19, K = 45;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      std::vector<float> a(static_cast<size_t>(M * K)), b(static_cast<size_t>(K * N));
      for (float& v : a) v = u(rng);
      for (float& v : b) v = u(rng);
      std::vector<uint16_t> a16(a.size()), b16(b.size());
      ops::to_bf16_bits(a.data(), a16.data(), static_cast<int64_t>(a.size()));
      ops::to_bf16_bits(b.data(), b16.data(), static_cast<int64_t>(b.size()));
      const int64_t lda = ta ? M : K, ldb = tb ? K : N;
      std::vector<float> c1(static_cast<size_t>(M * N), 0.25f), c2(c1);
      ASSERT_TRUE(ops::gemm_bf16_onednn(ta, tb, M, N, K, 0.5f, a.data(), lda, b.data(), ldb, 1.f, c1.data(), N));
      ASSERT_TRUE(ops::gemm_bf16_bits(ta, tb, M, N, K, 0.5f, a16.data(), lda, b16.data(), ldb, 1.f, c2.data(), N));
      for (size_t i = 0; i < c1.size(); ++i) ASSERT_EQ(c1[i], c2[i]);  // the same oneDNN call on the same patterns
    }
}

}  // namespace
}  // namespace bf16_convert_test
}  // namespace minidl
