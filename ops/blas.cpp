// ops/blas.cpp — gemm through single-threaded cblas_sgemm calls on blocks of C fixed by the
// problem's sizes, spread over core/threads.h's pool.
#include "ops/blas.h"

#include <cblas.h>

#include <algorithm>
#include <mutex>
#include <limits>

#include "core/errors.h"
#include "core/threads.h"

namespace minidl::ops {
void check_gemm_strides(const char* who, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, int64_t lda,
                        int64_t ldb, int64_t ldc) {
  MINIDL_CHECK(M >= 0 && N >= 0 && K >= 0, ValueError, "{}: expected M, N, K >= 0, received M={}, N={}, K={}", who, M,
               N, K);
  // Row-major: A as stored is [M,K] or [K,M] when transposed; its row length bounds lda.
  const int64_t a_cols = trans_a ? M : K, b_cols = trans_b ? K : N;
  MINIDL_CHECK(lda >= std::max<int64_t>(1, a_cols), ValueError,
               "{}: lda={} is smaller than the {} columns of A as stored (trans_a={})", who, lda, a_cols, trans_a);
  MINIDL_CHECK(ldb >= std::max<int64_t>(1, b_cols), ValueError,
               "{}: ldb={} is smaller than the {} columns of B as stored (trans_b={})", who, ldb, b_cols, trans_b);
  MINIDL_CHECK(ldc >= std::max<int64_t>(1, N), ValueError, "{}: ldc={} is smaller than N={}", who, ldc, N);
}

namespace {

// One threading runtime (core/threads.h's pool): OpenBLAS always runs on one
// thread and minidl splits large products itself. OpenBLAS's own threads spin
// in sched_yield while they wait, beside minidl's pool, which costs a training
// step (mnist_cnn) about 18% of its time; single-threaded calls on disjoint
// blocks of C from the one pool do not.
std::once_flag g_single_thread_once;

void use_single_threaded_blas() {
  std::call_once(g_single_thread_once, [] { openblas_set_num_threads(1); });
}

// Below this many multiply-adds a product is one block: not worth waking a
// second thread.
constexpr double kParallelMacs = double{1 << 21};
// Blocks of C rows/columns are multiples of this (the micro-kernel's register
// block), so no block has a ragged edge in the middle of a register tile.
constexpr int64_t kSplitAlign = 16;
// Each block is one cblas_sgemm that packs the whole of the other operand
// again, so a block should span at least this many rows (columns) of C: with
// fewer the repeated packing outweighs the second thread's gain.
constexpr int64_t kMinBlockLen = 64;
// At most this many blocks: enough for a few threads to share evenly.
constexpr int64_t kMaxBlocks = 8;

// Debian's OpenBLAS is built with 32-bit blasint; larger sizes would wrap.
bool fits_blasint(int64_t v) { return v <= static_cast<int64_t>(std::numeric_limits<blasint>::max()); }

// The blocks of C a product is computed in: `count` contiguous ranges of rows
// (or of columns), a function of M, N and K alone. Every element of C is a dot
// product over all of K inside one cblas_sgemm call, and the calls are the
// same whatever the thread count, so results do not depend on it - even with
// BLAS kernels whose rounding depends on an element's place inside the call
// (OpenBLAS's Haswell kernels treat edge rows differently).
struct GemmBlocks {
  bool rows = true;  // split C's rows (else its columns)
  int64_t len = 0;   // rows or columns of C
  int64_t count = 1;
  int64_t begin(int64_t b) const {  // first row (column) of block b, aligned to kSplitAlign
    const int64_t units = (len + kSplitAlign - 1) / kSplitAlign;
    return std::min(len, units * b / count * kSplitAlign);
  }
};

GemmBlocks plan_blocks(int64_t M, int64_t N, int64_t K) {
  GemmBlocks p;
  p.rows = M >= N;  // split the longer side; each block packs the other operand once
  p.len = p.rows ? M : N;
  const double macs = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  if (macs < kParallelMacs) return p;
  p.count = std::clamp<int64_t>(std::min(p.len / kMinBlockLen, static_cast<int64_t>(macs / kParallelMacs)), 1,
                                 kMaxBlocks);
  return p;
}

// C[m0:m1, n0:n1] of the product as one single-threaded cblas_sgemm call.
void gemm_block(bool trans_a, bool trans_b, int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  // Row-major offsets of the block: A's rows m0.. (columns when transposed), B's columns n0.. (rows when transposed).
  const float* a = trans_a ? A + m0 : A + m0 * lda;
  const float* b = trans_b ? B + n0 * ldb : B + n0;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m1 - m0), static_cast<blasint>(n1 - n0), static_cast<blasint>(K), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, C + m0 * ldc + n0,
              static_cast<blasint>(ldc));
}

