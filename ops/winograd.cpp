#include "ops/winograd.h"

#include <algorithm>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/blas.h"
#include "ops/conv2d.h"

namespace minidl::ops {

bool winograd_applicable(const Conv2DGeometry& g, int64_t groups, int64_t OC) {
  if (g.KH != 3 || g.KW != 3 || g.SH != 1 || g.SW != 1 || groups < 1) return false;
  if (g.C % groups != 0 || OC % groups != 0) return false;
  return g.C / groups >= kWinogradMinChannels && OC / groups >= kWinogradMinChannels;
}

namespace {

// One stride-1 3x3 convolution in the form the Winograd loops take. The
// forward pass maps x to y; the input gradient maps dy to dx with the
// transformed kernel of the flipped, channel-transposed kernel.
struct WinoConv {
  const float* in;          // [N, IH, IW, IC]
  const float* mask;        // null, or [N, IH, IW, IC]: in is taken as 0 where mask <= 0
  int64_t N, IH, IW, IC;
  int64_t OH, OW, OCT;      // output [N, OH, OW, OCT]
  int64_t DH, DW;           // dilation
  int64_t pad_top, pad_left;  // output (oy, ox) reads input (oy - pad_top + DH*kh, ox - pad_left + DW*kw)
  int64_t G, CG, OCG;       // groups; input and output channels per group
  const float* bias;        // null or [OCT]
  bool relu;
  float* out;
};

// Tiles along one output axis. With dilation d, a tile covers outputs o0 and
// o0 + d, and the tile origins are the o0 = 2d*k + r (0 <= r < d) below O:
// every output belongs to exactly one tile.
int64_t tile_count(int64_t O, int64_t d) { return d * (O / (2 * d)) + std::min(d, O % (2 * d)); }
int64_t tile_origin(int64_t t, int64_t d) { return 2 * d * (t / d) + t % d; }

int64_t lines(int64_t floats) { return (floats + 15) / 16 * 16; }

// U [G, 16, ICg, OCg] = G w G^T for every (input, output) channel pair of
// every group, where w(gi, kh, kw, i, o) reads the 3x3 kernel. In double: the
// halvings are exact, and the kernel is transformed once per call.
template <class Weight>
void transform_kernel(int64_t G, int64_t ICg, int64_t OCg, Weight w, float* U) {
  for (int64_t gi = 0; gi < G; ++gi)
    for (int64_t i = 0; i < ICg; ++i)
      for (int64_t o = 0; o < OCg; ++o) {
        double gg[4][3];  // G w: [4, 3]
        for (int kw = 0; kw < 3; ++kw) {
          const double w0 = w(gi, 0, kw, i, o), w1 = w(gi, 1, kw, i, o), w2 = w(gi, 2, kw, i, o);
          gg[0][kw] = w0, gg[1][kw] = (w0 + w1 + w2) / 2, gg[2][kw] = (w0 - w1 + w2) / 2, gg[3][kw] = w2;
        }
        float* u = U + gi * 16 * ICg * OCg + i * OCg + o;
        for (int r = 0; r < 4; ++r) {  // (G w) G^T, row r
          const double a0 = gg[r][0], a1 = gg[r][1], a2 = gg[r][2];
          const double row[4] = {a0, (a0 + a1 + a2) / 2, (a0 - a1 + a2) / 2, a2};
          for (int c = 0; c < 4; ++c) u[(r * 4 + c) * ICg * OCg] = static_cast<float>(row[c]);
        }
      }
}

// v [16, CG] = B^T d B for every channel, where d's 16 cells are the rows
// p[0..15] (row-major 4x4) of CG channels each.
void input_transform(const float* const* p, int64_t CG, float* __restrict v) {
  const float *p0 = p[0], *p1 = p[1], *p2 = p[2], *p3 = p[3], *p4 = p[4], *p5 = p[5], *p6 = p[6], *p7 = p[7],
              *p8 = p[8], *p9 = p[9], *p10 = p[10], *p11 = p[11], *p12 = p[12], *p13 = p[13], *p14 = p[14],
              *p15 = p[15];
#pragma omp simd
  for (int64_t c = 0; c < CG; ++c) {
    // B^T d: combine rows (0-2, 1+2, 2-1, 1-3), column by column.
    const float t00 = p0[c] - p8[c], t01 = p1[c] - p9[c], t02 = p2[c] - p10[c], t03 = p3[c] - p11[c];
    const float t10 = p4[c] + p8[c], t11 = p5[c] + p9[c], t12 = p6[c] + p10[c], t13 = p7[c] + p11[c];
    const float t20 = p8[c] - p4[c], t21 = p9[c] - p5[c], t22 = p10[c] - p6[c], t23 = p11[c] - p7[c];
    const float t30 = p4[c] - p12[c], t31 = p5[c] - p13[c], t32 = p6[c] - p14[c], t33 = p7[c] - p15[c];
    // (B^T d) B: the same combination of columns, row by row.
    v[0 * CG + c] = t00 - t02, v[1 * CG + c] = t01 + t02, v[2 * CG + c] = t02 - t01, v[3 * CG + c] = t01 - t03;
    v[4 * CG + c] = t10 - t12, v[5 * CG + c] = t11 + t12, v[6 * CG + c] = t12 - t11, v[7 * CG + c] = t11 - t13;
    v[8 * CG + c] = t20 - t22, v[9 * CG + c] = t21 + t22, v[10 * CG + c] = t22 - t21, v[11 * CG + c] = t21 - t23;
    v[12 * CG + c] = t30 - t32, v[13 * CG + c] = t31 + t32, v[14 * CG + c] = t32 - t31, v[15 * CG + c] = t31 - t33;
  }
}

// The 2x2 outputs A^T m A (+ bias, then relu) of one tile for OCG channels;
// m: [16, OCG]. y00..y11 are the four output pixels' channel rows; the caller
// points those outside the image at a scratch row.
void output_transform(const float* __restrict m, int64_t OCG, const float* bias, bool relu, float* y00, float* y01,
                      float* y10, float* y11) {
#pragma omp simd
  for (int64_t f = 0; f < OCG; ++f) {
    // A^T m: rows 0+1+2 and 1-2-3.
    const float s00 = m[0 * OCG + f] + m[4 * OCG + f] + m[8 * OCG + f];
    const float s01 = m[1 * OCG + f] + m[5 * OCG + f] + m[9 * OCG + f];
    const float s02 = m[2 * OCG + f] + m[6 * OCG + f] + m[10 * OCG + f];
    const float s03 = m[3 * OCG + f] + m[7 * OCG + f] + m[11 * OCG + f];
    const float s10 = m[4 * OCG + f] - m[8 * OCG + f] - m[12 * OCG + f];
    const float s11 = m[5 * OCG + f] - m[9 * OCG + f] - m[13 * OCG + f];
    const float s12 = m[6 * OCG + f] - m[10 * OCG + f] - m[14 * OCG + f];
    const float s13 = m[7 * OCG + f] - m[11 * OCG + f] - m[15 * OCG + f];
    const float b = bias ? bias[f] : 0.f;
    float o00 = s00 + s01 + s02 + b, o01 = s01 - s02 - s03 + b;
    float o10 = s10 + s11 + s12 + b, o11 = s11 - s12 - s13 + b;
    if (relu) o00 = std::max(o00, 0.f), o01 = std::max(o01, 0.f), o10 = std::max(o10, 0.f), o11 = std::max(o11, 0.f);
    y00[f] = o00, y01[f] = o01, y10[f] = o10, y11[f] = o11;
  }
}

// w [16, OCG] = A dy A^T for every channel, where dy's 2x2 cells are the rows
// q00, q01, q10, q11 (the adjoint of output_transform: how each of the 16
// products of a tile reaches its 4 outputs).
void dy_transform(const float* __restrict q00, const float* __restrict q01, const float* __restrict q10,
                  const float* __restrict q11, int64_t OCG, float* __restrict w) {
#pragma omp simd
  for (int64_t f = 0; f < OCG; ++f) {
    // A dy: rows dy0, dy0 + dy1, dy0 - dy1, -dy1.
    const float r00 = q00[f], r01 = q01[f];
    const float r10 = q00[f] + q10[f], r11 = q01[f] + q11[f];
    const float r20 = q00[f] - q10[f], r21 = q01[f] - q11[f];
    const float r30 = -q10[f], r31 = -q11[f];
    // (A dy) A^T: each row (u, v) becomes (u, u + v, u - v, -v).
    w[0 * OCG + f] = r00, w[1 * OCG + f] = r00 + r01, w[2 * OCG + f] = r00 - r01, w[3 * OCG + f] = -r01;
    w[4 * OCG + f] = r10, w[5 * OCG + f] = r10 + r11, w[6 * OCG + f] = r10 - r11, w[7 * OCG + f] = -r11;
    w[8 * OCG + f] = r20, w[9 * OCG + f] = r20 + r21, w[10 * OCG + f] = r20 - r21, w[11 * OCG + f] = -r21;
    w[12 * OCG + f] = r30, w[13 * OCG + f] = r30 + r31, w[14 * OCG + f] = r30 - r31, w[15 * OCG + f] = -r31;
  }
}

// Small groups (grouped convolutions with a few channels per group) make
// 16 * G tiny products per block, where sgemm's call and packing overhead
// outweighs the arithmetic (measured: 44% of a 4-group conv's time). These two
// loops do the same products directly, 16 filters (one vector register) and
// 8 rows at a time, with the group's U_e / dU_e block resident in L1.
constexpr int64_t kSmallGroupMacs = 32 * 32;  // CG * OCG at or below which they are used
bool small_group(int64_t CG, int64_t OCG) { return CG * OCG <= kSmallGroupMacs && OCG % 16 == 0; }

// M [nb, OCG] (row stride ldm) = V [nb, CG] (row stride ldv) * U [CG, OCG].
// R rows at a time: R independent accumulators hide the FMA latency.
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

void small_product(int64_t nb, int64_t CG, int64_t OCG, const float* V, int64_t ldv, const float* U, float* M,
                   int64_t ldm) {
  for (int64_t f0 = 0; f0 < OCG; f0 += 16) {
    int64_t j = 0;
    for (; j + 8 <= nb; j += 8) small_rows<8>(j, CG, OCG, f0, V, ldv, U, M, ldm);
    for (; j < nb; ++j) small_rows<1>(j, CG, OCG, f0, V, ldv, U, M, ldm);
  }
}

// dU [CG, OCG] += V^T [CG, nb] * W [nb, OCG]; V, W with row strides ldv, ldw.
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

void small_product_tn(int64_t nb, int64_t CG, int64_t OCG, const float* V, int64_t ldv, const float* W,
                      int64_t ldw, float* dU) {
  for (int64_t f0 = 0; f0 < OCG; f0 += 16) {
    int64_t c = 0;
    for (; c + 8 <= CG; c += 8) small_cols<8>(c, nb, OCG, f0, V, ldv, W, ldw, dU);
    for (; c < CG; ++c) small_cols<1>(c, nb, OCG, f0, V, ldv, W, ldw, dU);
  }
}

// Points p[0..15] at the 4x4 input block (all IC channels of each cell) of
// the tile with output origin (oy0, ox0) in image n: cells outside the image
// read `zeros`; with a mask, cells are copied to `masked` [16, IC] with the
// masked entries zeroed (the fused relu's gradient: dy only where the output
// was positive).
void gather_input(const WinoConv& w, int64_t n, int64_t oy0, int64_t ox0, const float* zeros, float* masked,
                  const float** p) {
  const int64_t iy0 = oy0 - w.pad_top, ix0 = ox0 - w.pad_left;
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b) {
      const int64_t iy = iy0 + w.DH * a, ix = ix0 + w.DW * b;
      const int64_t at = ((n * w.IH + iy) * w.IW + ix) * w.IC;
      if (iy < 0 || iy >= w.IH || ix < 0 || ix >= w.IW) {
        p[a * 4 + b] = zeros;
      } else if (!w.mask) {
        p[a * 4 + b] = w.in + at;
      } else {
        float* row = masked + (a * 4 + b) * w.IC;
        for (int64_t c = 0; c < w.IC; ++c) row[c] = w.mask[at + c] > 0.f ? w.in[at + c] : 0.f;
        p[a * 4 + b] = row;
      }
    }
}

// The tile grid of an OH x OW output: tile t of the batch is image n, origin (oy0, ox0).
struct Tiling {
  int64_t TY, TX, tiles;
  int64_t DH, DW;
  Tiling(int64_t N, int64_t OH, int64_t OW, int64_t DH_, int64_t DW_)
      : TY(tile_count(OH, DH_)), TX(tile_count(OW, DW_)), tiles(N * TY * TX), DH(DH_), DW(DW_) {}
  void locate(int64_t t, int64_t& n, int64_t& oy0, int64_t& ox0) const {
    n = t / (TY * TX);
    oy0 = tile_origin(t / TX % TY, DH), ox0 = tile_origin(t % TX, DW);
  }
};

// Tiles per block: V and M of one block together about kBlockBytes, so they
// stay in L2 from the transform that writes them to the GEMM that reads them.
// (On the 2-core test machines, 64 KiB to 1 MiB measured the same within noise.)
constexpr int64_t kBlockBytes = int64_t{256} << 10;
constexpr int64_t kMinBlockTiles = 32;

int64_t block_tiles(int64_t IC, int64_t OC, int64_t tiles) {
  return std::clamp<int64_t>(kBlockBytes / (16 * (IC + OC) * int64_t{sizeof(float)}), kMinBlockTiles,
                             std::max<int64_t>(tiles, 1));
}

// Runs the convolution w; fill_U(U) writes the transformed kernel [G, 16, CG, OCG].
// The transforms run once per tile over all channels; only the products are
// per group, on the group's column blocks of V and M.
template <class FillU>
void run(const WinoConv& w, Conv2DWorkspace& ws, FillU fill_U) {
  const Tiling grid(w.N, w.OH, w.OW, w.DH, w.DW);
  const int64_t tiles = grid.tiles;
  if (tiles == 0) return;
  const int64_t IC = w.IC, OC = w.OCT;
  const int64_t block = block_tiles(IC, OC, tiles);
  const int64_t T = std::clamp<int64_t>(num_threads(), 1, (tiles + block - 1) / block);

  // Per thread: V [block, 16, IC], M [block, 16, OC], a masked copy of one
  // tile's input [16, IC] (only with a mask), and a scratch output row for
  // tile cells outside the image. Shared: a row of zeros for padding cells.
  const int64_t v_floats = lines(block * 16 * IC), m_floats = lines(block * 16 * OC);
  const int64_t mask_floats = w.mask ? lines(16 * IC) : 0, sink_floats = lines(OC);
  const int64_t per_thread = v_floats + m_floats + mask_floats + sink_floats;
  const int64_t u_floats = lines(w.G * 16 * w.CG * w.OCG);
  float* U = ws.floats(u_floats + lines(IC) + per_thread * T);
  fill_U(U);
  float* zeros = U + u_floats;
  std::fill_n(zeros, IC, 0.f);
  float* scratch = zeros + lines(IC);

  parallel_for(T, [&](int64_t tb, int64_t te) {
    for (int64_t th = tb; th < te; ++th) {
      float* V = scratch + per_thread * th;
      float* M = V + v_floats;
      float* masked = M + m_floats;
      float* sink = masked + mask_floats;
      const int64_t t_begin = tiles * th / T, t_end = tiles * (th + 1) / T;
      for (int64_t b0 = t_begin; b0 < t_end; b0 += block) {
        const int64_t nb = std::min(block, t_end - b0);
        for (int64_t j = 0; j < nb; ++j) {  // gather and transform each tile's 4x4 input block
          int64_t n, oy, ox;
          grid.locate(b0 + j, n, oy, ox);
          const float* p[16];
          gather_input(w, n, oy, ox, zeros, masked, p);
          input_transform(p, IC, V + j * 16 * IC);  // [16, IC]
        }
        // M_e [nb, OCG] = V_e [nb, CG] * U_e [CG, OCG] for the 16 positions e
        // and each group's column blocks.
        const bool small = small_group(w.CG, w.OCG);
        for (int64_t gi = 0; gi < w.G; ++gi) {
          const float* Ug = U + gi * 16 * w.CG * w.OCG;
          for (int e = 0; e < 16; ++e) {
            const float* Ve = V + e * IC + gi * w.CG;
            const float* Ue = Ug + e * w.CG * w.OCG;
            float* Me = M + e * OC + gi * w.OCG;
            if (small)
              small_product(nb, w.CG, w.OCG, Ve, 16 * IC, Ue, Me, 16 * OC);
            else
              gemm(false, false, nb, w.OCG, w.CG, 1.f, Ve, 16 * IC, Ue, w.OCG, 0.f, Me, 16 * OC);
          }
        }
        for (int64_t j = 0; j < nb; ++j) {  // back to 2x2 output blocks
          int64_t n, oy, ox;
          grid.locate(b0 + j, n, oy, ox);
          float* y[4];
          for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b) {
              const int64_t yy = oy + w.DH * a, xx = ox + w.DW * b;
              y[a * 2 + b] = yy < w.OH && xx < w.OW ? w.out + ((n * w.OH + yy) * w.OW + xx) * OC : sink;
            }
          output_transform(M + j * 16 * OC, OC, w.bias, w.relu, y[0], y[1], y[2], y[3]);
        }
      }
    }
  });
}

}  // namespace

