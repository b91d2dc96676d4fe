// ops/conv2d_bf16.cpp — mixed_bfloat16's convolution: the operands rounded to bfloat16 once, then
// im2col + GEMM (oneDNN's bfloat16 GEMM, or float32 on the rounded values) on fixed image chunks.
#include "ops/conv2d_bf16.h"

#include <algorithm>
#include <memory>

#include "core/errors.h"
#include "core/memory.h"
#include "core/threads.h"
#include "ops/bf16_convert.h"
#include "ops/blas.h"
#include "ops/conv2d_algorithm.h"
#include "ops/depthwise_conv2d.h"
#include "ops/gemm_bf16.h"
#include "ops/batch_sum.h"
#include "ops/panel_gemm.h"

namespace minidl::ops {
namespace {

// Image chunks as ops/conv2d.cpp's: a power of two images of about
// kChunkRows output rows (ops/batch_sum.h), doubled while the per-chunk
// partial kernel gradients would pass kMaxPartialBytes, their sums added
// pairwise; a function of the per-image work alone, so that neither the
// thread count nor a split of the batch between replicas changes the sums.
constexpr int64_t kChunkRows = int64_t{1} << 12;
constexpr int64_t kMaxPartialBytes = int64_t{64} << 20;
// Elements per piece of a parallel rounding pass, and floats per piece of an unfolding.
constexpr int64_t kRoundGrain = int64_t{1} << 14;
constexpr int64_t kUnfoldGrain = int64_t{1} << 15;

// The sizes of one call, checked.
struct Sizes {
  int64_t N, G, CG, OCG;  // images, groups, input channels and filters per group
  int64_t KG;             // KH*KW*CG: columns of one group's unfolded matrix
  int64_t P, M;           // output pixels per image, rows of the batch
  int64_t tile;           // rows per tile
  int64_t chunks;         // chunks of whole images
  int64_t per_chunk;      // images per chunk but perhaps the last
  bool pointwise;         // 1x1, stride 1, no padding: x itself is the unfolded matrix
  int64_t first_row(int64_t c) const { return std::min(N, per_chunk * c) * P; }
  int64_t end_row(int64_t c) const { return std::min(N, per_chunk * (c + 1)) * P; }
};

Sizes sizes_of(const char* fn, const Conv2DGeometry& g, int64_t groups, int64_t OC, const Conv2DWorkspace& ws) {
  MINIDL_CHECK(groups >= 1 && OC >= 1 && g.C >= 1 && g.C % groups == 0 && OC % groups == 0, ValueError,
               "{}: expected groups >= 1 dividing both the input channels and the filters; received groups={}, {} "
               "input channels, {} filters",
               fn, groups, g.C, OC);
  const bool positive = g.N >= 0 && std::min({g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.OH, g.OW}) >= 1 &&
                        std::min({g.pad_top, g.pad_bottom, g.pad_left, g.pad_right}) >= 0;
  const bool fits = (g.OH - 1) * g.SH + (g.KH - 1) * g.DH < g.H + g.pad_top + g.pad_bottom &&
                    (g.OW - 1) * g.SW + (g.KW - 1) * g.DW < g.W + g.pad_left + g.pad_right;
  MINIDL_CHECK(positive && fits, ValueError,
               "{}: inconsistent geometry: input (N, H, W, C) = ({}, {}, {}, {}), kernel ({}, {}), strides ({}, {}), "
               "dilation ({}, {}), padding (top {}, bottom {}, left {}, right {}), output ({}, {})",
               fn, g.N, g.H, g.W, g.C, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.pad_top, g.pad_bottom, g.pad_left,
               g.pad_right, g.OH, g.OW);
  Sizes s{};
  s.N = g.N, s.G = groups, s.CG = g.C / groups, s.OCG = OC / groups;
  s.KG = g.KH * g.KW * s.CG;
  s.P = g.OH * g.OW;
  s.M = g.N * s.P;
  s.pointwise = g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 &&
                std::max({g.pad_top, g.pad_bottom, g.pad_left, g.pad_right}) == 0;
  // The tile bound counts every group's columns, as ops/conv2d.h's tiling does.
  const int64_t row_bytes = s.KG * s.G * int64_t{sizeof(float)};
  s.tile = std::clamp<int64_t>(std::max(ws.max_col_bytes() / row_bytes, ws.min_tile_rows()), 1,
                               std::max<int64_t>(s.M, 1));
  const int64_t partial_bytes = std::max<int64_t>(1, s.KG * OC * int64_t{sizeof(float)});
  s.per_chunk = fit_partials(samples_per_group(s.P, kChunkRows), g.N, partial_bytes, kMaxPartialBytes);
  s.chunks = std::max<int64_t>(1, group_count(g.N, s.per_chunk));
  return s;
}

// Whether the products run on oneDNN's bfloat16 GEMM.
bool use_onednn(const char* fn, Bf16Gemm mode) {
  if (mode == Bf16Gemm::kFloat32) return false;
  if (mode == Bf16Gemm::kAuto) {
    if (bf16_gemm_available()) return true;
    warn_bf16_fallback_once();
    return false;
  }
  // A 1x1x1 product tells whether this build and CPU run it at all.
  const float one = 1.f;
  float c = 0.f;
  MINIDL_CHECK(gemm_bf16_onednn(false, false, 1, 1, 1, 1.f, &one, 1, &one, 1, 0.f, &c, 1), ValueError,
               "{}: oneDNN's bfloat16 GEMM is not available (minidl built without oneDNN, or the CPU lacks AVX-512)",
               fn);
  return true;
}

// One float32 product of a tile on operands already rounded: split across
// threads when the batch is one chunk, else one call on the chunk's thread.
struct TileProduct {
  bool serial;
  void operator()(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                  int64_t ldb, float beta, float* C, int64_t ldc) const {
    if (serial)
      gemm_serial(ta, tb, M, N, K, 1.f, A, lda, B, ldb, beta, C, ldc);
    else
      gemm(ta, tb, M, N, K, 1.f, A, lda, B, ldb, beta, C, ldc);
  }
};

// The calling thread's buffer for rounded operands: grown to the largest call, then reused.
float* operand_buffer(int64_t n) {
  struct Buffer {
    std::shared_ptr<float[]> data;
    int64_t capacity = 0;
  };
  thread_local Buffer b;
  if (n > b.capacity) {
    b.data = aligned_floats(n);
    b.capacity = n;
  }
  return b.data.get();
}

// dst = bf16(src), n elements.
void round_into(const float* src, int64_t n, float* dst) {
  parallel_for(
      n, [&](int64_t i0, int64_t i1) { round_to_bfloat16(src + i0, dst + i0, i1 - i0); }, kRoundGrain);
}

// col [m1-m0, KG] = rows [m0, m1) of the batch's unfolded matrix, group channels from c0; T is float, or
// uint16_t for bfloat16 patterns.
template <class T>
void unfold(const T* x, const Conv2DGeometry& g, const Sizes& s, int64_t c0, int64_t m0, int64_t m1, T* col) {
  const int64_t image = g.H * g.W * g.C;
  parallel_for(
      m1 - m0,
      [&](int64_t b, int64_t e) {
        int64_t m = m0 + b;
        while (m < m0 + e) {
          const int64_t n = m / s.P, p0 = m % s.P, p1 = std::min(s.P, p0 + m0 + e - m);
          im2col_rows(x + n * image, g, c0, s.CG, p0, p1, col + (m - m0) * s.KG);
          m += p1 - p0;
        }
      },
      std::max<int64_t>(1, kUnfoldGrain / s.KG));
}

// dst = the bfloat16 patterns of src, n elements.
void bits_into(const float* src, int64_t n, uint16_t* dst) {
  parallel_for(
      n, [&](int64_t i0, int64_t i1) { to_bf16_bits(src + i0, dst + i0, i1 - i0); }, kRoundGrain);
}

// dx += the fold of col [m1-m0, KG]; images are disjoint in dx, so they split across threads.
void fold(const float* col, const Conv2DGeometry& g, const Sizes& s, int64_t c0, int64_t m0, int64_t m1, float* dx) {
  const int64_t image = g.H * g.W * g.C;
  const int64_t first = m0 / s.P, last = (m1 - 1) / s.P;
  parallel_for(last - first + 1, [&](int64_t b, int64_t e) {
    for (int64_t n = first + b; n < first + e; ++n) {
      const int64_t p0 = std::max(m0 - n * s.P, int64_t{0}), p1 = std::min(m1 - n * s.P, s.P);
      col2im_rows(col + (n * s.P + p0 - m0) * s.KG, g, c0, s.CG, p0, p1, dx + n * image);
    }
  });
}

void forward_im2col(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g, const Sizes& s,
                    int64_t OC, float* y, Conv2DWorkspace& ws, bool relu) {
  const int64_t slots = parallel_slots(s.chunks);
  const int64_t col_floats = s.pointwise ? 0 : Conv2DWorkspace::lines(s.tile * s.KG);
  // The float32 products of several chunks run on the packed-panel kernel
  // (ops/panel_gemm.h), each group's rounded kernel packed once for every tile;
  // it adds the bias and applies the relu itself.
  const bool panels = s.chunks > 1 && panel_gemm_applicable(s.OCG);
  const int64_t packed_floats = panels ? Conv2DWorkspace::lines(panel_gemm_packed_floats(s.KG, s.OCG)) : 0;
  float* cols = ws.floats(std::max<int64_t>(1, col_floats * slots + packed_floats * s.G));
  float* packed = cols + col_floats * slots;  // [G][KG, OCG] in panels
  for (int64_t gi = 0; panels && gi < s.G; ++gi)
    panel_gemm_pack(s.KG, s.OCG, kernel + gi * s.OCG, OC, /*trans_b=*/false, packed + gi * packed_floats);
  const TileProduct product{s.chunks > 1};
  parallel_chunks(s.chunks, slots, [&](int64_t slot, int64_t c) {
    float* col = cols + col_floats * slot;  // [tile, KG]
    for (int64_t m0 = s.first_row(c); m0 < s.end_row(c); m0 += s.tile) {
      const int64_t m1 = std::min(s.end_row(c), m0 + s.tile), rows = m1 - m0;
      float* yt = y + m0 * OC;  // [rows, OC]
      if (bias && !panels)  // the products add onto the bias (beta = 1)
        for (int64_t r = 0; r < rows; ++r) std::copy_n(bias, OC, yt + r * OC);
      for (int64_t gi = 0; gi < s.G; ++gi) {
        const float* a = x + m0 * g.C + gi * s.CG;  // pointwise: [rows, CG] inside [M, C]
        int64_t lda = g.C;
        if (!s.pointwise) {
          unfold(x, g, s, gi * s.CG, m0, m1, col);
          a = col, lda = s.KG;
        }
        // y_g [rows, OCG] (+)= [rows, KG] * kernel_g [KG, OCG]
        if (panels)
          panel_gemm(rows, s.OCG, s.KG, a, lda, packed + gi * packed_floats, false, yt + gi * s.OCG, OC,
                     bias ? bias + gi * s.OCG : nullptr, relu);
        else
          product(false, false, rows, s.OCG, s.KG, a, lda, kernel + gi * s.OCG, OC, bias ? 1.f : 0.f,
                  yt + gi * s.OCG, OC);
      }
      if (relu && !panels)
        for (int64_t i = 0; i < rows * OC; ++i) yt[i] = std::max(yt[i], 0.f);
    }
  });
}

void backward_im2col(const float* x, const float* kernel, const float* dy, const Conv2DGeometry& g, const Sizes& s,
                     int64_t OC, float* dx, float* dkernel, Conv2DWorkspace& ws) {
  const int64_t slots = parallel_slots(s.chunks);
  const int64_t col_floats = s.pointwise ? 0 : Conv2DWorkspace::lines(s.tile * s.KG);
  const int64_t part_floats = dkernel ? Conv2DWorkspace::lines(s.KG * OC) : 0;
  // Per slot a column block; per chunk after the first a partial dkernel, added pairwise at the end.
  float* cols = ws.floats(std::max<int64_t>(1, col_floats * slots + part_floats * (s.chunks - 1)));
  float* parts = cols + col_floats * slots;
  const TileProduct product{s.chunks > 1};
  const int64_t image = g.H * g.W * g.C;
  parallel_chunks(s.chunks, slots, [&](int64_t slot, int64_t c) {
    float* col = cols + col_floats * slot;  // [tile, KG]
    float* dk = !dkernel ? nullptr : c == 0 ? dkernel : parts + part_floats * (c - 1);  // [KG, OC]
    if (dk) std::fill_n(dk, s.KG * OC, 0.f);
    if (dx && !s.pointwise)  // the folds add up; this chunk's images are its own
      std::fill(dx + s.first_row(c) / s.P * image, dx + s.end_row(c) / s.P * image, 0.f);
    for (int64_t m0 = s.first_row(c); m0 < s.end_row(c); m0 += s.tile) {
      const int64_t m1 = std::min(s.end_row(c), m0 + s.tile), rows = m1 - m0;
      for (int64_t gi = 0; gi < s.G; ++gi) {
        const float* dyg = dy + m0 * OC + gi * s.OCG;  // [rows, OCG], row stride OC
        const float* kg = kernel ? kernel + gi * s.OCG : nullptr;
        if (s.pointwise) {
          const int64_t at = m0 * g.C + gi * s.CG;
          // dkernel_g [CG, OCG] += x_g^T [CG, rows] * dy_g;  dx_g [rows, CG] = dy_g * kernel_g^T
          if (dk) product(true, false, s.CG, s.OCG, rows, x + at, g.C, dyg, OC, 1.f, dk + gi * s.OCG, OC);
          if (dx) product(false, true, rows, s.CG, s.OCG, dyg, OC, kg, OC, 0.f, dx + at, g.C);
          continue;
        }
        if (dk) {  // dkernel_g [KG, OCG] += col^T [KG, rows] * dy_g
          unfold(x, g, s, gi * s.CG, m0, m1, col);
          product(true, false, s.KG, s.OCG, rows, col, s.KG, dyg, OC, 1.f, dk + gi * s.OCG, OC);
        }
        if (dx) {  // dcol [rows, KG] = dy_g * kernel_g^T, folded into dx
          product(false, true, rows, s.KG, s.OCG, dyg, OC, kg, OC, 0.f, col, s.KG);
          fold(col, g, s, gi * s.CG, m0, m1, dx);
        }
      }
    }
  });
  if (dkernel) add_chunk_partials(parts, s.chunks - 1, part_floats, s.KG * OC, dkernel);
}

// Blocks of bfloat16 patterns carved out of float storage: n patterns take n/2 floats.
int64_t bits_floats(int64_t n) { return Conv2DWorkspace::lines((n + 1) / 2); }
uint16_t* as_bits(float* p) { return reinterpret_cast<uint16_t*>(p); }

// The oneDNN forward on x16 and k16 [KG*G, OC], the patterns of x and the
// kernel: each tile unfolded (col16), multiplied onto the rounded bias br,
// then the relu while the tile is in cache.
void forward_onednn(const uint16_t* x16, const uint16_t* k16, const float* br, const Conv2DGeometry& g, const Sizes& s,
                    int64_t OC, float* y, Conv2DWorkspace& ws, bool relu) {
  const int64_t slots = parallel_slots(s.chunks);
  const int64_t slot_floats = s.pointwise ? 0 : bits_floats(s.tile * s.KG);
  float* cols = ws.floats(std::max<int64_t>(1, slot_floats * slots));
  parallel_chunks(s.chunks, slots, [&](int64_t slot, int64_t c) {
    uint16_t* col16 = as_bits(cols + slot_floats * slot);  // [tile, KG]
    for (int64_t m0 = s.first_row(c); m0 < s.end_row(c); m0 += s.tile) {
      const int64_t m1 = std::min(s.end_row(c), m0 + s.tile), rows = m1 - m0;
      float* yt = y + m0 * OC;  // [rows, OC]
      if (br)  // the products add onto the bias (beta = 1)
        for (int64_t r = 0; r < rows; ++r) std::copy_n(br, OC, yt + r * OC);
      for (int64_t gi = 0; gi < s.G; ++gi) {
        const uint16_t* a = x16 + m0 * g.C + gi * s.CG;  // pointwise: [rows, CG] inside [M, C]
        int64_t lda = g.C;
        if (!s.pointwise) {
          unfold(x16, g, s, gi * s.CG, m0, m1, col16);
          a = col16, lda = s.KG;
        }
        // y_g [rows, OCG] (+)= [rows, KG] * k16_g [KG, OCG]
        MINIDL_CHECK(gemm_bf16_bits(false, false, rows, s.OCG, s.KG, 1.f, a, lda, k16 + gi * s.OCG, OC,
                                    br ? 1.f : 0.f, yt + gi * s.OCG, OC),
                     RuntimeError, "conv2d (bfloat16): oneDNN's bfloat16 GEMM failed on a [{}, {}] x [{}, {}] product",
                     rows, s.KG, s.KG, s.OCG);
      }
      if (relu)
        for (int64_t i = 0; i < rows * OC; ++i) yt[i] = std::max(yt[i], 0.f);
    }
  });
}

// The oneDNN backward on the patterns x16 (null without dkernel), k16 (null
// without dx) and dy16 = bf16(dy') [M, OC].
void backward_onednn(const uint16_t* x16, const uint16_t* k16, const uint16_t* dy16, const Conv2DGeometry& g,
                     const Sizes& s, int64_t OC, float* dx, float* dkernel, Conv2DWorkspace& ws) {
  const int64_t slots = parallel_slots(s.chunks);
  const int64_t colf_floats = dx && !s.pointwise ? Conv2DWorkspace::lines(s.tile * s.KG) : 0;
  const int64_t slot_floats = colf_floats + (dkernel && !s.pointwise ? bits_floats(s.tile * s.KG) : 0);
  const int64_t part_floats = dkernel ? Conv2DWorkspace::lines(s.KG * OC) : 0;
  // Per slot a column block; per chunk after the first a partial dkernel, added pairwise at the end.
  float* cols = ws.floats(std::max<int64_t>(1, slot_floats * slots + part_floats * (s.chunks - 1)));
  float* parts = cols + slot_floats * slots;
  const int64_t image = g.H * g.W * g.C;
  const auto check = [&](bool ok, int64_t m, int64_t k, int64_t n) {
    MINIDL_CHECK(ok, RuntimeError, "conv2d (bfloat16): oneDNN's bfloat16 GEMM failed on a [{}, {}] x [{}, {}] product",
                 m, k, k, n);
  };
  parallel_chunks(s.chunks, slots, [&](int64_t slot, int64_t c) {
    float* colf = cols + slot_floats * slot;        // [tile, KG] floats: dcol
    uint16_t* col16 = as_bits(colf + colf_floats);  // [tile, KG] bfloat16: the unfolded x
    float* dk = !dkernel ? nullptr : c == 0 ? dkernel : parts + part_floats * (c - 1);  // [KG, OC]
    if (dk) std::fill_n(dk, s.KG * OC, 0.f);
    if (dx && !s.pointwise)  // the folds add up; this chunk's images are its own
      std::fill(dx + s.first_row(c) / s.P * image, dx + s.end_row(c) / s.P * image, 0.f);
    for (int64_t m0 = s.first_row(c); m0 < s.end_row(c); m0 += s.tile) {
      const int64_t m1 = std::min(s.end_row(c), m0 + s.tile), rows = m1 - m0;
      for (int64_t gi = 0; gi < s.G; ++gi) {
        const uint16_t* dyg = dy16 + m0 * OC + gi * s.OCG;  // [rows, OCG], row stride OC
        if (dk) {  // dkernel_g [KG, OCG] += col^T [KG, rows] * dy_g (pointwise: col = x_g [rows, CG])
          const uint16_t* a = x16 + m0 * g.C + gi * s.CG;
          int64_t lda = g.C;
          if (!s.pointwise) {
            unfold(x16, g, s, gi * s.CG, m0, m1, col16);
            a = col16, lda = s.KG;
          }
          check(gemm_bf16_bits(true, false, s.KG, s.OCG, rows, 1.f, a, lda, dyg, OC, 1.f, dk + gi * s.OCG, OC),
                s.KG, rows, s.OCG);
        }
        if (dx) {  // dcol [rows, KG] = dy_g * k16_g^T, folded into dx (pointwise: dx_g itself)
          const int64_t at = m0 * g.C + gi * s.CG;
          float* out = s.pointwise ? dx + at : colf;
          check(gemm_bf16_bits(false, true, rows, s.KG, s.OCG, 1.f, dyg, OC, k16 + gi * s.OCG, OC, 0.f, out,
                               s.pointwise ? g.C : s.KG),
                rows, s.OCG, s.KG);
          if (!s.pointwise) fold(colf, g, s, gi * s.CG, m0, m1, dx);
        }
      }
    }
  });
  if (dkernel) add_chunk_partials(parts, s.chunks - 1, part_floats, s.KG * OC, dkernel);
}

// One pass over dy on the image chunks of `s`: dy' = dy masked by
// relu_y > 0; where given, dyr = bf16(dy') as floats, dy16 = its bfloat16
// patterns, and dbias = the sum over rows of dy', each chunk's sum in double,
// the chunks added pairwise.
void prepare_dy(const float* dy, const float* relu_y, const Sizes& s, int64_t OC, float* dyr, uint16_t* dy16,
                float* dbias, Conv2DWorkspace& ws) {
  const int64_t chunks = s.chunks;
  double* sums = dbias ? ws.doubles(chunks * OC) : nullptr;  // [chunks, OC]
  parallel_chunks(chunks, parallel_slots(chunks), [&](int64_t, int64_t c) {
    double* sum = sums ? sums + c * OC : nullptr;
    if (sum) std::fill_n(sum, OC, 0.0);
    const int64_t r0 = s.first_row(c), rows = s.end_row(c) - r0;
    const float* mask = relu_y ? relu_y + r0 * OC : nullptr;
    if (dyr)
      mask_sum_round_bf16(dy + r0 * OC, mask, rows, OC, sum, dyr + r0 * OC);
    else
      mask_sum_to_bf16_bits(dy + r0 * OC, mask, rows, OC, sum, dy16 ? dy16 + r0 * OC : nullptr);
  });
  if (dbias) sum_chunk_bias(sums, chunks, OC, dbias);
}

// "auto" computes a depthwise convolution with the direct depthwise kernels.
bool depthwise(const Conv2DWorkspace& ws, const Conv2DGeometry& g, int64_t groups, int64_t OC) {
  return effective_conv_algorithm(ws) == ConvAlgorithm::kAuto && depthwise_applicable(g, groups, OC);
}

}  // namespace

void conv2d_forward_bf16(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g,
                         int64_t groups, int64_t OC, float* y, Conv2DWorkspace& ws, bool relu, Bf16Gemm gemm) {
  const char* fn = "conv2d_forward_bf16";
  const Sizes s = sizes_of(fn, g, groups, OC, ws);
  if (s.M == 0) return;
  MINIDL_CHECK(x && kernel && y, ValueError, "{}: x, kernel and y must not be null", fn);
  const int64_t x_count = g.N * g.H * g.W * g.C, k_count = s.KG * OC;
  const bool direct = depthwise(ws, g, groups, OC);
  if (!direct && use_onednn(fn, gemm)) {  // the operands' bfloat16 patterns, unfolded as they are
    const int64_t x_floats = bits_floats(x_count), k_floats = bits_floats(k_count);
    float* buffer = operand_buffer(x_floats + k_floats + (bias ? OC : 0));
    uint16_t* x16 = as_bits(buffer);
    uint16_t* k16 = as_bits(buffer + x_floats);
    float* br = bias ? buffer + x_floats + k_floats : nullptr;
    bits_into(x, x_count, x16);
    to_bf16_bits(kernel, k16, k_count);
    if (bias) round_bf16(bias, br, OC);
    forward_onednn(x16, k16, br, g, s, OC, y, ws, relu);
    return;
  }
  const int64_t x_floats = Conv2DWorkspace::lines(x_count), k_floats = Conv2DWorkspace::lines(k_count);
  float* xr = operand_buffer(x_floats + k_floats + (bias ? OC : 0));
  float* kr = xr + x_floats;
  float* br = bias ? kr + k_floats : nullptr;
  round_into(x, x_count, xr);
  round_into(kernel, k_count, kr);
  if (bias) round_into(bias, OC, br);
  if (direct) {
    depthwise_conv2d_forward(xr, kr, br, g, OC / g.C, y, ws, relu);
    return;
  }
  forward_im2col(xr, kr, br, g, s, OC, y, ws, relu);
}

void conv2d_backward_bf16(const float* x, const float* kernel, const float* dy, const Conv2DGeometry& g,
                          int64_t groups, int64_t OC, float* dx, float* dkernel, float* dbias, Conv2DWorkspace& ws,
                          const float* relu_y, Bf16Gemm gemm) {
  const char* fn = "conv2d_backward_bf16";
  const Sizes s = sizes_of(fn, g, groups, OC, ws);
  MINIDL_CHECK(s.M == 0 || dy, ValueError, "{}: dy must not be null", fn);
  MINIDL_CHECK(s.M == 0 || !dkernel || x, ValueError, "{}: x is needed for dkernel but is null", fn);
  MINIDL_CHECK(s.M == 0 || !dx || kernel, ValueError, "{}: kernel is needed for dx but is null", fn);
  if (!dx && !dkernel && !dbias) return;
  if (s.M == 0) {
    if (dkernel) std::fill_n(dkernel, s.KG * OC, 0.f);
    if (dbias) std::fill_n(dbias, OC, 0.f);
    return;
  }
  if (!dx && !dkernel) {
    prepare_dy(dy, relu_y, s, OC, nullptr, nullptr, dbias, ws);
    return;
  }
  const bool direct = depthwise(ws, g, groups, OC);
  if (!direct && use_onednn(fn, gemm)) {  // the operands' bfloat16 patterns, unfolded as they are
    const int64_t x_count = dkernel ? g.N * g.H * g.W * g.C : 0;
    const int64_t dy_floats = bits_floats(s.M * OC), x_floats = bits_floats(x_count);
    float* buffer = operand_buffer(dy_floats + x_floats + (dx ? bits_floats(s.KG * OC) : 0));
    uint16_t* dy16 = as_bits(buffer);
    uint16_t* x16 = dkernel ? as_bits(buffer + dy_floats) : nullptr;
    uint16_t* k16 = dx ? as_bits(buffer + dy_floats + x_floats) : nullptr;
    prepare_dy(dy, relu_y, s, OC, nullptr, dy16, dbias, ws);  // the relu's gradient mask, then the rounding
    if (x16) bits_into(x, x_count, x16);
    if (k16) to_bf16_bits(kernel, k16, s.KG * OC);
    backward_onednn(x16, k16, dy16, g, s, OC, dx, dkernel, ws);
    return;
  }
  const int64_t x_count = dkernel ? g.N * g.H * g.W * g.C : 0, k_count = dx ? s.KG * OC : 0;
  const int64_t dy_floats = Conv2DWorkspace::lines(s.M * OC), x_floats = Conv2DWorkspace::lines(x_count);
  float* dyr = operand_buffer(dy_floats + x_floats + k_count);
  float* xr = dkernel ? dyr + dy_floats : nullptr;
  float* kr = dx ? dyr + dy_floats + x_floats : nullptr;
  prepare_dy(dy, relu_y, s, OC, dyr, nullptr, dbias, ws);  // the relu's gradient mask, then the rounding
  if (xr) round_into(x, x_count, xr);
  if (kr) round_into(kernel, k_count, kr);
  if (direct) {
    depthwise_conv2d_backward(xr, kr, dyr, g, OC / g.C, dx, dkernel, nullptr, ws);
    return;
  }
  backward_im2col(xr, kr, dyr, g, s, OC, dx, dkernel, ws);
}

}  // namespace minidl::ops
