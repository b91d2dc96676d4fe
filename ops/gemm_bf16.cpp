// ops/gemm_bf16.cpp — bfloat16 rounding, and the bfloat16 GEMM: oneDNN's on AVX512_BF16 CPUs,
// else the float32 GEMM on rounded copies of its operands.
#include "ops/gemm_bf16.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "core/errors.h"
#include "core/logging.h"
#include "core/threads.h"
#include "ops/bf16_convert.h"
#include "ops/blas.h"

#ifdef MINIDL_HAVE_DNNL
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

// Exported by oneDNN 2.x (libdnnl.so.2) but not declared in its headers;
// ops/CMakeLists.txt checks that the library has it. Row-major, like
// dnnl_sgemm: C = alpha * op(A) * op(B) + beta * C with bfloat16 A and B
// (raw 16-bit patterns) and float32 C.
extern "C" dnnl_status_t dnnl_gemm_bf16bf16f32(char transa, char transb, dnnl_dim_t M, dnnl_dim_t N, dnnl_dim_t K,
                                               float alpha, const uint16_t* A, dnnl_dim_t lda, const uint16_t* B,
                                               dnnl_dim_t ldb, float beta, float* C, dnnl_dim_t ldc);
#endif

namespace minidl::ops {
namespace {

// Products below this many multiply-adds are one block (ops/blas.cpp's threshold).
constexpr double kParallelMacs = double{1 << 21};
constexpr int64_t kMinBlockRows = 64;
constexpr int64_t kMaxBlocks = 8;

// The number of row blocks of C, a function of M, N and K alone.
int64_t row_blocks(int64_t M, int64_t N, int64_t K) {
  const double macs = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  if (macs < kParallelMacs) return 1;
  return std::clamp<int64_t>(std::min(M / kMinBlockRows, static_cast<int64_t>(macs / kParallelMacs)), 1, kMaxBlocks);
}

// First row of block b of `count` over M rows, aligned to 16.
int64_t block_begin(int64_t M, int64_t count, int64_t b) {
  const int64_t units = (M + 15) / 16;
  return std::min(M, units * b / count * 16);
}

// Elements per piece of a parallel conversion.
constexpr int64_t kConvertGrain = int64_t{1} << 14;

// Copies a rows x cols matrix stored with row stride ld into dst (stride cols), each element through
// convert(src, dst, n): rounded to bfloat16 as floats (round_bf16) or as bfloat16 patterns (to_bf16_bits).
template <class T>
void convert_matrix(const float* src, int64_t rows, int64_t cols, int64_t ld, T* dst,
                    void (*convert)(const float*, T*, int64_t, Bf16Kernel)) {
  if (ld == cols) {
    parallel_for(
        rows * cols, [&](int64_t i0, int64_t i1) { convert(src + i0, dst + i0, i1 - i0, Bf16Kernel::kAuto); },
        kConvertGrain);
    return;
  }
  parallel_for(
      rows,
      [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) convert(src + r * ld, dst + r * cols, cols, Bf16Kernel::kAuto);
      },
      std::max<int64_t>(1, kConvertGrain / cols));
}

// Per-thread buffers for the rounded operands: grown once, then reused.
struct Bf16Scratch {
  std::vector<float> a, b;
  std::vector<uint16_t> a16, b16;
};
Bf16Scratch& scratch() {
  thread_local Bf16Scratch s;
  return s;
}

bool cpu_has_avx512_bf16() {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  return __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

}  // namespace

void round_to_bfloat16(const float* src, float* dst, int64_t n) { round_bf16(src, dst, n); }

bool bf16_gemm_available() {
#ifdef MINIDL_HAVE_DNNL
  static const bool available = cpu_has_avx512_bf16() &&
                                (static_cast<unsigned>(dnnl_get_effective_cpu_isa()) & dnnl_cpu_isa_avx512_core_bf16) ==
                                    static_cast<unsigned>(dnnl_cpu_isa_avx512_core_bf16);
  return available;
#else
  return false;
#endif
}

void warn_bf16_fallback_once() {
  if (bf16_gemm_available()) return;
  static std::atomic<bool> warned{false};
  if (warned.exchange(true)) return;
#ifdef MINIDL_HAVE_DNNL
  const char* why = cpu_has_avx512_bf16() ? "oneDNN does not run bfloat16 on it" : "this CPU has no AVX512_BF16";
#else
  const char* why = "minidl was built without oneDNN (MINIDL_BF16, libdnnl-dev)";
#endif
  logger()->warn(
      "mixed_bfloat16: {}; Conv2D and Dense compute their products with a float32 GEMM on bfloat16-rounded "
      "values (same results, no bfloat16 speed-up)",
      why);
}

bool gemm_bf16_bits(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const uint16_t* A,
                    int64_t lda, const uint16_t* B, int64_t ldb, float beta, float* C, int64_t ldc) {
#ifdef MINIDL_HAVE_DNNL
  check_gemm_strides("gemm_bf16", trans_a, trans_b, M, N, K, lda, ldb, ldc);
  if (M == 0 || N == 0 || K == 0 || alpha == 0.f) {
    gemm(trans_a, trans_b, M, N, K, alpha, nullptr, lda, nullptr, ldb, beta, C, ldc);  // beta * C only
    return true;
  }
  MINIDL_CHECK(A && B && C, ValueError, "gemm_bf16: null matrix pointer (A={}, B={}, C={})",
               static_cast<const void*>(A), static_cast<const void*>(B), static_cast<const void*>(C));
  const int64_t count = row_blocks(M, N, K);
  std::atomic<int> status{dnnl_success};
  // Blocks of C's rows on minidl's pool, each one single-threaded oneDNN call.
  parallel_for(count, [&](int64_t b0, int64_t b1) {
    omp_set_num_threads(1);  // this thread's OpenMP setting: oneDNN starts no threads of its own
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t m0 = block_begin(M, count, b), m1 = block_begin(M, count, b + 1);
      if (m1 <= m0) continue;
      const uint16_t* a = trans_a ? A + m0 : A + m0 * lda;
      const dnnl_status_t st = dnnl_gemm_bf16bf16f32(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m1 - m0, N, K, alpha,
                                                     a, lda, B, ldb, beta, C + m0 * ldc, ldc);
      if (st != dnnl_success) status.store(st);
    }
  });
  return status.load() == dnnl_success;
#else
  (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb;
  (void)beta, (void)C, (void)ldc;
  return false;
#endif
}

bool gemm_bf16_onednn(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                      int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
#ifdef MINIDL_HAVE_DNNL
  check_gemm_strides("gemm_bf16", trans_a, trans_b, M, N, K, lda, ldb, ldc);
  if (M == 0 || N == 0 || K == 0 || alpha == 0.f) {
    gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);  // beta * C only
    return true;
  }
  MINIDL_CHECK(A && B && C, ValueError, "gemm_bf16: null matrix pointer (A={}, B={}, C={})",
               static_cast<const void*>(A), static_cast<const void*>(B), static_cast<const void*>(C));
  Bf16Scratch& s = scratch();
  const int64_t a_rows = trans_a ? K : M, a_cols = trans_a ? M : K;
  const int64_t b_rows = trans_b ? N : K, b_cols = trans_b ? K : N;
  s.a16.resize(static_cast<size_t>(a_rows * a_cols));
  s.b16.resize(static_cast<size_t>(b_rows * b_cols));
  convert_matrix(A, a_rows, a_cols, lda, s.a16.data(), to_bf16_bits);
  convert_matrix(B, b_rows, b_cols, ldb, s.b16.data(), to_bf16_bits);
  return gemm_bf16_bits(trans_a, trans_b, M, N, K, alpha, s.a16.data(), a_cols, s.b16.data(), b_cols, beta, C, ldc);
#else
  (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb;
  (void)beta, (void)C, (void)ldc;
  return false;
#endif
}

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (bf16_gemm_available() && gemm_bf16_onednn(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))
    return;
  warn_bf16_fallback_once();
  check_gemm_strides("gemm_bf16", trans_a, trans_b, M, N, K, lda, ldb, ldc);
  if (M == 0 || N == 0 || K == 0 || alpha == 0.f || !A || !B) {
    gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);  // its checks and the beta-only cases
    return;
  }
  Bf16Scratch& s = scratch();
  const int64_t a_rows = trans_a ? K : M, a_cols = trans_a ? M : K;
  const int64_t b_rows = trans_b ? N : K, b_cols = trans_b ? K : N;
  s.a.resize(static_cast<size_t>(a_rows * a_cols));
  s.b.resize(static_cast<size_t>(b_rows * b_cols));
  convert_matrix(A, a_rows, a_cols, lda, s.a.data(), round_bf16);
  convert_matrix(B, b_rows, b_cols, ldb, s.b.data(), round_bf16);
  gemm(trans_a, trans_b, M, N, K, alpha, s.a.data(), a_cols, s.b.data(), b_cols, beta, C, ldc);
}

}  // namespace minidl::ops
