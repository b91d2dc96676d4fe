// tests/ops/thread_count_test.cpp — results that do not depend on the thread count: gemm
// and every convolution algorithm split their work into pieces fixed by the
// problem's sizes alone (core/threads.h parallel_chunks), so 1, 2 and 3 threads give the same bits.
// This holds with any BLAS kernel, since the same cblas_sgemm calls are made
// either way; CI runs these tests under OPENBLAS_CORETYPE=Haswell as well.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/threads.h"
#include "ops/blas.h"
#include "ops/conv2d.h"
#include "support/conv_cases.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// Restores the thread count a test changed.
struct ThreadCountGuard {
  int saved = num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

// One forward and backward run on `threads` threads, with the same inputs for every thread count.
ConvOutputs run_conv(const Config& c, ops::ConvAlgorithm algorithm, bool relu, int threads) {
  set_num_threads(threads);
  std::mt19937 rng(77);
  ops::Conv2DWorkspace ws = workspace_for(c, algorithm);
  return run_conv2d(c, random_conv_data(c, rng), ws, relu);
}

}  // namespace

// Shapes from below the split threshold to several blocks of rows or columns,
// ragged ends included, every transpose pair, and beta != 0.
TEST(ThreadCount, GemmGivesTheSameBitsOnOneTwoAndThreeThreads) {
  ThreadCountGuard guard;
  const int64_t shapes[][3] = {{200, 96, 160}, {64, 300, 200}, {33, 517, 129}, {128, 128, 9216},
                               {9216, 128, 128}, {128, 9216, 128}, {1000, 17, 300}, {48, 48, 48}};
  std::mt19937 rng(5);
  for (const auto& s : shapes)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        const int64_t M = s[0], N = s[1], K = s[2];
        const auto A = random_floats(M * K, rng), B = random_floats(K * N, rng);
        const int64_t lda = ta ? M : K, ldb = tb ? K : N;
        std::vector<float> first;
        for (int threads : {1, 2, 3}) {
          set_num_threads(threads);
          std::vector<float> C(M * N, 0.5f);
          ops::gemm(ta, tb, M, N, K, 1.f, A.data(), lda, B.data(), ldb, 0.5f, C.data(), N);
          if (first.empty())
            first = C;
          else
            ASSERT_EQ(C, first) << M << "x" << N << "x" << K << " ta=" << ta << " tb=" << tb << ", " << threads
                                << " threads vs 1";
        }
      }
}

// Inside a parallel region gemm runs its blocks on the calling thread: the
// same bits as at the top level.
TEST(ThreadCount, GemmInsideAParallelLoopGivesTheSameBits) {
  ThreadCountGuard guard;
  set_num_threads(2);
  std::mt19937 rng(6);
  const int64_t M = 300, N = 200, K = 150;
  const auto A = random_floats(M * K, rng), B = random_floats(K * N, rng);
  std::vector<float> top(M * N), nested(M * N);
  ops::gemm(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, top.data(), N);
  parallel_for(2, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      if (i == 0) ops::gemm(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, nested.data(), N);
  });
  EXPECT_EQ(top, nested);
}

// Each algorithm, forward and all gradients, on batches large enough to be
// split into several chunks, with and without the fused relu.
TEST(ThreadCount, EveryConvolutionAlgorithmGivesTheSameBits) {
  ThreadCountGuard guard;
  struct Case {
    Config c;
    ops::ConvAlgorithm algorithm;
  };
  const Case cases[] = {
      // im2col: whole images per chunk, tiles splitting images, pointwise grouped, one image (split GEMMs)
      {{13, 9, 9, 5, 3, 3, 1, 1, 1, 1, 1, 7, true, true, 0}, ops::ConvAlgorithm::kIm2col},
      {{11, 10, 9, 4, 3, 2, 2, 1, 1, 1, 2, 6, false, true, 300}, ops::ConvAlgorithm::kIm2col},
      {{9, 6, 6, 6, 1, 1, 1, 1, 1, 1, 3, 6, false, true, 64}, ops::ConvAlgorithm::kIm2col},
      {{1, 40, 40, 16, 3, 3, 1, 1, 1, 1, 1, 64, true, true, 0}, ops::ConvAlgorithm::kIm2col},
      // enough output rows (115,200) for three chunks of images
      {{200, 26, 26, 1, 3, 3, 1, 1, 1, 1, 1, 2, false, true, 0}, ops::ConvAlgorithm::kIm2col},
      // Winograd: many blocks of tiles, grouped, dilated, one image
      {{12, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 32, true, true, 0}, ops::ConvAlgorithm::kWinograd},
      {{10, 12, 11, 16, 3, 3, 1, 1, 2, 2, 2, 16, false, true, 0}, ops::ConvAlgorithm::kWinograd},
      {{1, 30, 30, 32, 3, 3, 1, 1, 1, 1, 1, 32, true, false, 0}, ops::ConvAlgorithm::kWinograd},
      // enough tiles (12,288) for three chunks of the kernel gradient
      {{48, 64, 64, 8, 3, 3, 1, 1, 1, 1, 1, 8, true, true, 0}, ops::ConvAlgorithm::kWinograd},
      // The direct forward (its backward is im2col's)
      {{10, 12, 12, 1, 3, 3, 1, 1, 1, 1, 1, 32, false, true, 0}, ops::ConvAlgorithm::kDirect},
      // Whatever auto picks
      {{17, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 16, true, true, 0}, ops::ConvAlgorithm::kAuto},
  };
  for (const Case& t : cases)
    for (bool relu : {false, true}) {
      const ConvOutputs one = run_conv(t.c, t.algorithm, relu, 1);
      for (int threads : {2, 3}) {
        const ConvOutputs many = run_conv(t.c, t.algorithm, relu, threads);
        const std::string what = t.c.str() + (relu ? " relu, " : ", ") + std::to_string(threads) + " threads vs 1";
        ASSERT_EQ(many.y, one.y) << "y, " << what;
        ASSERT_EQ(many.dx, one.dx) << "dx, " << what;
        ASSERT_EQ(many.dk, one.dk) << "dkernel, " << what;
        ASSERT_EQ(many.db, one.db) << "dbias, " << what;
      }
    }
}