void winograd_conv3x3_forward(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g,
                              int64_t groups, int64_t OC, float* y, Conv2DWorkspace& ws, bool relu) {
  MINIDL_CHECK(winograd_applicable(g, groups, OC), ValueError,
               "winograd_conv3x3_forward: needs a 3x3 kernel, stride 1 and at least {} channels and filters per "
               "group; received kernel ({}, {}), strides ({}, {}), {} channels, {} filters, {} groups",
               kWinogradMinChannels, g.KH, g.KW, g.SH, g.SW, g.C, OC, groups);
  const int64_t CG = g.C / groups, OCG = OC / groups;
  const WinoConv w{x, nullptr, g.N, g.H, g.W, g.C, g.OH, g.OW, OC, g.DH, g.DW, g.pad_top, g.pad_left,
                   groups, CG, OCG, bias, relu, y};
  run(w, ws, [&](float* U) {
    // kernel [3, 3, CG, OC]: input channel i, filter gi*OCG + o
    transform_kernel(groups, CG, OCG, [&](int64_t gi, int kh, int kw, int64_t i, int64_t o) {
      return kernel[((kh * 3 + kw) * CG + i) * OC + gi * OCG + o];
    }, U);
  });
}

void winograd_conv3x3_backward_input(const float* kernel, const float* dy, const Conv2DGeometry& g, int64_t groups,
                                     int64_t OC, float* dx, Conv2DWorkspace& ws, const float* relu_y) {
  MINIDL_CHECK(winograd_applicable(g, groups, OC), ValueError,
               "winograd_conv3x3_backward_input: needs a 3x3 kernel, stride 1 and at least {} channels and filters "
               "per group; received kernel ({}, {}), strides ({}, {}), {} channels, {} filters, {} groups",
               kWinogradMinChannels, g.KH, g.KW, g.SH, g.SW, g.C, OC, groups);
  const int64_t CG = g.C / groups, OCG = OC / groups;
  // dx(iy) = sum over kh of dy(iy + pad_top - DH*kh) * w(kh): a stride-1
  // convolution of dy whose tap kh' = 2 - kh reads dy(iy - (2*DH - pad_top) + DH*kh').
  const WinoConv w{dy, relu_y, g.N, g.OH, g.OW, OC, g.H, g.W, g.C, g.DH, g.DW, 2 * g.DH - g.pad_top,
                   2 * g.DW - g.pad_left, groups, OCG, CG, nullptr, false, dx};
  run(w, ws, [&](float* U) {
    // flipped in space, input channel o (a filter of the forward), output channel i
    transform_kernel(groups, OCG, CG, [&](int64_t gi, int kh, int kw, int64_t o, int64_t i) {
      return kernel[(((2 - kh) * 3 + (2 - kw)) * CG + i) * OC + gi * OCG + o];
    }, U);
  });
}

