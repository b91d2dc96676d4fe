#include "ops/blas.h"

#include <cblas.h>

#include <algorithm>
#include <mutex>
#include <limits>

#include "core/errors.h"
#include "core/threads.h"

namespace minidl::ops {
namespace {

// One threading runtime (core/threads.h's pool): OpenBLAS always runs on one
// thread and minidl splits large products itself. Measured on the 2-core box
// (perf, mnist_cnn training): with OpenBLAS's own threads, their sched_yield
// spinning next to minidl's pool cost ~18% of the step; single-threaded
// OpenBLAS calls on disjoint blocks of C from minidl's pool removed it.
std::once_flag g_single_thread_once;

void use_single_threaded_blas() {
  std::call_once(g_single_thread_once, [] { openblas_set_num_threads(1); });
}

// Below this many multiply-adds a product is not worth waking a second thread.
constexpr double kParallelMacs = double{1 << 21};
// Blocks of C rows/columns handed to a thread are multiples of this (the
// micro-kernel's register block), so no thread gets a ragged edge in the middle.
constexpr int64_t kSplitAlign = 16;

// Debian's OpenBLAS is built with 32-bit blasint; larger sizes would wrap.
bool fits_blasint(int64_t v) { return v <= static_cast<int64_t>(std::numeric_limits<blasint>::max()); }

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  MINIDL_CHECK(M >= 0 && N >= 0 && K >= 0, ValueError, "gemm: expected M, N, K >= 0, received M={}, N={}, K={}", M,
               N, K);
  // Row-major: A as stored is [M,K] or [K,M] when transposed; its row length bounds lda.
  const int64_t a_cols = trans_a ? M : K, b_cols = trans_b ? K : N;
  MINIDL_CHECK(lda >= std::max<int64_t>(1, a_cols), ValueError,
               "gemm: lda={} is smaller than the {} columns of A as stored (trans_a={})", lda, a_cols, trans_a);
  MINIDL_CHECK(ldb >= std::max<int64_t>(1, b_cols), ValueError,
               "gemm: ldb={} is smaller than the {} columns of B as stored (trans_b={})", ldb, b_cols, trans_b);
  MINIDL_CHECK(ldc >= std::max<int64_t>(1, N), ValueError, "gemm: ldc={} is smaller than N={}", ldc, N);
  MINIDL_CHECK(fits_blasint(M) && fits_blasint(N) && fits_blasint(K) && fits_blasint(lda) && fits_blasint(ldb) &&
                   fits_blasint(ldc),
               ValueError, "gemm: dimensions M={}, N={}, K={} (lda={}, ldb={}, ldc={}) exceed the BLAS integer range",
               M, N, K, lda, ldb, ldc);
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == 0.f) {
    // Handled here so beta == 0 overwrites NaN garbage in C, as BLAS promises.
    for (int64_t i = 0; i < M; ++i) {
      float* c = C + i * ldc;
      if (beta == 0.f)
        std::fill_n(c, N, 0.f);
      else if (beta != 1.f)
        for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
    return;
  }
  MINIDL_CHECK(A && B && C, ValueError, "gemm: null matrix pointer (A={}, B={}, C={})", static_cast<const void*>(A),
               static_cast<const void*>(B), static_cast<const void*>(C));
  use_single_threaded_blas();
  const auto block = [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    // Row-major offsets of the block: A's rows m0.. (columns when transposed), B's columns n0.. (rows when transposed).
    const float* a = trans_a ? A + m0 : A + m0 * lda;
    const float* b = trans_b ? B + n0 * ldb : B + n0;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(m1 - m0), static_cast<blasint>(n1 - n0), static_cast<blasint>(K), alpha, a,
                static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, C + m0 * ldc + n0,
                static_cast<blasint>(ldc));
  };
  const double macs = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  if (num_threads() == 1 || macs < kParallelMacs) {
    block(0, M, 0, N);
    return;
  }
  // Split the longer side of C into aligned blocks, one contiguous range per
  // thread. Each element of C is still one dot product over all of K, computed
  // the same way, so the split changes no result. Inside another parallel
  // region parallel_for runs inline: one call, as above.
  const bool split_rows = M >= N;
  const int64_t len = split_rows ? M : N;
  const int64_t blocks = (len + kSplitAlign - 1) / kSplitAlign;
  parallel_for(blocks, [&](int64_t b0, int64_t b1) {
    const int64_t lo = b0 * kSplitAlign, hi = std::min(len, b1 * kSplitAlign);
    if (split_rows)
      block(lo, hi, 0, N);
    else
      block(0, M, lo, hi);
  });
}

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  MINIDL_CHECK(a.rank() == 2 && b.rank() == 2, ValueError,
               "matmul: expected two rank-2 tensors, received shapes {} and {}", shape_str(a.shape()),
               shape_str(b.shape()));
  const int64_t M = trans_a ? a.dim(1) : a.dim(0), Ka = trans_a ? a.dim(0) : a.dim(1);
  const int64_t Kb = trans_b ? b.dim(1) : b.dim(0), N = trans_b ? b.dim(0) : b.dim(1);
  MINIDL_CHECK(Ka == Kb, ValueError,
               "matmul: inner dimensions differ: {}{} times {}{} gives K={} vs K={}", shape_str(a.shape()),
               trans_a ? "^T" : "", shape_str(b.shape()), trans_b ? "^T" : "", Ka, Kb);
  Tensor c({M, N});  // [M, N]
  gemm(trans_a, trans_b, M, N, Ka, 1.f, a.data(), std::max<int64_t>(1, a.dim(1)), b.data(),
       std::max<int64_t>(1, b.dim(1)), 0.f, c.data(), std::max<int64_t>(1, N));
  return c;
}

}  // namespace minidl::ops
