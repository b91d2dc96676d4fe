// ops/depthwise_conv2d.cpp — the direct depthwise kernels of ops/depthwise_conv2d.h: per output (or
// input) pixel, a block of channels accumulated in registers over the kernel taps.
#include "ops/depthwise_conv2d.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/batch_sum.h"
#include "ops/parallel_grain.h"

namespace minidl::ops {

bool depthwise_applicable(const Conv2DGeometry& g, int64_t groups, int64_t OC) {
  return g.C >= 1 && groups == g.C && OC >= g.C && OC % g.C == 0;
}

namespace {

// Channels per item: 64 floats of accumulators are 4 AVX-512 (8 AVX2)
// registers, few enough that they stay in registers across all the taps.
constexpr int64_t kBlock = 64;

// Calls f.template operator()<B>(offset) for a run of `width` channels split
// into power-of-two pieces B (64 at most), so every inner loop has a length
// fixed at compile time and vectorises without a remainder loop.
template <class F>
void for_pieces(int64_t width, F&& f) {
  int64_t off = 0;
  auto take = [&]<int B>() {
    while (width - off >= B) {
      f.template operator()<B>(off);
      off += B;
    }
  };
  take.template operator()<64>();
  take.template operator()<32>();
  take.template operator()<16>();
  take.template operator()<8>();
  take.template operator()<4>();
  take.template operator()<2>();
  take.template operator()<1>();
}

void check(const char* fn, const Conv2DGeometry& g, int64_t M) {
  MINIDL_CHECK(M >= 1, ValueError, "{}: expected a depth multiplier >= 1, received {}", fn, M);
  const bool sizes_ok = g.N >= 0 && g.H >= 1 && g.W >= 1 && g.C >= 1 && g.KH >= 1 && g.KW >= 1 && g.SH >= 1 &&
                        g.SW >= 1 && g.DH >= 1 && g.DW >= 1 && g.OH >= 1 && g.OW >= 1 && g.pad_top >= 0 &&
                        g.pad_left >= 0 && g.pad_bottom >= 0 && g.pad_right >= 0;
  const bool fits = (g.OH - 1) * g.SH + (g.KH - 1) * g.DH + 1 <= g.H + g.pad_top + g.pad_bottom &&
                    (g.OW - 1) * g.SW + (g.KW - 1) * g.DW + 1 <= g.W + g.pad_left + g.pad_right;
  MINIDL_CHECK(sizes_ok && fits, ValueError,
               "{}: inconsistent geometry: input (N, H, W, C) = ({}, {}, {}, {}), kernel ({}, {}), strides ({}, {}), "
               "dilation ({}, {}), padding (top {}, bottom {}, left {}, right {}), output ({}, {})",
               fn, g.N, g.H, g.W, g.C, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.pad_top, g.pad_bottom, g.pad_left,
               g.pad_right, g.OH, g.OW);
}

// x [P, C] widened to [P, C*M]: each channel repeated M times, in output-channel order.
void widen(const float* x, int64_t P, int64_t C, int64_t M, float* out) {
  parallel_for(
      P,
      [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p)
          for (int64_t c = 0; c < C; ++c) std::fill_n(out + (p * C + c) * M, M, x[p * C + c]);
      },
      grain(Cost::kMemory, C * M));
}

// dx [P, C] = dxw [P, C*M] summed over each channel's M copies.
void narrow(const float* dxw, int64_t P, int64_t C, int64_t M, float* dx) {
  parallel_for(
      P,
      [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p)
          for (int64_t c = 0; c < C; ++c) {
            float s = 0.f;
            for (int64_t m = 0; m < M; ++m) s += dxw[(p * C + c) * M + m];
            dx[p * C + c] = s;
          }
      },
      grain(Cost::kMemory, C * M));
}

// The (row, channel block) items of a loop over `rows` rows of `CM` channels,
// split over threads by the work of one item (`pixels` pixels of KH*KW taps).
template <class F>
void for_row_blocks(int64_t rows, int64_t CM, int64_t pixels, int64_t taps, F&& f) {
  const int64_t blocks = (CM + kBlock - 1) / kBlock;
  parallel_for(
      rows * blocks,
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const int64_t c0 = i % blocks * kBlock;
          f(i / blocks, c0, std::min(kBlock, CM - c0));
        }
      },
      grain(Cost::kMemory, pixels * std::min(kBlock, CM) * taps));
}

