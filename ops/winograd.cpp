#include "ops/winograd.h"

#include <algorithm>
#include <cstring>

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


int64_t lines(int64_t floats) { return (floats + 15) / 16 * 16; }

// The 1-D pieces of F(M, 3), applied along rows and then columns:
//   input    B^T d   (A = M + 2 inputs -> A)      output  A^T m  (A -> M)
//   kernel   G g     (3 taps -> A, in double)
// and the adjoints the kernel gradient needs:
//   output_adjoint  A y  (M -> A)                 kernel_adjoint  G^T u  (A -> 3)
// Each is written out with its non-zero coefficients only.
template <int M>
struct F;

template <>
struct F<4> {  // points 0, 1, -1, 2, -2 (and infinity)
  static constexpr int A = 6;
  template <class T>
  [[gnu::always_inline]] static void input(const T* d, T* r) {
    r[0] = 4 * d[0] - 5 * d[2] + d[4];
    r[1] = d[3] + d[4] - 4 * (d[1] + d[2]);
    r[2] = d[4] - d[3] + 4 * (d[1] - d[2]);
    r[3] = d[4] - d[2] + 2 * (d[3] - d[1]);
    r[4] = d[4] - d[2] + 2 * (d[1] - d[3]);
    r[5] = 4 * d[1] - 5 * d[3] + d[5];
  }
  template <class T>
  [[gnu::always_inline]] static void output(const T* m, T* o) {
    const T p12 = m[1] + m[2], m12 = m[1] - m[2], p34 = m[3] + m[4], m34 = m[3] - m[4];
    o[0] = m[0] + p12 + p34, o[1] = m12 + 2 * m34, o[2] = p12 + 4 * p34, o[3] = m12 + 8 * m34 + m[5];
  }
  [[gnu::always_inline]] static void kernel(const double* g, double* u) {
    u[0] = g[0] / 4, u[1] = -(g[0] + g[1] + g[2]) / 6, u[2] = -(g[0] - g[1] + g[2]) / 6;
    u[3] = g[0] / 24 + g[1] / 12 + g[2] / 6, u[4] = g[0] / 24 - g[1] / 12 + g[2] / 6, u[5] = g[2];
  }
  template <class T>
  [[gnu::always_inline]] static void output_adjoint(const T* y, T* w) {
    const T e = y[0] + y[2], o = y[1] + y[3];
    w[0] = y[0], w[1] = e + o, w[2] = e - o;
    w[3] = y[0] + 4 * y[2] + 2 * (y[1] + 4 * y[3]), w[4] = y[0] + 4 * y[2] - 2 * (y[1] + 4 * y[3]), w[5] = y[3];
  }
  [[gnu::always_inline]] static void kernel_adjoint(const double* u, double* g) {
    g[0] = u[0] / 4 - (u[1] + u[2]) / 6 + (u[3] + u[4]) / 24;
    g[1] = (u[2] - u[1]) / 6 + (u[3] - u[4]) / 12;
    g[2] = (u[3] + u[4] - u[1] - u[2]) / 6 + u[5];
  }
};

// Tiles along one output axis. With dilation d, a tile covers outputs o0,
// o0 + d, ..., o0 + (M-1)d, and the tile origins are the o0 = M*d*k + r
// (0 <= r < d) below O: every output belongs to exactly one tile.
int64_t tile_count(int64_t O, int64_t M, int64_t d) { return d * (O / (M * d)) + std::min(d, O % (M * d)); }
int64_t tile_origin(int64_t t, int64_t M, int64_t d) { return M * d * (t / d) + t % d; }

// The tile grid of an OH x OW output: tile t of the batch is image n, origin (oy0, ox0).
struct Tiling {
  int64_t M, TY, TX, tiles;
  int64_t DH, DW;
  Tiling(int64_t M_, int64_t N, int64_t OH, int64_t OW, int64_t DH_, int64_t DW_)
      : M(M_), TY(tile_count(OH, M_, DH_)), TX(tile_count(OW, M_, DW_)), tiles(N * TY * TX), DH(DH_), DW(DW_) {}
  void locate(int64_t t, int64_t& n, int64_t& oy0, int64_t& ox0) const {
    n = t / (TY * TX);
    oy0 = tile_origin(t / TX % TY, M, DH), ox0 = tile_origin(t % TX, M, DW);
  }
};

