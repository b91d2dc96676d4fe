// ops/panel_gemm.h — a serial AVX-512 product C = A * op(B) for the convolution's tiles, with B
// packed once into 32-column panels and reused by every tile.
//
// The convolution multiplies many row tiles of A (unfolded input or dy,
// [rows, K]) by the same small B (a group's kernel, [K, N], or its transpose).
// Packing B once per call and keeping the 32-wide panel in L1 while 8 rows of
// A stream past it beats single-threaded cblas_sgemm calls, which pack B again
// on every tile: shape E's forward about 9% faster, G's forward and backward
// 2-5% (bench_conv2d --threads 1 --cpu, one AVX-512 core).
//
//   std::vector<float> packed(panel_gemm_packed_floats(K, N));
//   panel_gemm_pack(K, N, kernel, OC, /*trans_b=*/false, packed.data());
//   panel_gemm(rows, N, K, col, K, packed.data(), /*accumulate=*/false, y, OC);
//
// Results do not depend on how the caller splits the rows: each row of C is
// computed by the same sequence of fused multiply-adds, k ascending, in blocks
// of K fixed by K alone.
#pragma once

#include <cstdint>

namespace minidl::ops {

// Whether this build and CPU run panel_gemm (compiled with AVX-512F) and N is
// a whole number of 32-column panels.
bool panel_gemm_applicable(int64_t N);

// Floats panel_gemm_pack writes for a [K, N] operand.
int64_t panel_gemm_packed_floats(int64_t K, int64_t N);

// packed = op(B) as N/32 panels [K, 32]. op(B) is B [K, N] (row stride ldb)
// or, with trans_b, the transpose of B [N, K] (row stride ldb).
// Requires panel_gemm_applicable(N).
void panel_gemm_pack(int64_t K, int64_t N, const float* B, int64_t ldb, bool trans_b, float* packed);

// C [M, N] = A [M, K] * op(B), plus C's previous contents when accumulate,
// plus bias [N] (a row added to every row; null: none), then max(0, .) when
// relu; row strides lda and ldc; packed from panel_gemm_pack. Runs on the
// calling thread. Adding the bias and the relu here spares the caller a pass
// over C. ValueError unless panel_gemm_applicable(N), and when both
// accumulate and bias are given.
void panel_gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* packed, bool accumulate,
                float* C, int64_t ldc, const float* bias = nullptr, bool relu = false);

}  // namespace minidl::ops
