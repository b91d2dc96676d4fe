// tests/ops/batch_split_test.cpp — sums over the batch that do not depend on how the batch is split.
//
// The gradients that sum over a batch (ops/batch_sum.h; the convolutions'
// kernel and bias gradients) run over fixed groups of samples added pairwise,
// so a batch's sum is exactly the sum of its two halves' sums: what two
// data-parallel replicas holding one half each compute and then add. The
// halves make the same cblas_sgemm calls as the chunks of the whole, so this
// holds with any BLAS kernel (CI runs the ops tests under OPENBLAS_CORETYPE=Haswell too).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/threads.h"
#include "ops/batch_sum.h"
#include "ops/conv2d.h"
#include "ops/conv2d_bf16.h"
#include "support/conv_cases.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// Values over eight orders of magnitude, so that a change of summation order shows in the bits.
std::vector<float> spread_floats(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> mantissa(-1.f, 1.f);
  std::uniform_int_distribution<int> exponent(-12, 12);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = std::ldexp(mantissa(rng), exponent(rng));
  return v;
}

// The pairwise sum of parts [lo, hi) (count floats each), by the rule ops/batch_sum.h states.
std::vector<float> halving_sum(const std::vector<std::vector<float>>& parts, size_t lo, size_t hi) {
  if (hi - lo == 1) return parts[lo];
  const size_t mid = lo + (hi - lo + 1) / 2;
  std::vector<float> a = halving_sum(parts, lo, mid);
  const std::vector<float> b = halving_sum(parts, mid, hi);
  for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

}  // namespace

TEST(BatchSum, SamplesPerGroupIsAPowerOfTwoWithinTheBudgetAndTheCap) {
  EXPECT_EQ(ops::samples_per_group(676, 4096), 4);   // 4 * 676 <= 4096 < 8 * 676
  EXPECT_EQ(ops::samples_per_group(1, 64, 64), 64);  // Dense rows
  EXPECT_EQ(ops::samples_per_group(1, 1 << 20), ops::kMaxSamplesPerGroup);
  EXPECT_EQ(ops::samples_per_group(100000, 4096), 1);  // a sample larger than the budget is a group alone
  EXPECT_EQ(ops::samples_per_group(0, 10), ops::kMaxSamplesPerGroup);
  EXPECT_EQ(ops::group_count(0, 4), 0);
  EXPECT_EQ(ops::group_count(9, 4), 3);
  // 128 samples in groups of 4 would hold 31 partials of 1 MiB: doubled until at most 8 MiB (8 groups of 16).
  EXPECT_EQ(ops::fit_partials(4, 128, 1 << 20, 8 << 20), 16);
  EXPECT_EQ(ops::fit_partials(4, 4, 1 << 30, 1), 4);  // one group holds no partial beside the result
}

TEST(BatchSum, PairwiseSumFollowsTheHalvingTreeAndSplitsIntoHalves) {
  std::mt19937 rng(3);
  const int64_t count = 37;
  for (int64_t n = 1; n <= 13; ++n) {
    std::vector<std::vector<float>> parts;
    for (int64_t c = 0; c < n; ++c) parts.push_back(spread_floats(count, rng));
    const std::vector<float> expected = halving_sum(parts, 0, parts.size());
    auto work = parts;
    ops::pairwise_sum(n, count, [&](int64_t c) { return work[static_cast<size_t>(c)].data(); });
    ASSERT_EQ(work[0], expected) << n << " parts";
    // Against the exact sum: pairwise float sums stay within a few roundings of the largest terms.
    for (int64_t i = 0; i < count; ++i) {
      double exact = 0, scale = 0;
      for (const auto& p : parts) {
        exact += p[static_cast<size_t>(i)];
        scale += std::fabs(p[static_cast<size_t>(i)]);
      }
      EXPECT_NEAR(work[0][static_cast<size_t>(i)], exact, 1e-6 * scale) << n << " parts, element " << i;
    }
    if (n % 2 == 0) {  // two halves summed on their own, then added: the same bits
      std::vector<float> a = halving_sum(parts, 0, n / 2);
      const std::vector<float> b = halving_sum(parts, n / 2, n);
      for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
      ASSERT_EQ(a, work[0]) << n << " parts";
    }
  }
}

