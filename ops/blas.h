// ops/blas.h — matrix products through OpenBLAS.
//
// This is the only header/source pair in minidl that touches <cblas.h>. Every
// dense product in the library (Dense, Conv2D via im2col, matmul) ends here in
// cblas_sgemm. Before each call the thread count from core/threads.h is applied.
//
// All matrices are row-major. gemm computes
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C
// where op(X) is X or X^T; lda/ldb/ldc are the row strides of A, B, C as stored.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace minidl::ops {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// Batched-free 2-D product on tensors: a [M,K] (or [K,M] if trans_a) times b.
// ValueError naming both shapes when inner dimensions differ or rank != 2.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

}  // namespace minidl::ops
