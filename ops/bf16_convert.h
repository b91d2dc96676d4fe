// ops/bf16_convert.h — float32 -> bfloat16 conversion of whole buffers, the operand preparation of
// mixed_bfloat16's products (ops/gemm_bf16.h, ops/conv2d_bf16.h).
//
// Every kernel gives, bit for bit, what the scalar ops::round_to_bfloat16
// gives element by element: round to nearest, ties to even; NaN stays a quiet
// NaN of the same sign; infinities, zeros and subnormals keep their value
// class and sign as that rounding makes them. Two kernels compute it:
//
//   kPortable    plain C++ without branches, which the compiler vectorises for
//                whatever CPU minidl is built for;
//   kAvx512Bf16  the AVX512_BF16 conversion instruction (vcvtneps2bf16), chosen
//                at run time where the CPU has it. The instruction flushes
//                subnormal inputs to zero, so lanes holding a subnormal are
//                redone with the integer rounding (rare in practice: one test
//                of 16 lanes per vector).
//
// kAuto is kAvx512Bf16 where the CPU has it, else kPortable.
#pragma once

#include <cstdint>

namespace minidl::ops {

enum class Bf16Kernel { kAuto, kPortable, kAvx512Bf16 };

// Whether `kernel` runs on this CPU and build (kAuto and kPortable always do).
bool bf16_kernel_available(Bf16Kernel kernel);

// dst[i] = the 16-bit bfloat16 pattern of round_to_bfloat16(src[i]), i < n:
// the upper half of the rounded float32, as oneDNN takes bfloat16 operands.
// Runs on the calling thread. Throws ValueError for a kernel that is not available.
void to_bf16_bits(const float* src, uint16_t* dst, int64_t n, Bf16Kernel kernel = Bf16Kernel::kAuto);

// dst[i] = round_to_bfloat16(src[i]) as a float32, i < n; dst may equal src.
// Runs on the calling thread. Throws ValueError for a kernel that is not available.
void round_bf16(const float* src, float* dst, int64_t n, Bf16Kernel kernel = Bf16Kernel::kAuto);

// The backward pass's preparation of dy in one pass, rows x cols, row stride cols:
//   v[r, c] = mask == null || mask[r, c] > 0 ? dy[r, c] : 0     (a relu's gradient)
//   col_sums[c] += v[r, c] in double, r in increasing order, where col_sums is given
//   dst[r, c] = to_bf16_bits(v[r, c]), where dst is given
// Runs on the calling thread.
void mask_sum_to_bf16_bits(const float* dy, const float* mask, int64_t rows, int64_t cols, double* col_sums,
                           uint16_t* dst);

// The same with dst[r, c] = round_to_bfloat16(v[r, c]) as a float32.
void mask_sum_round_bf16(const float* dy, const float* mask, int64_t rows, int64_t cols, double* col_sums,
                         float* dst);

}  // namespace minidl::ops