// Output pixels [ow0, ow0 + P) of one output row, channels [cb, cb + B), when
// every tap of these pixels lies inside the image: the P*B accumulators are
// independent chains of multiply-adds (P is chosen so that P*B >= 64 floats
// where the row allows, enough chains to keep the FMA units busy when the
// channel block is narrow), and the taps need no bounds checks. KW3 fixes
// KW = 3 at compile time. xrows/krows: the nkh in-image input rows (at
// column 0, channel cb) and their kernel rows (at kw = 0, channel cb).
// Eight floats as one value: with B a multiple of 8, the accumulators are
// spelled as P*B/8 such vectors so that they stay in vector registers (written
// as arrays of floats, the compiler unrolls the pixel loop first and then
// multiplies one lane at a time). GCC and Clang both provide the type.
using Float8 = float __attribute__((vector_size(32)));

inline Float8 load8(const float* p) {
  Float8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// b0: the B biases (zeros without a bias); lo: 0 with relu, else -inf, so the
// output is max(acc, lo) without a branch (a NaN stays NaN either way).
template <int B, int P, bool KW3>
void interior_pixels(const float* const* xrows, const float* const* krows, int nkh, int64_t ow0, const Conv2DGeometry& g,
                     const float* b0, float lo, float* out) {
  const int64_t C = g.C, KW = KW3 ? 3 : g.KW, step = g.SW * C;
  if constexpr (B % 8 == 0) {
    constexpr int V = B / 8;
    Float8 acc[P][V];
    for (int p = 0; p < P; ++p)
      for (int v = 0; v < V; ++v) acc[p][v] = load8(b0 + 8 * v);
    for (int t = 0; t < nkh; ++t) {
      const float* xr = xrows[t] + (ow0 * g.SW - g.pad_left) * C;
      for (int64_t kw = 0; kw < KW; ++kw) {
        const float* xk = xr + kw * g.DW * C;
        for (int v = 0; v < V; ++v) {
          const Float8 kv = load8(krows[t] + kw * C + 8 * v);
          for (int p = 0; p < P; ++p) acc[p][v] += load8(xk + p * step + 8 * v) * kv;
        }
      }
    }
    const Float8 lov = {lo, lo, lo, lo, lo, lo, lo, lo};
    for (int p = 0; p < P; ++p)
      for (int v = 0; v < V; ++v) {
        const Float8 r = acc[p][v] < lov ? lov : acc[p][v];  // max(acc, lo): NaN < lo is false
        std::memcpy(out + (ow0 + p) * C + 8 * v, &r, sizeof r);
      }
  } else {
    float acc[P][B];
    for (int p = 0; p < P; ++p)
      for (int j = 0; j < B; ++j) acc[p][j] = b0[j];
    for (int t = 0; t < nkh; ++t) {
      const float* xr = xrows[t] + (ow0 * g.SW - g.pad_left) * C;
      for (int64_t kw = 0; kw < KW; ++kw) {
        const float* __restrict kp = krows[t] + kw * C;
        const float* xk = xr + kw * g.DW * C;
        for (int p = 0; p < P; ++p) {
          const float* __restrict xp = xk + p * step;
          for (int j = 0; j < B; ++j) acc[p][j] += xp[j] * kp[j];
        }
      }
    }
    for (int p = 0; p < P; ++p) {
      float* __restrict o = out + (ow0 + p) * C;
      for (int j = 0; j < B; ++j) o[j] = std::max(acc[p][j], lo);
    }
  }
}

// One output pixel ow, channels [cb, cb + B), checking each tap's column.
template <int B>
void edge_pixel(const float* const* xrows, const float* const* krows, int nkh, int64_t ow, const Conv2DGeometry& g,
                const float* b0, float lo, float* out) {
  const int64_t C = g.C;
  float acc[B];
  for (int j = 0; j < B; ++j) acc[j] = b0[j];
  for (int t = 0; t < nkh; ++t)
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      const int64_t iw = ow * g.SW - g.pad_left + kw * g.DW;
      if (iw < 0 || iw >= g.W) continue;
      const float* __restrict xp = xrows[t] + iw * C;
      const float* __restrict kp = krows[t] + kw * C;
      for (int j = 0; j < B; ++j) acc[j] += xp[j] * kp[j];
    }
  float* __restrict o = out + ow * C;
  for (int j = 0; j < B; ++j) o[j] = std::max(acc[j], lo);
}

