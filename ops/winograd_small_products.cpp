// ops/winograd_small_products.cpp — the small-group product loops of ops/winograd_small_products.h.
#include "ops/winograd_small_products.h"

#include <algorithm>

namespace minidl::ops::winograd {

namespace {

// R rows of M at a time: R independent accumulators hide the FMA latency.
template <int R>
void small_rows(int64_t j, int64_t CG, int64_t OCG, int64_t f0, const float* V, int64_t ldv, const float* U,
                float* M, int64_t ldm) {
  float acc[R][16] = {};
  for (int64_t c = 0; c < CG; ++c) {
    const float* u = U + c * OCG + f0;
    for (int r = 0; r < R; ++r) {
      const float v = V[(j + r) * ldv + c];
#pragma omp simd
      for (int f = 0; f < 16; ++f) acc[r][f] += v * u[f];
    }
  }
  for (int r = 0; r < R; ++r) std::copy_n(acc[r], 16, M + (j + r) * ldm + f0);
}

// R rows of dU at a time, as above.
template <int R>
void small_cols(int64_t c, int64_t nb, int64_t OCG, int64_t f0, const float* V, int64_t ldv, const float* W,
                int64_t ldw, float* dU) {
  float acc[R][16] = {};
  for (int64_t j = 0; j < nb; ++j) {
    const float* w = W + j * ldw + f0;
    for (int r = 0; r < R; ++r) {
      const float v = V[j * ldv + c + r];
#pragma omp simd
      for (int f = 0; f < 16; ++f) acc[r][f] += v * w[f];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int f = 0; f < 16; ++f) dU[(c + r) * OCG + f0 + f] += acc[r][f];
}

}  // namespace

void small_product(int64_t nb, int64_t CG, int64_t OCG, const float* V, int64_t ldv, const float* U, float* M,
                   int64_t ldm) {
  for (int64_t f0 = 0; f0 < OCG; f0 += 16) {
    int64_t j = 0;
    for (; j + 8 <= nb; j += 8) small_rows<8>(j, CG, OCG, f0, V, ldv, U, M, ldm);
    for (; j < nb; ++j) small_rows<1>(j, CG, OCG, f0, V, ldv, U, M, ldm);
  }
}

void small_product_tn(int64_t nb, int64_t CG, int64_t OCG, const float* V, int64_t ldv, const float* W,
                      int64_t ldw, float* dU) {
  for (int64_t f0 = 0; f0 < OCG; f0 += 16) {
    int64_t c = 0;
    for (; c + 8 <= CG; c += 8) small_cols<8>(c, nb, OCG, f0, V, ldv, W, ldw, dU);
    for (; c < CG; ++c) small_cols<1>(c, nb, OCG, f0, V, ldv, W, ldw, dU);
  }
}

}  // namespace minidl::ops::winograd