// U [G, E, ICg, OCg] = G w G^T (E = A*A positions) for every (input, output)
// channel pair of every group, where w(gi, kh, kw, i, o) reads the 3x3
// kernel. In double; the kernel is transformed once per call.
template <int M, class Weight>
void transform_kernel(int64_t G, int64_t ICg, int64_t OCg, Weight w, float* U) {
  constexpr int A = F<M>::A, E = A * A;
  for (int64_t gi = 0; gi < G; ++gi)
    for (int64_t i = 0; i < ICg; ++i)
      for (int64_t o = 0; o < OCg; ++o) {
        double cols[3][A];  // G w, column by column (kw)
        for (int kw = 0; kw < 3; ++kw) {
          const double taps[3] = {w(gi, 0, kw, i, o), w(gi, 1, kw, i, o), w(gi, 2, kw, i, o)};
          F<M>::kernel(taps, cols[kw]);
        }
        float* u = U + gi * E * ICg * OCg + i * OCg + o;
        for (int r = 0; r < A; ++r) {  // (G w) G^T, row r
          const double row_in[3] = {cols[0][r], cols[1][r], cols[2][r]};
          double row[A];
          F<M>::kernel(row_in, row);
          for (int c = 0; c < A; ++c) u[(r * A + c) * ICg * OCg] = static_cast<float>(row[c]);
        }
      }
}

// v [E, C] = B^T d B for every channel, where d's E = A*A cells are the rows
// p[0..E-1] (row-major A x A) of C channels each.
// 16 channels at once: one AVX-512 register (two AVX2 ones). The transforms
// below are the same F<M> formulas applied to Lanes instead of floats; each
// operator is a fixed 16-iteration loop that the compiler turns into one
// vector instruction. (Plain channel loops over arrays of per-cell pointers
// did not vectorise with GCC 12.)
struct Lanes {
  float v[16];
};
inline Lanes operator+(Lanes a, const Lanes& b) {
  for (int k = 0; k < 16; ++k) a.v[k] += b.v[k];
  return a;
}
inline Lanes operator-(Lanes a, const Lanes& b) {
  for (int k = 0; k < 16; ++k) a.v[k] -= b.v[k];
  return a;
}
inline Lanes operator-(Lanes a) {
  for (int k = 0; k < 16; ++k) a.v[k] = -a.v[k];
  return a;
}
inline Lanes operator*(float s, Lanes a) {
  for (int k = 0; k < 16; ++k) a.v[k] *= s;
  return a;
}
// n <= 16 channels from p; the rest zero.
// (memcpy of a whole Lanes is one vector load or store; an element loop was
// compiled into 16 scalar inserts.)
inline Lanes load(const float* p, int64_t n) {
  Lanes a;
  if (n == 16) {
    std::memcpy(a.v, p, sizeof a.v);
  } else {
    a = Lanes{};
    std::memcpy(a.v, p, static_cast<size_t>(n) * sizeof(float));
  }
  return a;
}
inline void store(float* p, const Lanes& a, int64_t n) {
  if (n == 16)
    std::memcpy(p, a.v, sizeof a.v);
  else
    std::memcpy(p, a.v, static_cast<size_t>(n) * sizeof(float));
}

// v [E, C] = B^T d B for every channel, where cell (i, j) of the A x A tile d
// is the channel row in[i*A + j].
template <int M>
void input_transform(const float* const* in, int64_t C, float* v) {
  constexpr int A = F<M>::A;
  for (int64_t c = 0; c < C; c += 16) {
    const int64_t n = std::min<int64_t>(16, C - c);
    Lanes t[A][A];  // B^T d, column by column
    for (int j = 0; j < A; ++j) {
      Lanes col[A], out[A];
      for (int i = 0; i < A; ++i) col[i] = load(in[i * A + j] + c, n);
      F<M>::input(col, out);
      for (int i = 0; i < A; ++i) t[i][j] = out[i];
    }
    for (int i = 0; i < A; ++i) {  // then B, row by row
      Lanes out[A];
      F<M>::input(t[i], out);
      for (int j = 0; j < A; ++j) store(v + (i * A + j) * C + c, out[j], n);
    }
  }
}