// Outputs [ow_lo, ow_hi) have every tap's column inside the image.
void interior_columns(const Conv2DGeometry& g, int64_t& ow_lo, int64_t& ow_hi) {
  ow_lo = std::min(g.OW, (g.pad_left + g.SW - 1) / g.SW);
  const int64_t last = g.W - 1 - (g.KW - 1) * g.DW + g.pad_left;  // ow * SW <= last
  ow_hi = last < 0 ? 0 : std::min(g.OW, last / g.SW + 1);
  if (ow_hi < ow_lo) ow_hi = ow_lo;
}

// Forward, M = 1 form (g.C is the widened channel count): output row r = (n, oh),
// channels [c0, c0 + width).
void forward_row(const float* x, const float* k, const float* bias, const Conv2DGeometry& g, int64_t r, int64_t c0,
                 int64_t width, bool relu, float* y) {
  const int64_t C = g.C, n = r / g.OH, oh = r % g.OH;
  const float* ximg = x + n * g.H * g.W * C;
  float* yrow = y + r * g.OW * C;  // [OW, C]
  constexpr int kMaxRows = 16;     // kernel heights up to this keep their row pointers on the stack
  const float* xbuf[kMaxRows];
  const float* kbuf[kMaxRows];
  std::vector<const float*> xv, kv;  // taller kernels only
  const float** xrows = xbuf;
  const float** krows = kbuf;
  if (g.KH > kMaxRows) {
    xv.resize(g.KH);
    kv.resize(g.KH);
    xrows = xv.data();
    krows = kv.data();
  }
  int64_t ow_lo = 0, ow_hi = 0;
  interior_columns(g, ow_lo, ow_hi);
  const float lo = relu ? 0.f : -std::numeric_limits<float>::infinity();
  for_pieces(width, [&]<int B>(int64_t off) {
    const int64_t cb = c0 + off;
    int nkh = 0;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = oh * g.SH - g.pad_top + kh * g.DH;
      if (ih < 0 || ih >= g.H) continue;
      xrows[nkh] = ximg + ih * g.W * C + cb;
      krows[nkh] = k + kh * g.KW * C + cb;
      ++nkh;
    }
    float b[B];
    for (int j = 0; j < B; ++j) b[j] = bias ? bias[cb + j] : 0.f;
    float* out = yrow + cb;
    constexpr int P = B >= 64 ? 1 : 64 / B > 8 ? 8 : 64 / B;
    int64_t ow = 0;
    for (; ow < ow_lo; ++ow) edge_pixel<B>(xrows, krows, nkh, ow, g, b, lo, out);
    const bool kw3 = g.KW == 3;
    for (; ow + P <= ow_hi; ow += P) {
      if (kw3)
        interior_pixels<B, P, true>(xrows, krows, nkh, ow, g, b, lo, out);
      else
        interior_pixels<B, P, false>(xrows, krows, nkh, ow, g, b, lo, out);
    }
    for (; ow < ow_hi; ++ow) {
      if (kw3)
        interior_pixels<B, 1, true>(xrows, krows, nkh, ow, g, b, lo, out);
      else
        interior_pixels<B, 1, false>(xrows, krows, nkh, ow, g, b, lo, out);
    }
    for (; ow < g.OW; ++ow) edge_pixel<B>(xrows, krows, nkh, ow, g, b, lo, out);
  });
}

// dx, M = 1 form: input row r = (n, ih), channels [c0, c0 + width). Each input
// pixel gathers dy from the output pixels whose taps read it.
void input_grad_row(const float* k, const float* dy, const Conv2DGeometry& g, int64_t r, int64_t c0, int64_t width,
                    float* dx) {
  const int64_t C = g.C, n = r / g.H, ih = r % g.H;
  const float* dyimg = dy + n * g.OH * g.OW * C;
  float* dxrow = dx + r * g.W * C;  // [W, C]
  for_pieces(width, [&]<int B>(int64_t off) {
    const int64_t cb = c0 + off;
    for (int64_t iw = 0; iw < g.W; ++iw) {
      float acc[B] = {};
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const int64_t th = ih + g.pad_top - kh * g.DH;  // = oh * SH
        if (th < 0 || th % g.SH != 0 || th / g.SH >= g.OH) continue;
        const float* dyr = dyimg + th / g.SH * g.OW * C + cb;
        const float* kr = k + kh * g.KW * C + cb;
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const int64_t tw = iw + g.pad_left - kw * g.DW;  // = ow * SW
          if (tw < 0 || tw % g.SW != 0 || tw / g.SW >= g.OW) continue;
          const float* __restrict dp = dyr + tw / g.SW * C;
          const float* __restrict kp = kr + kw * C;
          for (int j = 0; j < B; ++j) acc[j] += dp[j] * kp[j];
        }
      }
      float* __restrict out = dxrow + iw * C + cb;
      for (int j = 0; j < B; ++j) out[j] = acc[j];
    }
  });
}

