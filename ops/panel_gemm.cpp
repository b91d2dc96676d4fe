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
// How one depth block starts and ends: the sum starts from C (accumulate),
// else from the bias's 32 values (bias not null), else from zero; relu clamps
// the stored result at zero (the last depth block only).
struct Ends {
  bool accumulate;
  const float* bias;
  bool relu;
};

// C [R, 32] = A [R, kc] * panel [kc, 32] + the start `ends` says, clamped when ends.relu.
template <int R>
inline void tile(const float* a, int64_t lda, const float* panel, int64_t kc, float* c, int64_t ldc, Ends ends) {
  __m512 lo[R], hi[R];
  const __m512 b_lo = ends.bias ? _mm512_loadu_ps(ends.bias) : _mm512_setzero_ps();
  const __m512 b_hi = ends.bias ? _mm512_loadu_ps(ends.bias + 16) : _mm512_setzero_ps();
  for (int r = 0; r < R; ++r) {
    lo[r] = ends.accumulate ? _mm512_loadu_ps(c + r * ldc) : b_lo;
    hi[r] = ends.accumulate ? _mm512_loadu_ps(c + r * ldc + 16) : b_hi;
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(panel + k * kPanel), b1 = _mm512_loadu_ps(panel + k * kPanel + 16);
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[r * lda + k]);
      lo[r] = _mm512_fmadd_ps(av, b0, lo[r]);
      hi[r] = _mm512_fmadd_ps(av, b1, hi[r]);
    }
  }
  if (ends.relu)
    for (int r = 0; r < R; ++r) {
      // max(0, v) with v second: a NaN stays NaN and -0 stays -0, as std::max(v, 0.f).
      lo[r] = _mm512_max_ps(_mm512_setzero_ps(), lo[r]);
      hi[r] = _mm512_max_ps(_mm512_setzero_ps(), hi[r]);
    }
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_ps(c + r * ldc, lo[r]);
    _mm512_storeu_ps(c + r * ldc + 16, hi[r]);
  }
}

// The rows [m0, m1) against one panel's depth block, 8 rows at a time, then the rest one by one.
void rows_times_panel(const float* A, int64_t lda, int64_t m0, int64_t m1, const float* panel, int64_t kc, float* C,
                      int64_t ldc, Ends ends) {
  int64_t m = m0;
  for (; m + kRowsPerStep <= m1; m += kRowsPerStep)
    tile<kRowsPerStep>(A + m * lda, lda, panel, kc, C + m * ldc, ldc, ends);
  for (; m < m1; ++m) tile<1>(A + m * lda, lda, panel, kc, C + m * ldc, ldc, ends);
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
                float* C, int64_t ldc, const float* bias, bool relu) {
  MINIDL_CHECK(panel_gemm_applicable(N), ValueError,
               "panel_gemm: needs AVX-512 and a multiple of {} columns, received {} columns", kPanel, N);
  MINIDL_CHECK(!(accumulate && bias), ValueError, "panel_gemm: accumulate and bias exclude each other");
#if defined(__AVX512F__)
  // K in equal blocks of at most kMaxDepth, fixed by K alone.
  const int64_t blocks = (K + kMaxDepth - 1) / kMaxDepth;
  const int64_t depth = blocks > 0 ? (K + blocks - 1) / blocks : 0;
  if (K == 0) {  // no products: the start alone
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        const float v = (accumulate ? C[m * ldc + n] : 0.f) + (bias ? bias[n] : 0.f);
        C[m * ldc + n] = relu ? std::max(v, 0.f) : v;
      }
    return;
  }
  for (int64_t k0 = 0; k0 < K; k0 += depth) {
    const int64_t kc = std::min(depth, K - k0);
    const bool first = k0 == 0, last = k0 + kc == K;
    for (int64_t m0 = 0; m0 < M; m0 += kRowBlock) {
      const int64_t m1 = std::min(M, m0 + kRowBlock);
      for (int64_t p = 0; p < N / kPanel; ++p) {
        // The bias starts the first depth block; later blocks continue from C.
        const Ends ends{!first || accumulate, first && bias ? bias + p * kPanel : nullptr, last && relu};
        rows_times_panel(A + k0, lda, m0, m1, packed + (p * K + k0) * kPanel, kc, C + p * kPanel, ldc, ends);
      }
    }
  }
#else
  (void)M, (void)K, (void)A, (void)lda, (void)packed, (void)accumulate, (void)C, (void)ldc, (void)bias, (void)relu;
#endif
}

}  // namespace minidl::ops
