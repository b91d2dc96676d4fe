// ops/blas.h — matrix products through OpenBLAS.
//
// This is the only header/source pair in minidl that touches <cblas.h>. Every
// dense product in the library (Dense, Conv2D via im2col, matmul) ends here in
// cblas_sgemm.
//
// All matrices are row-major. gemm computes
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C
// where op(X) is X or X^T; lda/ldb/ldc are the row strides of A, B, C as stored.
//
// Threads: OpenBLAS itself always runs single-threaded. gemm computes C in
// blocks of rows (or columns, when N > M) that depend on M, N and K alone -
// one block below ~2M multiply-adds, else up to 8 of at least 64 rows - each
// one single-threaded cblas_sgemm, spread over core/threads.h's pool. Since
// the blocks never depend on the thread count, neither do the results, with
// any BLAS kernel. Called inside a parallel_for, the blocks run one after
// another on the calling thread; gemm_serial is the one-call form for kernels
// that split their work themselves.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace minidl::ops {

// Requires M, N, K >= 0 and lda >= max(1, columns of A as stored) (K, or M when
// trans_a), ldb >= max(1, N or K), ldc >= max(1, N), all within BLAS's 32-bit
// integer range; ValueError naming the values otherwise. M or N == 0 is a no-op.
// K == 0 or alpha == 0 leaves beta * C (beta == 0 writes zeros even over NaN),
// and then A and B may be null. Columns of C beyond N are never touched.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The shape and stride checks of gemm's first paragraph above, with messages
// that start with `who` (gemm_bf16 shares them).
void check_gemm_strides(const char* who, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, int64_t lda,
                        int64_t ldb, int64_t ldc);

// gemm as a single cblas_sgemm call on the calling thread (same checks).
void gemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                 int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The one-row product y[N] = alpha * x[K] * op(B)[K,N] + beta * y, op(B) = B
// ([K,N] as stored) or B^T ([N,K] as stored, trans_b): gemm with M = 1 and A = x,
// as cblas_sgemv, which streams B once instead of packing it as cblas_sgemm
// does (OpenBLAS 0.3.21's sgemm at M = 1 spends most of its time copying B).
// Above ~2M multiply-adds y is computed in blocks of columns fixed by N and K,
// spread over the pool like gemm's. Same checks and special cases as gemm
// (with M = 1, lda = K).
void gemv_row(bool trans_b, int64_t N, int64_t K, float alpha, const float* x, const float* B, int64_t ldb,
              float beta, float* y);

// Batched-free 2-D product on tensors: a [M,K] (or [K,M] if trans_a) times b
// [K,N] (or [N,K] if trans_b); returns a new [M,N] tensor.
// ValueError naming both shapes when inner dimensions differ or rank != 2.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

}  // namespace minidl::ops