// dkernel [KH, KW, C] += the contribution of output row r = (n, oh), M = 1 form:
// for each tap, the products dy * x summed along the row in registers.
void kernel_grad_row(const float* x, const float* dy, const Conv2DGeometry& g, int64_t r, float* dk) {
  const int64_t C = g.C, n = r / g.OH, oh = r % g.OH;
  const float* ximg = x + n * g.H * g.W * C;
  const float* dyrow = dy + r * g.OW * C;  // [OW, C]
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    const int64_t ih = oh * g.SH - g.pad_top + kh * g.DH;
    if (ih < 0 || ih >= g.H) continue;
    const float* xr = ximg + ih * g.W * C;
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      // Outputs whose input column iw = ow*SW + shift lies inside the image.
      const int64_t shift = kw * g.DW - g.pad_left;
      const int64_t ow0 = shift >= 0 ? 0 : (-shift + g.SW - 1) / g.SW;
      const int64_t ow1 = std::min(g.OW, g.W - shift <= 0 ? 0 : (g.W - shift - 1) / g.SW + 1);
      if (ow0 >= ow1) continue;
      float* dkt = dk + (kh * g.KW + kw) * C;
      for_pieces(C, [&]<int B>(int64_t cb) {
        float acc[B] = {};
        for (int64_t ow = ow0; ow < ow1; ++ow) {
          const float* __restrict dp = dyrow + ow * C + cb;
          const float* __restrict xp = xr + (ow * g.SW + shift) * C + cb;
          for (int j = 0; j < B; ++j) acc[j] += dp[j] * xp[j];
        }
        for (int j = 0; j < B; ++j) dkt[cb + j] += acc[j];
      });
    }
  }
}

// The kernel and bias gradients are summed in chunks of whole images: a power
// of two images of about 2^19 multiply-adds, chosen from the per-image work
// alone (doubled while the partials would pass 64 MiB), added pairwise
// (ops/batch_sum.h), so that the sums depend neither on the thread count nor on
// how data-parallel replicas split the batch.
struct ImageChunks {
  int64_t count = 0, per = 1;  // chunks, images per chunk
};

ImageChunks kernel_grad_chunks(const Conv2DGeometry& g) {
  const int64_t macs = g.OH * g.OW * g.C * g.KH * g.KW;  // per image
  const int64_t part_bytes = std::max<int64_t>(1, g.KH * g.KW * g.C * int64_t{sizeof(float)});
  ImageChunks c;
  c.per = fit_partials(samples_per_group(macs, int64_t{1} << 19), g.N, part_bytes);
  c.count = group_count(g.N, c.per);
  return c;
}

}  // namespace

void depthwise_conv2d_forward(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g,
                              int64_t M, float* y, Conv2DWorkspace& ws, bool relu) {
  check("depthwise_conv2d_forward", g, M);
  if (g.N == 0) return;
  MINIDL_CHECK(x && kernel && y, ValueError, "depthwise_conv2d_forward: x, kernel and y must not be null");
  Conv2DGeometry gw = g;  // the M = 1 form over C*M channels
  gw.C = g.C * M;
  if (M > 1) {
    float* xw = ws.floats(g.N * g.H * g.W * gw.C);  // [N, H, W, C*M]
    widen(x, g.N * g.H * g.W, g.C, M, xw);
    x = xw;
  }
  for_row_blocks(g.N * g.OH, gw.C, g.OW, g.KH * g.KW, [&](int64_t r, int64_t c0, int64_t width) {
    forward_row(x, kernel, bias, gw, r, c0, width, relu, y);
  });
}