// The M x M outputs A^T m A (+ bias, then relu) of one tile for OC channels,
// output (i, j) written to the channel row y[i*M + j]; m: [E, OC].
template <int M>
void output_transform(const float* m, int64_t OC, const float* bias, bool relu, float* const* y) {
  constexpr int A = F<M>::A;
  for (int64_t f = 0; f < OC; f += 16) {
    const int64_t n = std::min<int64_t>(16, OC - f);
    Lanes t[M][A];  // A^T m, column by column
    for (int j = 0; j < A; ++j) {
      Lanes col[A], out[M];
      for (int i = 0; i < A; ++i) col[i] = load(m + (i * A + j) * OC + f, n);
      F<M>::output(col, out);
      for (int i = 0; i < M; ++i) t[i][j] = out[i];
    }
    const Lanes b = bias ? load(bias + f, n) : Lanes{};
    for (int i = 0; i < M; ++i) {  // then A, row by row
      Lanes out[M];
      F<M>::output(t[i], out);
      for (int j = 0; j < M; ++j) {
        Lanes o = out[j] + b;
        if (relu)
          for (int k = 0; k < 16; ++k) o.v[k] = std::max(o.v[k], 0.f);
        store(y[i * M + j] + f, o, n);
      }
    }
  }
}

// w [E, OC] = A dy A^T for every channel, where cell (i, j) of the M x M
// tile dy is the channel row dy[i*M + j]: the adjoint of output_transform, how each of a tile's E
// products reaches its outputs.
template <int M>
void dy_transform(const float* const* dy, int64_t OC, float* w) {
  constexpr int A = F<M>::A;
  for (int64_t f = 0; f < OC; f += 16) {
    const int64_t n = std::min<int64_t>(16, OC - f);
    Lanes t[A][M];  // A dy, column by column
    for (int j = 0; j < M; ++j) {
      Lanes col[M], out[A];
      for (int i = 0; i < M; ++i) col[i] = load(dy[i * M + j] + f, n);
      F<M>::output_adjoint(col, out);
      for (int i = 0; i < A; ++i) t[i][j] = out[i];
    }
    for (int i = 0; i < A; ++i) {  // then A^T, row by row
      Lanes out[A];
      F<M>::output_adjoint(t[i], out);
      for (int j = 0; j < A; ++j) store(w + (i * A + j) * OC + f, out[j], n);
    }
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

// Points p[0..K*K-1] at the channel rows of a tile's K x K cells (row-major;
// (y0, x0) is the top-left cell, cells d apart) in an H x W x C image: cells
// outside the image point at `zeros` (at least C zeros); with a mask, cells
// are copied to `masked` [K*K, C] with entries where mask <= 0 zeroed (the
// fused relu's gradient: dy only where the output was positive).
void cell_pointers(const float* img, const float* mask, int64_t H, int64_t W, int64_t C, int64_t K, int64_t y0,
                   int64_t x0, int64_t dh, int64_t dw, const float* zeros, float* masked, const float** p) {
  for (int64_t a = 0; a < K; ++a)
    for (int64_t b = 0; b < K; ++b) {
      const int64_t iy = y0 + dh * a, ix = x0 + dw * b;
      const float*& cell = p[a * K + b];
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
        cell = zeros;
        continue;
      }
      const int64_t at = (iy * W + ix) * C;
      if (!mask) {
        cell = img + at;
        continue;
      }
      float* copy = masked + (a * K + b) * C;
      for (int64_t c = 0; c < C; ++c) copy[c] = mask[at + c] > 0.f ? img[at + c] : 0.f;
      cell = copy;
    }
}

// Tiles per block: V and M of one block together about kBlockBytes, so they
// stay in L2 from the transform that writes them to the GEMM that reads them.
// (On the 2-core test machines, 64 KiB to 1 MiB measured the same within noise.)
constexpr int64_t kBlockBytes = int64_t{256} << 10;
constexpr int64_t kMinBlockTiles = 32;
// The kernel gradient is summed in chunks of blocks, each with its own
// partial dU that costs a clear and an add: two chunks (two threads' worth)
// up to 2 * kTilesPerChunk tiles, then one more per kTilesPerChunk, at most
// kMaxReduceChunks, and fewer when the partials would pass kMaxPartialBytes.
constexpr int64_t kTilesPerChunk = int64_t{1} << 12;
constexpr int64_t kMaxReduceChunks = 8;
constexpr int64_t kMaxPartialBytes = int64_t{64} << 20;

int64_t block_tiles(int64_t E, int64_t IC, int64_t OC, int64_t tiles) {
  return std::clamp<int64_t>(kBlockBytes / (E * (IC + OC) * int64_t{sizeof(float)}), kMinBlockTiles,
                             std::max<int64_t>(tiles, 1));
}

// Runs the convolution w with F(M, 3); fill_U(U) writes the transformed
// kernel [G, E, CG, OCG]. The transforms run once per tile over all
// channels; only the products are per group, on the group's column blocks.
template <int M, class FillU>
void run(const WinoConv& w, Conv2DWorkspace& ws, FillU fill_U) {
  constexpr int A = F<M>::A, E = A * A;
  const Tiling grid(M, w.N, w.OH, w.OW, w.DH, w.DW);
  const int64_t tiles = grid.tiles;
  if (tiles == 0) return;
  const int64_t IC = w.IC, OC = w.OCT;
  const int64_t block = block_tiles(E, IC, OC, tiles);
  // Blocks start at multiples of `block` whatever the thread count, so every
  // product call and its results are the same with any number of threads.
  const int64_t blocks = (tiles + block - 1) / block;
  const int64_t T = parallel_slots(blocks);

  // Per thread: V [block, E, IC], M [block, E, OC], a masked copy of one
  // tile's input [E, IC] (only with a mask), and a scratch output row for
  // tile cells outside the image. Shared: a row of zeros for padding cells.
  const int64_t v_floats = lines(block * E * IC), m_floats = lines(block * E * OC);
  const int64_t mask_floats = w.mask ? lines(E * IC) : 0, sink_floats = lines(OC);
  const int64_t per_thread = v_floats + m_floats + mask_floats + sink_floats;
  const int64_t u_floats = lines(w.G * E * w.CG * w.OCG);
  float* U = ws.floats(u_floats + lines(IC) + per_thread * T);
  fill_U(U);
  float* zeros = U + u_floats;
  std::fill_n(zeros, IC, 0.f);
  float* scratch = zeros + lines(IC);

  parallel_chunks(blocks, T, [&](int64_t th, int64_t bi) {
    float* V = scratch + per_thread * th;
    float* Mb = V + v_floats;
    float* masked = Mb + m_floats;
    float* sink = masked + mask_floats;
    const int64_t b0 = bi * block, nb = std::min(block, tiles - b0);
    for (int64_t j = 0; j < nb; ++j) {  // gather and transform each tile's input block
      int64_t n, oy, ox;
      grid.locate(b0 + j, n, oy, ox);
      const int64_t image = w.IH * w.IW * IC;
      const float* p[E];
      cell_pointers(w.in + n * image, w.mask ? w.mask + n * image : nullptr, w.IH, w.IW, IC, A, oy - w.pad_top,
                    ox - w.pad_left, w.DH, w.DW, zeros, masked, p);
      input_transform<M>(p, IC, V + j * E * IC);  // [E, IC]
    }
    // M_e [nb, OCG] = V_e [nb, CG] * U_e [CG, OCG] for the E positions e
    // and each group's column blocks.
    const bool small = small_group(w.CG, w.OCG);
    for (int64_t gi = 0; gi < w.G; ++gi) {
      const float* Ug = U + gi * E * w.CG * w.OCG;
      for (int e = 0; e < E; ++e) {
        const float* Ve = V + e * IC + gi * w.CG;
        const float* Ue = Ug + e * w.CG * w.OCG;
        float* Me = Mb + e * OC + gi * w.OCG;
        if (small)
          small_product(nb, w.CG, w.OCG, Ve, E * IC, Ue, Me, E * OC);
        else
          gemm(false, false, nb, w.OCG, w.CG, 1.f, Ve, E * IC, Ue, w.OCG, 0.f, Me, E * OC);
      }
    }
    for (int64_t j = 0; j < nb; ++j) {  // back to M x M output blocks
      int64_t n, oy, ox;
      grid.locate(b0 + j, n, oy, ox);
      float* y[M * M];  // outputs past the image's edge go to the sink row
      for (int a = 0; a < M; ++a)
        for (int b = 0; b < M; ++b) {
          const int64_t yy = oy + w.DH * a, xx = ox + w.DW * b;
          y[a * M + b] = yy < w.OH && xx < w.OW ? w.out + ((n * w.OH + yy) * w.OW + xx) * OC : sink;
        }
      output_transform<M>(Mb + j * E * OC, OC, w.bias, w.relu, y);
    }
  });
}

template <int M>
void backward_kernel(const float* x, const float* dy, const Conv2DGeometry& g, int64_t groups, int64_t OC,
                     float* dkernel, float* dbias, Conv2DWorkspace& ws, const float* relu_y) {
  constexpr int A = F<M>::A, E = A * A;
  const int64_t CG = g.C / groups, OCG = OC / groups;
  const Tiling grid(M, g.N, g.OH, g.OW, g.DH, g.DW);
  const int64_t C = g.C;
  const int64_t block = block_tiles(E, C, OC, grid.tiles);
  // The tiles' blocks (starting at multiples of `block`) form R chunks fixed
  // by the layer and batch alone; each chunk sums its own dU and bias
  // gradient, and the chunks are added in chunk order, so the result does not
  // depend on the thread count.
  const int64_t blocks = (grid.tiles + block - 1) / block;
  const int64_t du_count = groups * E * CG * OCG;
  const int64_t by_tiles = std::clamp<int64_t>(grid.tiles / kTilesPerChunk, 2, kMaxReduceChunks);
  const int64_t by_memory = kMaxPartialBytes / std::max<int64_t>(1, du_count * int64_t{sizeof(float)});
  const int64_t R = std::clamp<int64_t>(std::min({blocks, by_tiles, by_memory}), 1, kMaxReduceChunks);
  const int64_t T = parallel_slots(R);

  // Per thread: V [block, E, C] (transformed x), W [block, E, OC]
  // (transformed dy) and a masked copy of one tile's dy [M*M, OC] (only with
  // relu_y). Per chunk: its dU [G, E, CG, OCG]. Shared: a row of zeros for
  // cells outside the image or the output.
  const int64_t v_floats = lines(block * E * C), w_floats = lines(block * E * OC);
  const int64_t mask_floats = relu_y ? lines(M * M * OC) : 0, du_floats = lines(du_count);
  const int64_t per_thread = v_floats + w_floats + mask_floats;
  const int64_t zero_floats = lines(std::max(C, OC));
  float* zeros = ws.floats(zero_floats + per_thread * T + du_floats * R);
  std::fill_n(zeros, zero_floats, 0.f);
  float* scratch = zeros + zero_floats;
  auto dU_of = [&](int64_t chunk) { return scratch + per_thread * T + du_floats * chunk; };
  // The bias gradient rides along: each dy row is summed (in double) as it is read.
  double* bias_sums = dbias ? ws.doubles(OC * R) : nullptr;  // [R, OC]

  parallel_chunks(R, T, [&](int64_t th, int64_t chunk) {
    float* V = scratch + per_thread * th;
    float* W = V + v_floats;
    float* masked = W + w_floats;
    float* dU = dU_of(chunk);
    std::fill_n(dU, du_count, 0.f);
    double* bsum = bias_sums ? bias_sums + OC * chunk : nullptr;
    if (bsum) std::fill_n(bsum, OC, 0.0);
    for (int64_t bi = blocks * chunk / R; bi < blocks * (chunk + 1) / R; ++bi) {
      const int64_t b0 = bi * block, nb = std::min(block, grid.tiles - b0);
      for (int64_t j = 0; j < nb; ++j) {
        int64_t n, oy, ox;
        grid.locate(b0 + j, n, oy, ox);
        const int64_t image = g.H * g.W * C, out_image = g.OH * g.OW * OC;
        const float* p[E];
        cell_pointers(x + n * image, nullptr, g.H, g.W, C, A, oy - g.pad_top, ox - g.pad_left, g.DH, g.DW, zeros,
                      nullptr, p);
        input_transform<M>(p, C, V + j * E * C);  // [E, C]
        // dy of the tile's M x M outputs; zeros past the output's edge.
        const float* q[M * M];
        cell_pointers(dy + n * out_image, relu_y ? relu_y + n * out_image : nullptr, g.OH, g.OW, OC, M, oy, ox,
                      g.DH, g.DW, zeros, masked, q);
        if (bsum)  // cells outside the output are zeros and add nothing
          for (int i = 0; i < M * M; ++i)
            for (int64_t f = 0; f < OC; ++f) bsum[f] += q[i][f];
        dy_transform<M>(q, OC, W + j * E * OC);  // [E, OC]
      }
      // dU_e [CG, OCG] += V_e^T [CG, nb] * W_e [nb, OCG]: the gradient of
      // M_e = V_e U_e, on each group's column blocks.
      const bool small = small_group(CG, OCG);
      for (int64_t gi = 0; gi < groups; ++gi)
        for (int e = 0; e < E; ++e) {
          const float* Ve = V + e * C + gi * CG;
          const float* We = W + e * OC + gi * OCG;
          float* dUe = dU + (gi * E + e) * CG * OCG;
          if (small)
            small_product_tn(nb, CG, OCG, Ve, E * C, We, E * OC, dUe);
          else
            gemm(true, false, CG, OCG, nb, 1.f, Ve, E * C, We, E * OC, 1.f, dUe, OCG);
        }
    }
  });

  if (dbias)
    for (int64_t o = 0; o < OC; ++o) {
      double sum = 0;
      for (int64_t c = 0; c < R; ++c) sum += bias_sums[c * OC + o];
      dbias[o] = static_cast<float>(sum);
    }
  float* dU = dU_of(0);
  for (int64_t c = 1; c < R; ++c) {
    const float* part = dU_of(c);
    for (int64_t i = 0; i < du_count; ++i) dU[i] += part[i];
  }
  // dkernel = G^T dU G (U = G w G^T is linear in w), rows then columns.
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t c = 0; c < CG; ++c)
      for (int64_t o = 0; o < OCG; ++o) {
        const float* u = dU + gi * E * CG * OCG + c * OCG + o;
        double rows[A][3];  // dU G
        for (int r = 0; r < A; ++r) {
          double in[A];
          for (int col = 0; col < A; ++col) in[col] = u[(r * A + col) * CG * OCG];
          F<M>::kernel_adjoint(in, rows[r]);
        }
        for (int kw = 0; kw < 3; ++kw) {
          double in[A], taps[3];
          for (int r = 0; r < A; ++r) in[r] = rows[r][kw];
          F<M>::kernel_adjoint(in, taps);
          for (int kh = 0; kh < 3; ++kh) dkernel[((kh * 3 + kw) * CG + c) * OC + gi * OCG + o] = static_cast<float>(taps[kh]);
        }
      }
}

