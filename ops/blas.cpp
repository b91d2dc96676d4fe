#include "ops/blas.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <limits>

#include "core/errors.h"
#include "core/threads.h"

namespace minidl::ops {
namespace {

// openblas_set_num_threads is not free (it may resize OpenBLAS's pool), so it
// is called only when core's setting differs from what was last applied.
std::atomic<int> g_applied_threads{0};

void apply_thread_count() {
  const int want = num_threads();
  if (g_applied_threads.exchange(want) != want) openblas_set_num_threads(want);
}

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
  apply_thread_count();
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(M), static_cast<blasint>(N), static_cast<blasint>(K), alpha, A,
              static_cast<blasint>(lda), B, static_cast<blasint>(ldb), beta, C, static_cast<blasint>(ldc));
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
