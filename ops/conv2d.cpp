// ops/conv2d.cpp — grouped 2-D convolution by im2col + GEMM in cache-sized tiles, and the
// dispatch to the Winograd, direct, depthwise and reference methods.
#include "ops/conv2d.h"

#include <algorithm>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/batch_sum.h"
#include "ops/blas.h"
#include "ops/conv2d_algorithm.h"
#include "ops/conv2d_direct.h"
#include "ops/conv2d_reference.h"
#include "ops/depthwise_conv2d.h"
#include "ops/panel_gemm.h"
#include "ops/winograd.h"

namespace minidl::ops {

int64_t conv2d_macs(const Conv2DGeometry& g, int64_t groups, int64_t OC) {
  return g.N * g.OH * g.OW * OC * g.KH * g.KW * (g.C / std::max<int64_t>(groups, 1));
}

namespace {

// Everything the loops need, derived once per call.
struct Plan {
  int64_t G, CG, OCG;  // groups, channels and filters per group
  int64_t KG;          // KH*KW*CG: columns of one group's unfolded matrix
  int64_t P;           // OH*OW: output pixels (rows) per image
  int64_t M;           // N*OH*OW: rows of the whole batch
  int64_t tile;        // rows per tile, bounded by the workspace cap
  bool pointwise;      // 1x1, stride 1, no padding: x is already the unfolded matrix
};

Plan make_plan(const char* fn, const Conv2DGeometry& g, int64_t groups, int64_t OC, const Conv2DWorkspace& ws) {
  MINIDL_CHECK(groups >= 1 && OC >= 1, ValueError, "{}: expected groups >= 1 and filters >= 1, received {} and {}", fn,
               groups, OC);
  MINIDL_CHECK(g.C % groups == 0 && OC % groups == 0, ValueError,
               "{}: input channels ({}) and filters ({}) must both be divisible by groups ({})", fn, g.C, OC, groups);
  MINIDL_CHECK(g.N >= 0 && g.H >= 1 && g.W >= 1 && g.C >= 1 && g.KH >= 1 && g.KW >= 1 && g.SH >= 1 && g.SW >= 1 &&
                   g.DH >= 1 && g.DW >= 1 && g.OH >= 1 && g.OW >= 1,
               ValueError,
               "{}: invalid geometry: input ({}, {}, {}, {}), kernel ({}, {}), strides ({}, {}), dilation ({}, {}), "
               "output ({}, {})",
               fn, g.N, g.H, g.W, g.C, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.OH, g.OW);
  MINIDL_CHECK(g.pad_top >= 0 && g.pad_bottom >= 0 && g.pad_left >= 0 && g.pad_right >= 0 &&
                   (g.OH - 1) * g.SH + (g.KH - 1) * g.DH + 1 <= g.H + g.pad_top + g.pad_bottom &&
                   (g.OW - 1) * g.SW + (g.KW - 1) * g.DW + 1 <= g.W + g.pad_left + g.pad_right,
               ValueError,
               "{}: output ({}, {}) does not fit input ({}, {}) with padding ({}, {}, {}, {}), kernel ({}, {}), "
               "strides ({}, {}), dilation ({}, {})",
               fn, g.OH, g.OW, g.H, g.W, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right, g.KH, g.KW, g.SH, g.SW, g.DH,
               g.DW);
  Plan p;
  p.G = groups, p.CG = g.C / groups, p.OCG = OC / groups;
  p.KG = g.KH * g.KW * p.CG;
  p.P = g.OH * g.OW;
  p.M = g.N * p.P;
  p.pointwise = g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.pad_top == 0 && g.pad_bottom == 0 &&
                g.pad_left == 0 && g.pad_right == 0;
  // The cap counts all groups' columns: the group loop revisits a tile's x and
  // y once per group, so the whole tile, not one group's share, should stay cached.
  const int64_t row_bytes = p.KG * p.G * static_cast<int64_t>(sizeof(float));
  p.tile = std::clamp<int64_t>(std::max(ws.max_col_bytes() / row_bytes, ws.min_tile_rows()), 1,
                               std::max<int64_t>(p.M, 1));
  return p;
}

// Below this many floats per chunk the thread hand-off costs more than it saves.
constexpr int64_t kMinFloatsPerChunk = 1 << 15;

// col [m1-m0, KG] = rows [m0, m1) of the batch's unfolded matrix, group channels
// from c0. Rows are independent, so they split across threads freely.
void unfold(const float* x, const Conv2DGeometry& g, const Plan& p, int64_t c0, int64_t m0, int64_t m1, float* col) {
  const int64_t image = g.H * g.W * g.C;
  parallel_for(
      m1 - m0,
      [&](int64_t b, int64_t e) {
        for (int64_t m = m0 + b; m < m0 + e;) {
          const int64_t n = m / p.P, r0 = m % p.P, r1 = std::min(p.P, r0 + (m0 + e - m));
          im2col_rows(x + n * image, g, c0, p.CG, r0, r1, col + (m - m0) * p.KG);
          m += r1 - r0;
        }
      },
      std::max<int64_t>(1, kMinFloatsPerChunk / p.KG));
}

// dx += fold of col [m1-m0, KG]. Rows of one image overlap in dx, rows of
// different images do not: threads split the tile by image.
void fold(const float* col, const Conv2DGeometry& g, const Plan& p, int64_t c0, int64_t m0, int64_t m1, float* dx) {
  const int64_t image = g.H * g.W * g.C;
  const int64_t n0 = m0 / p.P, n1 = (m1 - 1) / p.P + 1;  // images touched by the tile
  parallel_for(n1 - n0, [&](int64_t b, int64_t e) {
    for (int64_t n = n0 + b; n < n0 + e; ++n) {
      const int64_t r0 = std::max(m0, n * p.P) - n * p.P, r1 = std::min(m1, (n + 1) * p.P) - n * p.P;
      col2im_rows(col + (n * p.P + r0 - m0) * p.KG, g, c0, p.CG, r0, r1, dx + n * image);
    }
  });
}

// The batch in chunks of whole images, so that col2im scatters of different
// chunks never touch the same image of dx. A chunk holds a fixed number of
// images, a power of two chosen from the rows per image alone (the last chunk
// may hold fewer), and the chunks' partial kernel and bias gradients are added
// pairwise (ops/batch_sum.h). Each chunk's tiles, GEMM calls and partial sums
// are the same whichever thread runs it and whatever else is in the batch, so
// results depend neither on the thread count nor on how data-parallel
// replicas split a batch between them. Threads take contiguous runs of chunks
// (core/threads.h parallel_chunks). When the batch fits in one chunk (predict
// on one sample) the im2col/col2im passes and GEMMs inside it split across
// threads instead.
//
// How big: each chunk after the first costs a partial dkernel to clear and
// add and cuts a tile short at its end, while smaller chunks let smaller
// batches use both threads and split finer between replicas: about
// kRowsPerChunk output rows. Chunks double in size while their partials would
// pass kMaxPartialBytes.
constexpr int64_t kRowsPerChunk = int64_t{1} << 12;
constexpr int64_t kMaxPartialBytes = int64_t{64} << 20;

struct Chunks {
  int64_t count;      // chunks of images
  int64_t per_chunk;  // images in each chunk but perhaps the last
  int64_t N, P;       // images, rows per image
  int64_t m0(int64_t c) const { return std::min(N, per_chunk * c) * P; }  // rows [m0, m1) of the unfolded batch
  int64_t m1(int64_t c) const { return std::min(N, per_chunk * (c + 1)) * P; }
};

Chunks split_images(const Conv2DGeometry& g, const Plan& p, int64_t OC) {
  const int64_t partial_bytes = std::max<int64_t>(1, p.KG * OC * int64_t{sizeof(float)});
  const int64_t per = fit_partials(samples_per_group(p.P, kRowsPerChunk), g.N, partial_bytes, kMaxPartialBytes);
  return {std::max<int64_t>(1, group_count(g.N, per)), per, g.N, p.P};
}

// The product of one tile: split across threads (gemm) when the tile's chunk
// is the only one, else one call on this chunk's thread (gemm_serial).
void tile_gemm(const Chunks& chunks, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (chunks.count == 1)
    gemm(trans_a, trans_b, M, N, K, 1.f, A, lda, B, ldb, beta, C, ldc);
  else
    gemm_serial(trans_a, trans_b, M, N, K, 1.f, A, lda, B, ldb, beta, C, ldc);
}

void backward_im2col(const float* x, const float* kernel, const float* dy, const Conv2DGeometry& g, const Plan& p,
                     int64_t OC, float* dx, float* dkernel, float* dbias, Conv2DWorkspace& ws, const float* relu_y);

// ValueError: the forced `method` cannot compute this convolution (`needs` says what it requires).
[[noreturn]] void refuse(const char* fn, ConvAlgorithm method, const char* needs, const Conv2DGeometry& g,
                         int64_t groups, int64_t OC) {
  raise<ValueError>(
      "{}: the convolution algorithm \"{}\" cannot compute this convolution: it needs {}; received input "
      "(N, H, W, C) = ({}, {}, {}, {}), kernel ({}, {}), strides ({}, {}), dilation ({}, {}), {} filters, {} groups. "
      "\"auto\", \"im2col\" and \"reference\" compute every convolution (set_conv_algorithm, "
      "MINIDL_CONV_ALGORITHM)",
      fn, conv_algorithm_name(method), needs, g.N, g.H, g.W, g.C, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, OC, groups);
}

// The method one call takes: the workspace's algorithm, or the process-wide
// one when that is kAuto (ops/conv2d_algorithm.h), with kAuto resolved for
// this convolution as ConvAlgorithm describes. A forced method that cannot
// compute it is a ValueError; kDirect's backward is im2col's.
ConvAlgorithm choose(const char* fn, bool forward, const Conv2DWorkspace& ws, const Conv2DGeometry& g, int64_t groups,
                     int64_t OC) {
  switch (const ConvAlgorithm a = effective_conv_algorithm(ws)) {
    case ConvAlgorithm::kAuto:
      if (winograd_applicable(g, groups, OC)) return ConvAlgorithm::kWinograd;
      // A 1x1 kernel is a plain GEMM over the pixels (no unfolding at stride 1),
      // 2-4x faster than the direct loop even with few channels.
      if (forward && direct_applicable(g, groups) && g.KH * g.KW > 1) return ConvAlgorithm::kDirect;
      return ConvAlgorithm::kIm2col;
    case ConvAlgorithm::kWinograd:
      if (!winograd_applicable(g, groups, OC))
        refuse(fn, a, "a 3x3 kernel, stride 1 and at least 8 input channels and 8 filters per group", g, groups, OC);
      return a;
    case ConvAlgorithm::kDirect:
      if (!forward) return ConvAlgorithm::kIm2col;
      if (!direct_applicable(g, groups))
        refuse(fn, a, "one group and kernel height * width * input channels <= 32", g, groups, OC);
      return a;
    case ConvAlgorithm::kIm2col:
    case ConvAlgorithm::kReference: return a;
  }
  return ConvAlgorithm::kIm2col;
}

// "auto" computes a convolution with one input channel per group by the
// direct depthwise kernels (ops/depthwise_conv2d.h), forward and backward.
bool auto_depthwise(const Conv2DWorkspace& ws, const Conv2DGeometry& g, int64_t groups, int64_t OC) {
  return effective_conv_algorithm(ws) == ConvAlgorithm::kAuto && depthwise_applicable(g, groups, OC);
}

// ConvAlgorithm::kReference: ops/conv2d_reference.h's loops in double, rounded to float.
void forward_reference(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g,
                       const Plan& p, int64_t OC, float* y, Conv2DWorkspace& ws, bool relu) {
  const int64_t count = p.M * OC;
  double* yd = ws.doubles(count);
  conv2d_reference_forward(g, p.G, OC, x, kernel, bias, yd);
  for (int64_t i = 0; i < count; ++i) y[i] = relu ? std::max(static_cast<float>(yd[i]), 0.f) : static_cast<float>(yd[i]);
}

void backward_reference(const float* x, const float* kernel, const float* dy, const Conv2DGeometry& g,
                        const Plan& p, int64_t OC, float* dx, float* dkernel, float* dbias, Conv2DWorkspace& ws,
                        const float* relu_y) {
  const int64_t dy_count = p.M * OC;
  if (relu_y) {  // the fused relu's gradient: dy where the output was positive (relu'(0) = 0)
    float* masked = ws.floats(dy_count);
    for (int64_t i = 0; i < dy_count; ++i) masked[i] = relu_y[i] > 0.f ? dy[i] : 0.f;
    dy = masked;
  }
  const int64_t dx_count = dx ? g.N * g.H * g.W * g.C : 0, dk_count = dkernel ? p.KG * OC : 0;
  const int64_t db_count = dbias ? OC : 0;
  double* sums = ws.doubles(dx_count + dk_count + db_count);
  double* dxd = dx ? sums : nullptr;
  double* dkd = dkernel ? sums + dx_count : nullptr;
  double* dbd = dbias ? sums + dx_count + dk_count : nullptr;
  conv2d_reference_backward(g, p.G, OC, x, kernel, dy, dxd, dkd, dbd);
  for (int64_t i = 0; i < dx_count; ++i) dx[i] = static_cast<float>(dxd[i]);
  for (int64_t i = 0; i < dk_count; ++i) dkernel[i] = static_cast<float>(dkd[i]);
  for (int64_t i = 0; i < db_count; ++i) dbias[i] = static_cast<float>(dbd[i]);
}

}  // namespace

void conv2d_forward(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g, int64_t groups,
                    int64_t OC, float* y, Conv2DWorkspace& ws, bool relu, uint64_t kernel_version) {
  const Plan p = make_plan("conv2d_forward", g, groups, OC, ws);
  if (p.M == 0) return;
  MINIDL_CHECK(x && kernel && y, ValueError, "conv2d_forward: x, kernel and y must not be null");
  if (auto_depthwise(ws, g, groups, OC)) {
    depthwise_conv2d_forward(x, kernel, bias, g, OC / g.C, y, ws, relu);
    return;
  }
  switch (choose("conv2d_forward", /*forward=*/true, ws, g, groups, OC)) {
    case ConvAlgorithm::kWinograd:
      winograd_conv3x3_forward(x, kernel, bias, g, groups, OC, y, ws, relu, kernel_version);
      return;
    case ConvAlgorithm::kDirect: conv2d_direct_forward(x, kernel, bias, g, groups, OC, y, relu); return;
    case ConvAlgorithm::kReference: forward_reference(x, kernel, bias, g, p, OC, y, ws, relu); return;
    default: break;  // im2col, below
  }
  const Chunks chunks = split_images(g, p, OC);
  const int64_t slots = parallel_slots(chunks.count);
  // Each thread unfolds its own tiles into its own column block and multiplies
  // it at once, while the block is still in its core's cache. With several
  // chunks each tile's product is serial, and the packed-panel kernel
  // (ops/panel_gemm.h) does it with the kernel packed once for all tiles.
  const bool panels = chunks.count > 1 && panel_gemm_applicable(p.OCG);
  const int64_t col_floats = p.pointwise ? 0 : Conv2DWorkspace::lines(p.tile * p.KG);
  const int64_t packed_floats = panels ? Conv2DWorkspace::lines(panel_gemm_packed_floats(p.KG, p.OCG)) : 0;
  float* cols = ws.floats(std::max<int64_t>(1, col_floats * slots + packed_floats * p.G));
  float* packed = cols + col_floats * slots;  // [G][KG, OCG] in panels
  if (panels)
    for (int64_t gi = 0; gi < p.G; ++gi)
      panel_gemm_pack(p.KG, p.OCG, kernel + gi * p.OCG, OC, /*trans_b=*/false, packed + gi * packed_floats);
  parallel_chunks(chunks.count, slots, [&](int64_t slot, int64_t c) {
    float* col = p.pointwise ? nullptr : cols + col_floats * slot;  // [tile, KG]
    for (int64_t m0 = chunks.m0(c); m0 < chunks.m1(c); m0 += p.tile) {
      const int64_t m1 = std::min(chunks.m1(c), m0 + p.tile), rows = m1 - m0;
      float* yt = y + m0 * OC;  // [rows, OC]
      // Seeding y with the bias lets the GEMM add it for free (beta = 1);
      // panel_gemm adds the bias and the relu itself.
      if (bias && !panels)
        for (int64_t r = 0; r < rows; ++r) std::copy_n(bias, OC, yt + r * OC);
      for (int64_t gi = 0; gi < p.G; ++gi) {
        const float* a = nullptr;
        int64_t lda = 0;
        if (p.pointwise) {
          a = x + m0 * g.C + gi * p.CG, lda = g.C;  // [rows, CG] inside [M, C]
        } else {
          unfold(x, g, p, gi * p.CG, m0, m1, col);  // [rows, KG]
          a = col, lda = p.KG;
        }
        // [rows, OCG] = [rows, KG] * [KG, OCG], the group's blocks of kernel and y.
        if (panels)
          panel_gemm(rows, p.OCG, p.KG, a, lda, packed + gi * packed_floats, false, yt + gi * p.OCG, OC,
                     bias ? bias + gi * p.OCG : nullptr, relu);
        else
          tile_gemm(chunks, false, false, rows, p.OCG, p.KG, a, lda, kernel + gi * p.OCG, OC, bias ? 1.f : 0.f,
                    yt + gi * p.OCG, OC);
      }
      // The fused activation, while the tile is still in cache.
      if (relu && !panels)
        for (int64_t i = 0; i < rows * OC; ++i) yt[i] = std::max(yt[i], 0.f);
    }
  });
}

void conv2d_backward(const float* x, const float* kernel, const float* dy, const Conv2DGeometry& g, int64_t groups,
                     int64_t OC, float* dx, float* dkernel, float* dbias, Conv2DWorkspace& ws, const float* relu_y) {
  const Plan p = make_plan("conv2d_backward", g, groups, OC, ws);
  MINIDL_CHECK(p.M == 0 || dy, ValueError, "conv2d_backward: dy must not be null");
  MINIDL_CHECK(p.M == 0 || !dkernel || x, ValueError, "conv2d_backward: x is needed for dkernel but is null");
  MINIDL_CHECK(p.M == 0 || !dx || kernel, ValueError, "conv2d_backward: kernel is needed for dx but is null");
  if (!dx && !dkernel && !dbias) return;
  if (p.M == 0) {
    if (dkernel) std::fill_n(dkernel, p.KG * OC, 0.f);
    if (dbias) std::fill_n(dbias, OC, 0.f);
    return;
  }

  if (auto_depthwise(ws, g, groups, OC)) {
    depthwise_conv2d_backward(x, kernel, dy, g, OC / g.C, dx, dkernel, dbias, ws, relu_y);
    return;
  }
  const ConvAlgorithm method = choose("conv2d_backward", /*forward=*/false, ws, g, groups, OC);
  if (method == ConvAlgorithm::kReference) {
    backward_reference(x, kernel, dy, g, p, OC, dx, dkernel, dbias, ws, relu_y);
    return;
  }
  if (method == ConvAlgorithm::kWinograd) {
    if (dkernel)  // with the bias gradient in the same pass over dy
      winograd_conv3x3_backward_kernel(x, dy, g, groups, OC, dkernel, dbias, ws, relu_y);
    else if (dbias)  // the bias gradient alone on the im2col path (a plain sum of dy, no unfolding)
      backward_im2col(x, kernel, dy, g, p, OC, nullptr, nullptr, dbias, ws, relu_y);
    if (dx) winograd_conv3x3_backward_input(kernel, dy, g, groups, OC, dx, ws, relu_y);
    return;
  }
  backward_im2col(x, kernel, dy, g, p, OC, dx, dkernel, dbias, ws, relu_y);
}

namespace {

void backward_im2col(const float* x, const float* kernel, const float* dy, const Conv2DGeometry& g, const Plan& p,
                     int64_t OC, float* dx, float* dkernel, float* dbias, Conv2DWorkspace& ws, const float* relu_y) {
  const Chunks chunks = split_images(g, p, OC);
  const int64_t R = chunks.count, slots = parallel_slots(R);
  // Per thread: a column block [tile, KG] (only when im2col is needed) and a
  // masked dy tile [tile, OC] (only with relu_y). Per chunk after the first: a
  // private dkernel [KG, OC], added into dkernel at the end pairwise.
  const bool need_col = !p.pointwise && (dx || dkernel);
  const int64_t col_floats = need_col ? Conv2DWorkspace::lines(p.tile * p.KG) : 0;
  const int64_t dy_floats = relu_y ? Conv2DWorkspace::lines(p.tile * OC) : 0;
  const int64_t dk_floats = dkernel ? Conv2DWorkspace::lines(p.KG * OC) : 0;
  const int64_t per_slot = col_floats + dy_floats;
  // A 1x1 kernel's dx_g = dy_g * kernel_g^T by the packed-panel kernel when
  // each chunk's products are serial: kernel_g^T packed once per group.
  const bool panels = p.pointwise && dx && R > 1 && panel_gemm_applicable(p.CG);
  const int64_t packed_floats = panels ? Conv2DWorkspace::lines(panel_gemm_packed_floats(p.OCG, p.CG)) : 0;
  float* scratch =
      ws.floats(std::max<int64_t>(1, per_slot * slots + dk_floats * (R - 1) + packed_floats * p.G));
  float* dk_parts = scratch + per_slot * slots;  // [R-1][KG, OC]
  float* packed = dk_parts + dk_floats * (R - 1);  // [G][OCG, CG] in panels
  if (panels)
    for (int64_t gi = 0; gi < p.G; ++gi)
      panel_gemm_pack(p.OCG, p.CG, kernel + gi * p.OCG, OC, /*trans_b=*/true, packed + gi * packed_floats);
  double* bias_sums = dbias ? ws.doubles(OC * R) : nullptr;  // [R, OC]

  parallel_chunks(R, slots, [&](int64_t slot, int64_t c) {
    float* base = scratch + per_slot * slot;
    float* col = base;                                          // [tile, KG]
    float* dym = base + col_floats;                             // [tile, OC]
    float* dk = !dkernel || c == 0 ? dkernel : dk_parts + dk_floats * (c - 1);  // [KG, OC]
    double* bsum = dbias ? bias_sums + OC * c : nullptr;
    if (bsum) std::fill_n(bsum, OC, 0.0);
    if (dk) std::fill_n(dk, p.KG * OC, 0.f);  // a chunk without rows still contributes zeros
    const int64_t image = g.H * g.W * g.C;
    if (dx && !p.pointwise)  // col2im accumulates; this chunk owns these images
      std::fill(dx + chunks.m0(c) / p.P * image, dx + chunks.m1(c) / p.P * image, 0.f);

    for (int64_t m0 = chunks.m0(c); m0 < chunks.m1(c); m0 += p.tile) {
      const int64_t m1 = std::min(chunks.m1(c), m0 + p.tile), rows = m1 - m0;
      const float* dyt = dy + m0 * OC;  // [rows, OC]
      if (relu_y) {  // the fused relu's gradient: dy where the output was positive (relu'(0) = 0)
        const float* yt = relu_y + m0 * OC;
        for (int64_t i = 0; i < rows * OC; ++i) dym[i] = yt[i] > 0.f ? dyt[i] : 0.f;
        dyt = dym;
      }
      if (bsum)  // sums of up to millions of rows: in double, rows in order
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t o = 0; o < OC; ++o) bsum[o] += dyt[r * OC + o];
      for (int64_t gi = 0; gi < p.G; ++gi) {
        const float* dyg = dyt + gi * p.OCG;  // [rows, OCG], row stride OC
        if (p.pointwise) {
          // dkernel_g [CG, OCG] += x_g^T [CG, rows] * dy_g [rows, OCG]
          if (dk) tile_gemm(chunks, true, false, p.CG, p.OCG, rows, x + m0 * g.C + gi * p.CG, g.C, dyg, OC, 1.f,
                            dk + gi * p.OCG, OC);
          // dx_g [rows, CG] = dy_g [rows, OCG] * kernel_g^T [OCG, CG]
          if (dx && panels)
            panel_gemm(rows, p.CG, p.OCG, dyg, OC, packed + gi * packed_floats, false, dx + m0 * g.C + gi * p.CG, g.C);
          else if (dx)
            tile_gemm(chunks, false, true, rows, p.CG, p.OCG, dyg, OC, kernel + gi * p.OCG, OC, 0.f,
                      dx + m0 * g.C + gi * p.CG, g.C);
          continue;
        }
        if (dk) {
          unfold(x, g, p, gi * p.CG, m0, m1, col);  // [rows, KG]
          // dkernel_g [KG, OCG] += col^T [KG, rows] * dy_g [rows, OCG]
          tile_gemm(chunks, true, false, p.KG, p.OCG, rows, col, p.KG, dyg, OC, 1.f, dk + gi * p.OCG, OC);
        }
        if (dx) {
          // The column block is consumed; reuse it for dcol [rows, KG] = dy_g * kernel_g^T.
          tile_gemm(chunks, false, true, rows, p.KG, p.OCG, dyg, OC, kernel + gi * p.OCG, OC, 0.f, col, p.KG);
          fold(col, g, p, gi * p.CG, m0, m1, dx);
        }
      }
    }
  });

  if (dkernel) add_chunk_partials(dk_parts, R - 1, dk_floats, p.KG * OC, dkernel);
  if (dbias) sum_chunk_bias(bias_sums, R, OC, dbias);
}

}  // namespace

}  // namespace minidl::ops
