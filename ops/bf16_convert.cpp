// ops/bf16_convert.cpp — float32 -> bfloat16 conversion kernels: branch-free C++ the compiler
// vectorises, and the AVX512_BF16 instruction selected at run time.
#include "ops/bf16_convert.h"

#include <algorithm>
#include <cstring>

#include "core/errors.h"

#if defined(__GNUC__) && defined(__x86_64__)
// GCC 12 reports the deliberately undefined merge operand inside the AVX-512
// intrinsics (_mm512_undefined_*) as maybe uninitialized (GCC bug 105593);
// clang has no such warning.
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#define MINIDL_BF16_X86 1
#endif

namespace minidl::ops {
namespace {

// ops::round_to_bfloat16's rule on the bits, without branches: round half to
// even on the 16 dropped bits, except a NaN, which is quieted instead
// (rounding could carry it into the exponent, i.e. into infinity).
inline uint16_t bits_portable(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  const uint32_t rounded = u + 0x7fffu + ((u >> 16) & 1u);
  const uint32_t quiet = u | 0x00400000u;
  return static_cast<uint16_t>(((u & 0x7fffffffu) > 0x7f800000u ? quiet : rounded) >> 16);
}

inline float widen(uint16_t h) {
  const uint32_t u = uint32_t{h} << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

void to_bits_portable(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = bits_portable(src[i]);
}

void round_portable(const float* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = widen(bits_portable(src[i]));
}

#ifdef MINIDL_BF16_X86
#define MINIDL_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// 16 floats to 16 bfloat16 patterns. vcvtneps2bf16 rounds to nearest even and
// quiets NaNs as the scalar rule does, but reads subnormal inputs as zero:
// lanes with 0 < |x| < 2^-126 take the integer rounding instead.
MINIDL_AVX512_BF16 inline __m256i bits16_avx512bf16(__m512 x) {
  const __m256i fast = (__m256i)_mm512_cvtneps_pbh(x);
  const __m512i u = _mm512_castps_si512(x);
  const __m512i magnitude_less_one = _mm512_sub_epi32(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)),
                                                      _mm512_set1_epi32(1));
  const __mmask16 subnormal = _mm512_cmplt_epu32_mask(magnitude_less_one, _mm512_set1_epi32(0x007fffff));
  if (__builtin_expect(subnormal == 0, 1)) return fast;
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff)));
  const __m256i slow = _mm512_cvtepi32_epi16(_mm512_srli_epi32(rounded, 16));
  return _mm256_mask_blend_epi16(subnormal, fast, slow);
}

MINIDL_AVX512_BF16 void to_bits_avx512bf16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), bits16_avx512bf16(_mm512_loadu_ps(src + i)));
  if (i < n) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm256_mask_storeu_epi16(dst + i, tail, bits16_avx512bf16(_mm512_maskz_loadu_ps(tail, src + i)));
  }
}

MINIDL_AVX512_BF16 inline __m512 widen16(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

MINIDL_AVX512_BF16 void round_avx512bf16(const float* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, widen16(bits16_avx512bf16(_mm512_loadu_ps(src + i))));
  if (i < n) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm512_mask_storeu_ps(dst + i, tail, widen16(bits16_avx512bf16(_mm512_maskz_loadu_ps(tail, src + i))));
  }
}

bool cpu_has_avx512_bf16() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
  return has;
}
#else
bool cpu_has_avx512_bf16() { return false; }
#endif

Bf16Kernel resolve(Bf16Kernel kernel, const char* fn) {
  if (kernel == Bf16Kernel::kAuto) return cpu_has_avx512_bf16() ? Bf16Kernel::kAvx512Bf16 : Bf16Kernel::kPortable;
  MINIDL_CHECK(bf16_kernel_available(kernel), ValueError,
               "{}: the AVX512_BF16 conversion kernel does not run on this CPU (or build)", fn);
  return kernel;
}

// Floats per piece of mask_sum_to_bf16_bits: the masked values of a piece
// wait in a stack buffer that stays in the L1 cache until they are converted.
constexpr int64_t kPiece = 2048;

// One row segment of n columns: out = v, col_sums += v.
inline void mask_row(const float* d, const float* m, int64_t n, double* col_sums, float* out) {
  for (int64_t c = 0; c < n; ++c) {
    const float v = !m || m[c] > 0.f ? d[c] : 0.f;
    if (col_sums) col_sums[c] += static_cast<double>(v);
    out[c] = v;
  }
}

inline void convert(const float* v, uint16_t* dst, int64_t n) { to_bf16_bits(v, dst, n); }
inline void convert(const float* v, float* dst, int64_t n) { round_bf16(v, dst, n); }

template <class Out>
void mask_sum(const float* dy, const float* mask, int64_t rows, int64_t cols, double* col_sums, Out* dst) {
  if (rows <= 0 || cols <= 0) return;
  float v[kPiece];
  if (cols <= kPiece) {  // whole rows per piece
    const int64_t per_piece = kPiece / cols;
    for (int64_t r0 = 0; r0 < rows; r0 += per_piece) {
      const int64_t r1 = std::min(rows, r0 + per_piece);
      for (int64_t r = r0; r < r1; ++r)
        mask_row(dy + r * cols, mask ? mask + r * cols : nullptr, cols, col_sums, v + (r - r0) * cols);
      if (dst) convert(v, dst + r0 * cols, (r1 - r0) * cols);
    }
    return;
  }
  for (int64_t r = 0; r < rows; ++r)  // pieces of one row
    for (int64_t c0 = 0; c0 < cols; c0 += kPiece) {
      const int64_t n = std::min(kPiece, cols - c0), at = r * cols + c0;
      mask_row(dy + at, mask ? mask + at : nullptr, n, col_sums ? col_sums + c0 : nullptr, v);
      if (dst) convert(v, dst + at, n);
    }
}

}  // namespace

bool bf16_kernel_available(Bf16Kernel kernel) {
  return kernel != Bf16Kernel::kAvx512Bf16 || cpu_has_avx512_bf16();
}

void to_bf16_bits(const float* src, uint16_t* dst, int64_t n, Bf16Kernel kernel) {
  kernel = resolve(kernel, "to_bf16_bits");
  if (n <= 0) return;
#ifdef MINIDL_BF16_X86
  if (kernel == Bf16Kernel::kAvx512Bf16) return to_bits_avx512bf16(src, dst, n);
#endif
  to_bits_portable(src, dst, n);
}

void round_bf16(const float* src, float* dst, int64_t n, Bf16Kernel kernel) {
  kernel = resolve(kernel, "round_bf16");
  if (n <= 0) return;
#ifdef MINIDL_BF16_X86
  if (kernel == Bf16Kernel::kAvx512Bf16) return round_avx512bf16(src, dst, n);
#endif
  round_portable(src, dst, n);
}

void mask_sum_to_bf16_bits(const float* dy, const float* mask, int64_t rows, int64_t cols, double* col_sums,
                           uint16_t* dst) {
  mask_sum(dy, mask, rows, cols, col_sums, dst);
}

void mask_sum_round_bf16(const float* dy, const float* mask, int64_t rows, int64_t cols, double* col_sums,
                         float* dst) {
  mask_sum(dy, mask, rows, cols, col_sums, dst);
}

}  // namespace minidl::ops