// The tile size: F(4x4, 3x3). Measured against F(2x2, 3x3) (an F<2>
// specialisation of this same code, since removed) with `minidl bench conv2d --all`, three alternating rounds:
// 15-35% faster on every Winograd shape (B 6.1/13.4 ms fwd/bwd vs 7.4/16.3,
// H 6.4/11.3 vs 8.9/17.7), at a rounding error still well inside the
// conformance tolerance (tests/ops/winograd_test.cpp).
constexpr int kTile = 4;

template <int M>
void forward_m(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g, int64_t groups,
               int64_t OC, float* y, Conv2DWorkspace& ws, bool relu) {
  const int64_t CG = g.C / groups, OCG = OC / groups;
  const WinoConv w{x, nullptr, g.N, g.H, g.W, g.C, g.OH, g.OW, OC, g.DH, g.DW, g.pad_top, g.pad_left,
                   groups, CG, OCG, bias, relu, y};
  run<M>(w, ws, [&](float* U) {
    // kernel [3, 3, CG, OC]: input channel i, filter gi*OCG + o
    transform_kernel<M>(groups, CG, OCG, [&](int64_t gi, int kh, int kw, int64_t i, int64_t o) {
      return kernel[((kh * 3 + kw) * CG + i) * OC + gi * OCG + o];
    }, U);
  });
}