TEST(BatchSum, PairwiseGroupsEqualsThePairwiseSumOfTheProducedParts) {
  std::mt19937 rng(4);
  const int64_t count = 1000;
  for (int64_t n : {1, 2, 3, 5, 8, 11, 16}) {
    std::vector<std::vector<float>> parts;
    for (int64_t c = 0; c < n; ++c) parts.push_back(spread_floats(count, rng));
    std::vector<float> out(count, std::nanf(""));
    std::vector<int64_t> order;
    ops::pairwise_groups(n, count, out.data(), [&](int64_t g, float* buffer) {
      order.push_back(g);
      std::copy(parts[static_cast<size_t>(g)].begin(), parts[static_cast<size_t>(g)].end(), buffer);
    });
    EXPECT_EQ(out, halving_sum(parts, 0, parts.size())) << n << " groups";
    for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], static_cast<int64_t>(i)) << "groups in order";
  }
  EXPECT_THROW(ops::pairwise_groups(0, 4, nullptr, [](int64_t, float*) {}), ValueError);
}

TEST(BatchSum, SumRowsPairwiseMatchesADoubleSumAndItsHalves) {
  std::mt19937 rng(5);
  const int64_t rows = 96, cols = 23, group = 8;
  const auto x = spread_floats(rows * cols, rng);
  std::vector<float> all(cols), a(cols), b(cols);
  ops::sum_rows_pairwise(x.data(), rows, cols, group, all.data());
  ops::sum_rows_pairwise(x.data(), rows / 2, cols, group, a.data());
  ops::sum_rows_pairwise(x.data() + rows / 2 * cols, rows / 2, cols, group, b.data());
  for (int64_t j = 0; j < cols; ++j) {
    double exact = 0, scale = 0;
    for (int64_t r = 0; r < rows; ++r) {
      exact += x[r * cols + j];
      scale += std::fabs(x[r * cols + j]);
    }
    EXPECT_NEAR(all[j], exact, 1e-6 * scale) << "column " << j;
    EXPECT_EQ(all[j], a[j] + b[j]) << "column " << j;
  }
  std::vector<float> none(cols, 1.f);
  ops::sum_rows_pairwise(x.data(), 0, cols, group, none.data());
  EXPECT_EQ(none, std::vector<float>(cols, 0.f));
}

