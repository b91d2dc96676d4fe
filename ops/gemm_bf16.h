// ops/gemm_bf16.h — bfloat16 rounding and the bfloat16 matrix product with float32 accumulation
// that Keras's mixed_bfloat16 policy computes Conv2D and Dense with.
//
// bfloat16 is the upper half of a float32: 8 exponent bits, 7 stored mantissa
// bits. round_to_bfloat16 rounds a float32 to the nearest bfloat16 value
// (ties to even, as a float32 -> bfloat16 cast does on CPUs and in TensorFlow,
// JAX and PyTorch) and returns it widened back to float32, so bfloat16 data is
// kept in float32 storage: exactly representable, and every float32 kernel
// runs on it unchanged.
//
// gemm_bf16 is ops::gemm (ops/blas.h: row-major, same arguments and checks)
// with A and B rounded to bfloat16 and the products accumulated in float32.
// Where the CPU has AVX512_BF16 and minidl was built with oneDNN (libdnnl,
// MINIDL_BF16), it runs oneDNN's bfloat16 GEMM, which uses the vdpbf16ps
// dot-product instruction (twice the float32 rate). Elsewhere it rounds
// copies of A and B and runs the float32 GEMM on them: the same numbers up to
// the order of the float32 sums, since a product of two bfloat16 values is
// exact in float32. The first fallback writes one warning line per process
// (core/logging.h).
#pragma once

#include <cstdint>
#include <cstring>

namespace minidl::ops {

// The nearest bfloat16 value of x (ties to even), as a float32. NaN stays a
// (quiet) NaN of the same sign; infinities and zeros keep their sign; values
// beyond bfloat16's largest finite value (3.3895e38) round to infinity.
inline float round_to_bfloat16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    u |= 0x00400000u;  // NaN: keep it a NaN (rounding could carry into the exponent)
  } else {
    u += 0x7fffu + ((u >> 16) & 1u);  // round half to even on the 16 dropped bits
  }
  u &= 0xffff0000u;
  float r;
  std::memcpy(&r, &u, sizeof r);
  return r;
}

// dst[i] = round_to_bfloat16(src[i]) for n elements (dst may equal src), on
// the calling thread, by ops::round_bf16's vector kernels (ops/bf16_convert.h).
void round_to_bfloat16(const float* src, float* dst, int64_t n);

// Whether gemm_bf16 runs a bfloat16 GEMM: built with oneDNN and the CPU has AVX512_BF16.
bool bf16_gemm_available();

// Writes, once per process, the warning that bfloat16 compute falls back to a
// float32 GEMM on this CPU (or build). No-op where bf16_gemm_available().
void warn_bf16_fallback_once();

// C = alpha * bf16(op(A)) * bf16(op(B)) + beta * C with float32 accumulation;
// arguments, checks and ValueErrors as ops::gemm. Results do not depend on the
// thread count (the product is split into the same blocks as ops::gemm).
void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The oneDNN bfloat16 GEMM alone, without the fallback: false (nothing
// written) when oneDNN is not built in or does not run it on this CPU. Tests
// compare it with a double-precision reference wherever it runs; oneDNN may
// run it on AVX-512 CPUs without AVX512_BF16 too, by emulation, slower than
// the float32 GEMM, which is why gemm_bf16 does not use it there.
bool gemm_bf16_onednn(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                      int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// gemm_bf16_onednn on operands already in bfloat16 (16-bit patterns, as
// ops::to_bf16_bits writes them), with their own leading dimensions: what a
// caller that converts its operands once for several products calls. Same
// checks, blocks and result as gemm_bf16_onednn; false when oneDNN is not
// built in or does not run it.
bool gemm_bf16_bits(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const uint16_t* A,
                    int64_t lda, const uint16_t* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace minidl::ops
