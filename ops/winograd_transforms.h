// ops/winograd_transforms.h — internal to ops/: the pieces of Winograd's F(4x4, 3x3) that
// ops/winograd.cpp (forward, input gradient) and ops/winograd_kernel_grad.cpp share.
//
//   F<M>            the 1-D transforms B^T d, A^T m, G g and their adjoints
//   Tiling          the grid of M x M output tiles (dilated tiles included)
//   transform_kernel    U = G w G^T, in double, once per call
//   input_transform     V = B^T d B        output_transform  Y = A^T m A (+ bias, relu)
//   dy_transform        W = A dy A^T (the adjoint of output_transform)
//   cell_pointers       the channel rows of one tile's cells, zeros outside the image
//   block_tiles         how many tiles one block of V and M holds
//   require_applicable  the entry points' argument check
// Shapes use ops/im2col.h's alphabet; E = A*A transformed positions per tile.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "ops/im2col.h"

namespace minidl::ops::winograd {

// ValueError naming fn unless winograd_applicable(g, groups, OC) (ops/winograd.h).
void require_applicable(const char* fn, const Conv2DGeometry& g, int64_t groups, int64_t OC);

// The tile size: F(4x4, 3x3), 36 multiplies per 16 outputs and channel. It
// runs 15-35% faster than F(2x2, 3x3) on every Winograd shape of
// `minidl bench conv2d --all` (B 6.1/13.4 ms forward/backward against 7.4/16.3,
// H 6.4/11.3 against 8.9/17.7), with rounding still well inside the
// conformance tolerance (tests/ops/winograd_test.cpp).
constexpr int kTile = 4;

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
inline int64_t tile_count(int64_t O, int64_t M, int64_t d) { return d * (O / (M * d)) + std::min(d, O % (M * d)); }
inline int64_t tile_origin(int64_t t, int64_t M, int64_t d) { return M * d * (t / d) + t % d; }

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

// 16 channels at once: one AVX-512 register (two AVX2 ones). The tile
// transforms are the F<M> formulas applied to Lanes instead of floats; each
// operator is a fixed 16-iteration loop, which compiles to one vector
// instruction where a channel loop over per-cell pointers would stay scalar.
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
// n <= 16 channels from p; the rest zero. A memcpy of a whole Lanes is one
// vector load or store (an element loop would be 16 scalar inserts).
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

// The three tile transforms below are each the 1-D transform of F<M> down
// the columns of a tile, then along the rows of the result, 16 channels at a
// time, written out one by one: one generic loop taking the 1-D transform,
// the loads and the stores as callables compiles to code 5-10% slower on the
// Winograd shapes of bench_conv2d.

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
// tile dy is the channel row dy[i*M + j]: the adjoint of output_transform,
// how each of a tile's E products reaches its outputs.
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

// Points p[0..K*K-1] at the channel rows of a tile's K x K cells (row-major;
// (y0, x0) is the top-left cell, cells d apart) in an H x W x C image: cells
// outside the image point at `zeros` (at least C zeros); with a mask, cells
// are copied to `masked` [K*K, C] with entries where mask <= 0 zeroed (the
// fused relu's gradient: dy only where the output was positive).
inline void cell_pointers(const float* img, const float* mask, int64_t H, int64_t W, int64_t C, int64_t K,
                          int64_t y0, int64_t x0, int64_t dh, int64_t dw, const float* zeros, float* masked,
                          const float** p) {
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
// stay in L2 from the transform that writes them to the GEMM that reads them
// (64 KiB to 1 MiB blocks run equally fast on bench_conv2d's shapes).
constexpr int64_t kBlockBytes = int64_t{256} << 10;
constexpr int64_t kMinBlockTiles = 32;

inline int64_t block_tiles(int64_t E, int64_t IC, int64_t OC, int64_t tiles) {
  return std::clamp<int64_t>(kBlockBytes / (E * (IC + OC) * int64_t{sizeof(float)}), kMinBlockTiles,
                             std::max<int64_t>(tiles, 1));
}

}  // namespace minidl::ops::winograd