template <int M>
void backward_input_m(const float* kernel, const float* dy, const Conv2DGeometry& g, int64_t groups, int64_t OC,
                      float* dx, Conv2DWorkspace& ws, const float* relu_y) {
  const int64_t CG = g.C / groups, OCG = OC / groups;
  // dx(iy) = sum over kh of dy(iy + pad_top - DH*kh) * w(kh): a stride-1
  // convolution of dy whose tap kh' = 2 - kh reads dy(iy - (2*DH - pad_top) + DH*kh').
  const WinoConv w{dy, relu_y, g.N, g.OH, g.OW, OC, g.H, g.W, g.C, g.DH, g.DW, 2 * g.DH - g.pad_top,
                   2 * g.DW - g.pad_left, groups, OCG, CG, nullptr, false, dx};
  run<M>(w, ws, [&](float* U) {
    // flipped in space, input channel o (a filter of the forward), output channel i
    transform_kernel<M>(groups, OCG, CG, [&](int64_t gi, int kh, int kw, int64_t o, int64_t i) {
      return kernel[(((2 - kh) * 3 + (2 - kw)) * CG + i) * OC + gi * OCG + o];
    }, U);
  });
}

}  // namespace

void winograd_conv3x3_forward(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g,
                              int64_t groups, int64_t OC, float* y, Conv2DWorkspace& ws, bool relu) {
  MINIDL_CHECK(winograd_applicable(g, groups, OC), ValueError,
               "winograd_conv3x3_forward: needs a 3x3 kernel, stride 1 and at least {} channels and filters per "
               "group; received kernel ({}, {}), strides ({}, {}), {} channels, {} filters, {} groups",
               kWinogradMinChannels, g.KH, g.KW, g.SH, g.SW, g.C, OC, groups);
  forward_m<kTile>(x, kernel, bias, g, groups, OC, y, ws, relu);
}