// Checks the arguments (ValueError) and handles the cases without a product
// (M, N or K == 0, alpha == 0). Returns whether a product remains to compute.
bool check_args(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  check_gemm_strides("gemm", trans_a, trans_b, M, N, K, lda, ldb, ldc);
  MINIDL_CHECK(fits_blasint(M) && fits_blasint(N) && fits_blasint(K) && fits_blasint(lda) && fits_blasint(ldb) &&
                   fits_blasint(ldc),
               ValueError, "gemm: dimensions M={}, N={}, K={} (lda={}, ldb={}, ldc={}) exceed the BLAS integer range",
               M, N, K, lda, ldb, ldc);
  if (M == 0 || N == 0) return false;
  if (K == 0 || alpha == 0.f) {
    // Handled here so beta == 0 overwrites NaN garbage in C, as BLAS promises.
    for (int64_t i = 0; i < M; ++i) {
      float* c = C + i * ldc;
      if (beta == 0.f)
        std::fill_n(c, N, 0.f);
      else if (beta != 1.f)
        for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
    return false;
  }
  MINIDL_CHECK(A && B && C, ValueError, "gemm: null matrix pointer (A={}, B={}, C={})", static_cast<const void*>(A),
               static_cast<const void*>(B), static_cast<const void*>(C));
  return true;
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (!check_args(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
  use_single_threaded_blas();
  const GemmBlocks blocks = plan_blocks(M, N, K);
  if (blocks.count == 1) {
    gemm_block(trans_a, trans_b, 0, M, 0, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // Blocks run on the pool's threads (inline when already inside a parallel
  // region); each is the same call whichever thread makes it.
  parallel_for(blocks.count, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t lo = blocks.begin(b), hi = blocks.begin(b + 1);
      if (blocks.rows)
        gemm_block(trans_a, trans_b, lo, hi, 0, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      else
        gemm_block(trans_a, trans_b, 0, M, lo, hi, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
  });
}

void gemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                 int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (!check_args(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
  use_single_threaded_blas();
  gemm_block(trans_a, trans_b, 0, M, 0, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemv_row(bool trans_b, int64_t N, int64_t K, float alpha, const float* x, const float* B, int64_t ldb,
              float beta, float* y) {
  if (!check_args(false, trans_b, 1, N, K, alpha, x, std::max<int64_t>(1, K), B, ldb, beta, y,
                  std::max<int64_t>(1, N)))
    return;
  use_single_threaded_blas();
  // y[n0:n1] from columns n0.. of op(B): rows n0.. of B as stored when transposed.
  const auto block = [&](int64_t n0, int64_t n1) {
    const blasint n = static_cast<blasint>(n1 - n0), k = static_cast<blasint>(K);
    if (trans_b)  // B [N,K]: y = B x
      cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, alpha, B + n0 * ldb, static_cast<blasint>(ldb), x, 1, beta,
                  y + n0, 1);
    else  // B [K,N]: y = B^T x
      cblas_sgemv(CblasRowMajor, CblasTrans, k, n, alpha, B + n0, static_cast<blasint>(ldb), x, 1, beta, y + n0, 1);
  };
  const GemmBlocks blocks = plan_blocks(1, N, K);  // N >= 1 = M: blocks of columns
  if (blocks.count == 1) {
    block(0, N);
    return;
  }
  parallel_for(blocks.count, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) block(blocks.begin(b), blocks.begin(b + 1));
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