// For every algorithm with a kernel gradient, a batch of 64 images gives
// exactly the kernel and bias gradients of its two halves added, and the
// same input gradient, on 2 threads (1 thread: the same by thread_count_test).
TEST(BatchSum, ConvolutionGradientsOfABatchAreTheSumOfItsHalves) {
  const int saved = num_threads();
  set_num_threads(2);
  struct Case {
    Config c;
    ops::ConvAlgorithm algorithm;
    const char* what;
  };
  const Case cases[] = {
      {{64, 12, 12, 1, 3, 3, 1, 1, 1, 1, 1, 8, false, true, 0}, ops::ConvAlgorithm::kAuto, "one channel (depthwise)"},
      {{64, 10, 10, 8, 3, 3, 1, 1, 1, 1, 1, 16, true, true, 0}, ops::ConvAlgorithm::kWinograd, "winograd"},
      {{64, 9, 9, 6, 3, 3, 2, 2, 1, 1, 1, 10, true, true, 0}, ops::ConvAlgorithm::kIm2col, "im2col, stride 2"},
      {{64, 7, 7, 16, 1, 1, 1, 1, 1, 1, 1, 32, false, true, 0}, ops::ConvAlgorithm::kIm2col, "1x1"},
      {{64, 8, 8, 8, 3, 3, 1, 1, 1, 1, 8, 16, true, true, 0}, ops::ConvAlgorithm::kAuto, "depthwise, multiplier 2"},
  };
  for (const Case& k : cases)
    for (bool relu : {false, true}) {
      std::mt19937 rng(11);
      const ConvData d = random_conv_data(k.c, rng);
      ops::Conv2DWorkspace ws = workspace_for(k.c, k.algorithm);
      const ConvOutputs whole = run_conv2d(k.c, d, ws, relu);
      Config half = k.c;
      half.N = k.c.N / 2;
      const auto gh = half.geometry();
      const int64_t x_half = gh.N * gh.H * gh.W * gh.C, y_half = gh.N * gh.OH * gh.OW * k.c.OC;
      std::vector<ConvOutputs> halves;
      for (int h = 0; h < 2; ++h) {
        ConvData dh;
        dh.x.assign(d.x.begin() + h * x_half, d.x.begin() + (h + 1) * x_half);
        dh.dy.assign(d.dy.begin() + h * y_half, d.dy.begin() + (h + 1) * y_half);
        dh.k = d.k;
        dh.b = d.b;
        halves.push_back(run_conv2d(half, dh, ws, relu));
      }
      const std::string where = std::string(k.what) + (relu ? ", fused relu" : "");
      for (size_t i = 0; i < whole.dk.size(); ++i)
        ASSERT_EQ(whole.dk[i], halves[0].dk[i] + halves[1].dk[i]) << where << ", dkernel " << i;
      for (size_t i = 0; i < whole.db.size(); ++i)
        ASSERT_EQ(whole.db[i], halves[0].db[i] + halves[1].db[i]) << where << ", dbias " << i;
      for (int h = 0; h < 2; ++h)
        for (int64_t i = 0; i < x_half; ++i)
          ASSERT_EQ(whole.dx[static_cast<size_t>(h * x_half + i)], halves[h].dx[static_cast<size_t>(i)])
              << where << ", dx of half " << h;
    }
  set_num_threads(saved);
}

// mixed_bfloat16's convolution (ops/conv2d_bf16.h) sums its kernel and bias
// gradients over the same fixed image groups.
TEST(BatchSum, BfloatConvolutionGradientsOfABatchAreTheSumOfItsHalves) {
  const Config c{64, 10, 10, 8, 3, 3, 1, 1, 1, 1, 1, 16, true, true, 0};
  std::mt19937 rng(12);
  const ConvData d = random_conv_data(c, rng);
  ops::Conv2DWorkspace ws = workspace_for(c);
  auto backward = [&](int64_t n0, int64_t n, std::vector<float>& dx, std::vector<float>& dk, std::vector<float>& db) {
    Config part = c;
    part.N = n;
    const auto g = part.geometry();
    const int64_t x0 = n0 * g.H * g.W * g.C, y0 = n0 * g.OH * g.OW * c.OC;
    dx.assign(static_cast<size_t>(n * g.H * g.W * g.C), 0.f);
    dk.assign(d.k.size(), 0.f);
    db.assign(static_cast<size_t>(c.OC), 0.f);
    ops::conv2d_backward_bf16(d.x.data() + x0, d.k.data(), d.dy.data() + y0, g, c.G, c.OC, dx.data(), dk.data(),
                              db.data(), ws, nullptr, ops::Bf16Gemm::kFloat32);
  };
  std::vector<float> dx, dk, db, dxa, dka, dba, dxb, dkb, dbb;
  backward(0, 64, dx, dk, db);
  backward(0, 32, dxa, dka, dba);
  backward(32, 32, dxb, dkb, dbb);
  for (size_t i = 0; i < dk.size(); ++i) ASSERT_EQ(dk[i], dka[i] + dkb[i]) << "dkernel " << i;
  for (size_t i = 0; i < db.size(); ++i) ASSERT_EQ(db[i], dba[i] + dbb[i]) << "dbias " << i;
  for (size_t i = 0; i < dxa.size(); ++i) ASSERT_EQ(dx[i], dxa[i]) << "dx " << i;
}