void winograd_conv3x3_backward_input(const float* kernel, const float* dy, const Conv2DGeometry& g, int64_t groups,
                                     int64_t OC, float* dx, Conv2DWorkspace& ws, const float* relu_y) {
  MINIDL_CHECK(winograd_applicable(g, groups, OC), ValueError,
               "winograd_conv3x3_backward_input: needs a 3x3 kernel, stride 1 and at least {} channels and filters "
               "per group; received kernel ({}, {}), strides ({}, {}), {} channels, {} filters, {} groups",
               kWinogradMinChannels, g.KH, g.KW, g.SH, g.SW, g.C, OC, groups);
  backward_input_m<kTile>(kernel, dy, g, groups, OC, dx, ws, relu_y);
}

void winograd_conv3x3_backward_kernel(const float* x, const float* dy, const Conv2DGeometry& g, int64_t groups,
                                      int64_t OC, float* dkernel, float* dbias, Conv2DWorkspace& ws,
                                      const float* relu_y) {
  MINIDL_CHECK(winograd_applicable(g, groups, OC), ValueError,
               "winograd_conv3x3_backward_kernel: needs a 3x3 kernel, stride 1 and at least {} channels and "
               "filters per group; received kernel ({}, {}), strides ({}, {}), {} channels, {} filters, {} groups",
               kWinogradMinChannels, g.KH, g.KW, g.SH, g.SW, g.C, OC, groups);
  backward_kernel<kTile>(x, dy, g, groups, OC, dkernel, dbias, ws, relu_y);
}

WinogradProducts winograd_products(const Conv2DGeometry& g, int64_t groups, int64_t OC) {
  MINIDL_CHECK(winograd_applicable(g, groups, OC), ValueError,
               "winograd_products: not a Winograd convolution (kernel ({}, {}), strides ({}, {}), {} channels, {} "
               "filters, {} groups)",
               g.KH, g.KW, g.SH, g.SW, g.C, OC, groups);
  constexpr int A = F<kTile>::A;
  const Tiling grid(kTile, g.N, g.OH, g.OW, g.DH, g.DW);
  const int64_t CG = g.C / groups, OCG = OC / groups;
  return {grid.tiles, block_tiles(A * A, g.C, OC, grid.tiles), A * A, CG, OCG, small_group(CG, OCG)};
}

}  // namespace minidl::ops