void depthwise_conv2d_backward(const float* x, const float* kernel, const float* dy, const Conv2DGeometry& g,
                               int64_t M, float* dx, float* dkernel, float* dbias, Conv2DWorkspace& ws,
                               const float* relu_y) {
  const char* fn = "depthwise_conv2d_backward";
  check(fn, g, M);
  Conv2DGeometry gw = g;
  gw.C = g.C * M;
  const int64_t CM = gw.C, taps = g.KH * g.KW;
  if (!dx && !dkernel && !dbias) return;
  if (g.N == 0) {
    if (dkernel) std::fill_n(dkernel, taps * CM, 0.f);
    if (dbias) std::fill_n(dbias, CM, 0.f);
    return;
  }
  MINIDL_CHECK(dy, ValueError, "{}: dy must not be null", fn);
  MINIDL_CHECK(!dkernel || x, ValueError, "{}: x is needed for dkernel but is null", fn);
  MINIDL_CHECK(!dx || kernel, ValueError, "{}: kernel is needed for dx but is null", fn);

  // One workspace block, carved: the masked dy, the widened x and dx (M > 1),
  // and a partial dkernel per chunk after the first.
  const int64_t in_floats = g.N * g.H * g.W * CM, out_floats = g.N * g.OH * g.OW * CM;
  const ImageChunks split = kernel_grad_chunks(gw);
  const int64_t chunks = dkernel || dbias ? split.count : 0;
  const int64_t mask_f = relu_y ? Conv2DWorkspace::lines(out_floats) : 0;
  const int64_t xw_f = M > 1 && dkernel ? Conv2DWorkspace::lines(in_floats) : 0;
  const int64_t dxw_f = M > 1 && dx ? Conv2DWorkspace::lines(in_floats) : 0;
  const int64_t part_f = dkernel ? Conv2DWorkspace::lines(taps * CM) : 0;
  float* buf = ws.floats(std::max<int64_t>(1, mask_f + xw_f + dxw_f + part_f * std::max<int64_t>(chunks - 1, 0)));
  float* masked = buf;
  float* xw = masked + mask_f;
  float* dxw = xw + xw_f;
  float* parts = dxw + dxw_f;  // [chunks - 1][KH*KW*C*M]

  if (relu_y) {  // the fused relu's gradient: dy where the output was positive (relu'(0) = 0)
    parallel_for(
        out_floats,
        [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) masked[i] = relu_y[i] > 0.f ? dy[i] : 0.f;
        },
        kElementwiseGrain);
    dy = masked;
  }

  if (dx) {
    float* out = M > 1 ? dxw : dx;
    for_row_blocks(g.N * g.H, CM, g.W, taps, [&](int64_t r, int64_t c0, int64_t width) {
      input_grad_row(kernel, dy, gw, r, c0, width, out);
    });
    if (M > 1) narrow(dxw, g.N * g.H * g.W, g.C, M, dx);
  }

  if (chunks == 0) return;
  if (dkernel && M > 1) {
    widen(x, g.N * g.H * g.W, g.C, M, xw);
    x = xw;
  }
  double* bias_sums = dbias ? ws.doubles(chunks * CM) : nullptr;  // [chunks, C*M]
  parallel_chunks(chunks, parallel_slots(chunks), [&](int64_t, int64_t c) {
    float* dk = !dkernel ? nullptr : c == 0 ? dkernel : parts + part_f * (c - 1);
    double* bs = dbias ? bias_sums + c * CM : nullptr;
    if (dk) std::fill_n(dk, taps * CM, 0.f);
    if (bs) std::fill_n(bs, CM, 0.0);
    const int64_t r1 = std::min(g.N, split.per * (c + 1)) * g.OH;
    for (int64_t r = std::min(g.N, split.per * c) * g.OH; r < r1; ++r) {
      if (dk) kernel_grad_row(x, dy, gw, r, dk);
      if (bs) {
        const float* dyrow = dy + r * g.OW * CM;
        for (int64_t ow = 0; ow < g.OW; ++ow)
          for (int64_t o = 0; o < CM; ++o) bs[o] += dyrow[ow * CM + o];
      }
    }
  });
  if (dkernel) add_chunk_partials(parts, chunks - 1, part_f, taps * CM, dkernel);
  if (dbias) sum_chunk_bias(bias_sums, chunks, CM, dbias);
}

}  // namespace minidl::ops
