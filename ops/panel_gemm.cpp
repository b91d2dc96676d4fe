// ops/panel_gemm.cpp — the packed-panel AVX-512 product of ops/panel_gemm.h.
#include "ops/panel_gemm.h"

#include <algorithm>

#include "core/errors.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace minidl::ops {

namespace {

constexpr int64_t kPanel = 32;       // columns per panel: two 16-float vectors
constexpr int64_t kRowsPerStep = 8;  // rows of A per register tile: 16 accumulators
constexpr int64_t kRowBlock = 24;    // rows of A kept in L1 while every panel passes them
constexpr int64_t kMaxDepth = 256;   // K per block: one panel block [depth, 32] of at most 32 KiB

#if defined(__AVX512F__)
// C [R, 32] = A [R, kc] * panel [kc, 32] (+ C when accumulate).
template <int R>
inline void tile(const float* a, int64_t lda, const float* panel, int64_t kc, float* c, int64_t ldc, bool accumulate) {
  __m512 lo[R], hi[R];
  for (int r = 0; r < R; ++r) {
    lo[r] = accumulate ? _mm512_loadu_ps(c + r * ldc) : _mm512_setzero_ps();
    hi[r] = accumulate ? _mm512_loadu_ps(c + r * ldc + 16) : _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(panel + k * kPanel), b1 = _mm512_loadu_ps(panel + k * kPanel + 16);
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[r * lda + k]);
      lo[r] = _mm512_fmadd_ps(av, b0, lo[r]);
      hi[r] = _mm512_fmadd_ps(av, b1, hi[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_ps(c + r * ldc, lo[r]);
    _mm512_storeu_ps(c + r * ldc + 16, hi[r]);
  }
}

// The rows [m0, m1) against one panel's depth block, 8 rows at a time, then the rest one by one.
void rows_times_panel(const float* A, int64_t lda, int64_t m0, int64_t m1, const float* panel, int64_t kc, float* C,
                      int64_t ldc, bool accumulate) {
  int64_t m = m0;
  for (; m + kRowsPerStep <= m1; m += kRowsPerStep)
    tile<kRowsPerStep>(A + m * lda, lda, panel, kc, C + m * ldc, ldc, accumulate);
  for (; m < m1; ++m) tile<1>(A + m * lda, lda, panel, kc, C + m * ldc, ldc, accumulate);
}
#endif

}  // namespace

bool panel_gemm_applicable(int64_t N) {
#if defined(__AVX512F__)
  return N >= kPanel && N % kPanel == 0;
#else
  (void)N;
  return false;
#endif
}

int64_t panel_gemm_packed_floats(int64_t K, int64_t N) { return K * N; }

void panel_gemm_pack(int64_t K, int64_t N, const float* B, int64_t ldb, bool trans_b, float* packed) {
  MINIDL_CHECK(panel_gemm_applicable(N), ValueError,
               "panel_gemm_pack: needs AVX-512 and a multiple of {} columns, received {} columns", kPanel, N);
  for (int64_t p = 0; p < N / kPanel; ++p) {
    float* out = packed + p * K * kPanel;  // [K, 32]
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < kPanel; ++j)
        out[k * kPanel + j] = trans_b ? B[(p * kPanel + j) * ldb + k] : B[k * ldb + p * kPanel + j];
  }
}

void panel_gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* packed, bool accumulate,
                float* C, int64_t ldc) {
  MINIDL_CHECK(panel_gemm_applicable(N), ValueError,
               "panel_gemm: needs AVX-512 and a multiple of {} columns, received {} columns", kPanel, N);
#if defined(__AVX512F__)
  // K in equal blocks of at most kMaxDepth, fixed by K alone.
  const int64_t blocks = (K + kMaxDepth - 1) / kMaxDepth;
  const int64_t depth = blocks > 0 ? (K + blocks - 1) / blocks : 0;
  if (K == 0) {
    if (!accumulate)
      for (int64_t m = 0; m < M; ++m) std::fill_n(C + m * ldc, N, 0.f);
    return;
  }
  for (int64_t k0 = 0; k0 < K; k0 += depth) {
    const int64_t kc = std::min(depth, K - k0);
    const bool acc = accumulate || k0 > 0;
    for (int64_t m0 = 0; m0 < M; m0 += kRowBlock) {
      const int64_t m1 = std::min(M, m0 + kRowBlock);
      for (int64_t p = 0; p < N / kPanel; ++p)
        rows_times_panel(A + k0, lda, m0, m1, packed + (p * K + k0) * kPanel, kc, C + p * kPanel, ldc, acc);
    }
  }
#else
  (void)M, (void)K, (void)A, (void)lda, (void)packed, (void)accumulate, (void)C, (void)ldc;
#endif
}

}  // namespace minidl::ops