void winograd_conv3x3_backward_kernel(const float* x, const float* dy, const Conv2DGeometry& g, int64_t groups,
                                      int64_t OC, float* dkernel, float* dbias, Conv2DWorkspace& ws,
                                      const float* relu_y) {
  MINIDL_CHECK(winograd_applicable(g, groups, OC), ValueError,
               "winograd_conv3x3_backward_kernel: needs a 3x3 kernel, stride 1 and at least {} channels and "
               "filters per group; received kernel ({}, {}), strides ({}, {}), {} channels, {} filters, {} groups",
               kWinogradMinChannels, g.KH, g.KW, g.SH, g.SW, g.C, OC, groups);
  const int64_t CG = g.C / groups, OCG = OC / groups;
  const WinoConv w{x, nullptr, g.N, g.H, g.W, g.C, g.OH, g.OW, OC, g.DH, g.DW, g.pad_top, g.pad_left,
                   groups, CG, OCG, nullptr, false, nullptr};
  const Tiling grid(g.N, g.OH, g.OW, g.DH, g.DW);
  const int64_t C = g.C;
  const int64_t block = block_tiles(C, OC, grid.tiles);
  const int64_t T = std::clamp<int64_t>(num_threads(), 1, std::max<int64_t>(1, (grid.tiles + block - 1) / block));

  // Per thread: V [block, 16, C] (transformed x), W [block, 16, OC]
  // (transformed dy), a masked copy of one tile's dy [4, OC] (only with
  // relu_y), and its own dU [G, 16, CG, OCG]; the threads' dU are added in
  // thread order, so a given thread count always gives the same bits.
  const int64_t v_floats = lines(block * 16 * C), w_floats = lines(block * 16 * OC);
  const int64_t mask_floats = relu_y ? lines(4 * OC) : 0, du_floats = lines(groups * 16 * CG * OCG);
  const int64_t per_thread = v_floats + w_floats + mask_floats + du_floats;
  const int64_t zero_floats = lines(std::max(C, OC));
  float* zeros = ws.floats(zero_floats + per_thread * T);
  std::fill_n(zeros, zero_floats, 0.f);
  float* scratch = zeros + zero_floats;
  auto dU_of = [&](int64_t th) { return scratch + per_thread * th + v_floats + w_floats + mask_floats; };
  // The bias gradient rides along: each dy row is summed (in double) as it is read.
  double* bias_sums = dbias ? ws.doubles(OC * T) : nullptr;  // [T, OC]

  parallel_for(T, [&](int64_t tb, int64_t te) {
    for (int64_t th = tb; th < te; ++th) {
      float* V = scratch + per_thread * th;
      float* W = V + v_floats;
      float* masked = W + w_floats;
      float* dU = dU_of(th);
      std::fill_n(dU, groups * 16 * CG * OCG, 0.f);
      double* bsum = bias_sums ? bias_sums + OC * th : nullptr;
      if (bsum) std::fill_n(bsum, OC, 0.0);
      const int64_t t_begin = grid.tiles * th / T, t_end = grid.tiles * (th + 1) / T;
      for (int64_t b0 = t_begin; b0 < t_end; b0 += block) {
        const int64_t nb = std::min(block, t_end - b0);
        for (int64_t j = 0; j < nb; ++j) {
          int64_t n, oy, ox;
          grid.locate(b0 + j, n, oy, ox);
          const float* p[16];
          gather_input(w, n, oy, ox, zeros, nullptr, p);
          input_transform(p, C, V + j * 16 * C);  // [16, C]
          const float* q[4];  // dy of the tile's 2x2 outputs; zeros outside the output
          for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b) {
              const int64_t yy = oy + g.DH * a, xx = ox + g.DW * b;
              const int64_t at = ((n * g.OH + yy) * g.OW + xx) * OC;
              if (yy >= g.OH || xx >= g.OW) {
                q[a * 2 + b] = zeros;
              } else if (!relu_y) {
                q[a * 2 + b] = dy + at;
              } else {
                float* row = masked + (a * 2 + b) * OC;
                for (int64_t f = 0; f < OC; ++f) row[f] = relu_y[at + f] > 0.f ? dy[at + f] : 0.f;
                q[a * 2 + b] = row;
              }
              if (bsum && q[a * 2 + b] != zeros) {
                const float* row = q[a * 2 + b];
                for (int64_t f = 0; f < OC; ++f) bsum[f] += row[f];
              }
            }
          dy_transform(q[0], q[1], q[2], q[3], OC, W + j * 16 * OC);  // [16, OC]
        }
        // dU_e [CG, OCG] += V_e^T [CG, nb] * W_e [nb, OCG]: the gradient of
        // M_e = V_e U_e, on each group's column blocks.
        const bool small = small_group(CG, OCG);
        for (int64_t gi = 0; gi < groups; ++gi)
          for (int e = 0; e < 16; ++e) {
            const float* Ve = V + e * C + gi * CG;
            const float* We = W + e * OC + gi * OCG;
            float* dUe = dU + (gi * 16 + e) * CG * OCG;
            if (small)
              small_product_tn(nb, CG, OCG, Ve, 16 * C, We, 16 * OC, dUe);
            else
              gemm(true, false, CG, OCG, nb, 1.f, Ve, 16 * C, We, 16 * OC, 1.f, dUe, OCG);
          }
      }
    }
  });

  if (dbias)
    for (int64_t o = 0; o < OC; ++o) {
      double sum = 0;
      for (int64_t th = 0; th < T; ++th) sum += bias_sums[th * OC + o];
      dbias[o] = static_cast<float>(sum);
    }
  float* dU = dU_of(0);
  for (int64_t th = 1; th < T; ++th) {
    const float* part = dU_of(th);
    for (int64_t i = 0; i < groups * 16 * CG * OCG; ++i) dU[i] += part[i];
  }
  // dkernel = G^T dU G (U = G w G^T is linear in w): for each axis, tap 0
  // takes u0 + (u1 + u2)/2, tap 1 (u1 - u2)/2, tap 2 (u1 + u2)/2 + u3.
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t c = 0; c < CG; ++c)
      for (int64_t o = 0; o < OCG; ++o) {
        const float* u = dU + gi * 16 * CG * OCG + c * OCG + o;
        auto at = [&](int r, int col) { return double(u[(r * 4 + col) * CG * OCG]); };
        double rows[4][3];  // dU G: [4, 3]
        for (int r = 0; r < 4; ++r) {
          const double u0 = at(r, 0), u1 = at(r, 1), u2 = at(r, 2), u3 = at(r, 3);
          rows[r][0] = u0 + (u1 + u2) / 2, rows[r][1] = (u1 - u2) / 2, rows[r][2] = (u1 + u2) / 2 + u3;
        }
        for (int kw = 0; kw < 3; ++kw) {
          const double v0 = rows[0][kw], v1 = rows[1][kw], v2 = rows[2][kw], v3 = rows[3][kw];
          const double taps[3] = {v0 + (v1 + v2) / 2, (v1 - v2) / 2, (v1 + v2) / 2 + v3};
          for (int kh = 0; kh < 3; ++kh)
            dkernel[((kh * 3 + kw) * CG + c) * OC + gi * OCG + o] = static_cast<float>(taps[kh]);
        }
      }
}

}  // namespace minidl::ops
