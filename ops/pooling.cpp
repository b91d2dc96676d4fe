// ops/pooling.cpp — windowed 2-D pooling, NHWC.
//
// The channels of one pixel are contiguous, so every kernel walks a window
// pixel by pixel and processes all C channels of that pixel in an inner loop
// that vectorises; the output row y[oh, ow, :] is the running accumulator.
// Windows are clipped to the image instead of reading padding, which is how
// padded cells are "ignored" (max) and "not counted" (average).
#include "ops/pooling.h"

#include <algorithm>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/parallel_grain.h"

namespace minidl::ops {
namespace {

struct Window {
  int64_t hs, he, ws, we;  // clipped to the image: rows [hs, he), cols [ws, we)
  int64_t count() const { return (he - hs) * (we - ws); }
};

inline Window window_at(const Pool2DGeometry& g, int64_t oh, int64_t ow) {
  const int64_t h0 = oh * g.SH - g.pad_top, w0 = ow * g.SW - g.pad_left;
  return {std::max<int64_t>(h0, 0), std::min(h0 + g.KH, g.H), std::max<int64_t>(w0, 0), std::min(w0 + g.KW, g.W)};
}

void check_geometry(const Pool2DGeometry& g, const char* who) {
  const bool sizes = g.N >= 0 && g.C >= 0 && g.H >= 1 && g.W >= 1 && g.KH >= 1 && g.KW >= 1 && g.SH >= 1 &&
                     g.SW >= 1;
  // Each pad smaller than the window keeps every window touching the image.
  const bool pads = g.pad_top >= 0 && g.pad_bottom >= 0 && g.pad_left >= 0 && g.pad_right >= 0 &&
                    g.pad_top < g.KH && g.pad_bottom < g.KH && g.pad_left < g.KW && g.pad_right < g.KW;
  const int64_t ph = g.H + g.pad_top + g.pad_bottom, pw = g.W + g.pad_left + g.pad_right;
  const bool out = sizes && pads && ph >= g.KH && pw >= g.KW && g.OH == (ph - g.KH) / g.SH + 1 &&
                   g.OW == (pw - g.KW) / g.SW + 1;
  MINIDL_CHECK(out, ValueError,
               "{}: inconsistent pooling geometry: input (N={}, H={}, W={}, C={}), window ({}, {}), strides ({}, {}), "
               "pads (top={}, bottom={}, left={}, right={}), output ({}, {}); build it with make_pool_geometry",
               who, g.N, g.H, g.W, g.C, g.KH, g.KW, g.SH, g.SW, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right, g.OH,
               g.OW);
}

void check_buffers(bool ok, const char* who) {
  MINIDL_CHECK(ok, ValueError, "{}: received a null buffer for a non-empty tensor", who);
}

// Runs fn(n) for each image, in parallel when the images are big enough.
template <class Fn>
void for_each_image(int64_t N, int64_t work_per_image, Fn fn) {
  for_each_item(N, Cost::kCompute, work_per_image, fn);
}

// One image: y[OH, OW, C] and, if kArg, arg[OH, OW, C] (indices offset by base).
template <bool kArg>
void max_image(const float* x, const Pool2DGeometry& g, float* y, int64_t* arg, int64_t base) {
  const int64_t C = g.C;
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const Window win = window_at(g, oh, ow);
      float* yo = y + (oh * g.OW + ow) * C;
      int64_t* ao = kArg ? arg + (oh * g.OW + ow) * C : nullptr;
      const int64_t first = (win.hs * g.W + win.ws) * C;
      std::copy(x + first, x + first + C, yo);
      if constexpr (kArg)
        for (int64_t c = 0; c < C; ++c) ao[c] = base + first + c;
      for (int64_t h = win.hs; h < win.he; ++h)
        for (int64_t w = win.ws; w < win.we; ++w) {
          const int64_t off = (h * g.W + w) * C;
          if (off == first) continue;
          const float* xp = x + off;
          if constexpr (kArg) {
            for (int64_t c = 0; c < C; ++c) {
              const float v = xp[c];
              if (v > yo[c] || (v != v && yo[c] == yo[c])) {
                yo[c] = v;
                ao[c] = base + off + c;
              }
            }
          } else {
            // The same choice as a select on every lane (a NaN wins; once taken it stays, as no
            // comparison with it is true), so the loop vectorises.
            const float* __restrict xr = xp;
            float* __restrict yr = yo;
            for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] > yr[c] || xr[c] != xr[c] ? xr[c] : yr[c];
          }
        }
    }
}

// dx_img[H*W*C] = 0, then dy values added at their argmax cell (global indices, image starts at base).
void scatter_image(const float* dy, const int64_t* arg, int64_t count, int64_t base, int64_t image_size, float* dx,
                   const char* who) {
  std::fill_n(dx, image_size, 0.f);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t at = arg[i] - base;
    MINIDL_CHECK(at >= 0 && at < image_size, ValueError,
                 "{}: argmax index {} at output position {} lies outside its image [{}, {})", who, arg[i], i, base,
                 base + image_size);
    dx[at] += dy[i];
  }
}

}  // namespace

int64_t pool_output_length(int64_t in, int64_t k, bool same_padding, int64_t stride) {
  MINIDL_CHECK(k >= 1 && stride >= 1 && in >= -1, ValueError,
               "pool_output_length: expected pool size >= 1, stride >= 1 and input length >= 0 (or -1 for unknown), "
               "received pool size {}, stride {}, input length {}",
               k, stride, in);
  if (in == -1) return -1;
  if (same_padding) return (in + stride - 1) / stride;
  MINIDL_CHECK(in >= k, ValueError,
               "pool_output_length: a pool window of {} does not fit an input of length {} with \"valid\" padding", k,
               in);
  return (in - k) / stride + 1;
}

Pool2DGeometry make_pool_geometry(int64_t N, int64_t H, int64_t W, int64_t C, int64_t KH, int64_t KW, int64_t SH,
                                  int64_t SW, bool same_padding) {
  MINIDL_CHECK(N >= 0 && C >= 0 && H >= 1 && W >= 1, ValueError,
               "make_pool_geometry: expected input (N, H, W, C) with N, C >= 0 and H, W >= 1, received ({}, {}, {}, {})",
               N, H, W, C);
  Pool2DGeometry g{.N = N, .H = H, .W = W, .C = C, .KH = KH, .KW = KW, .SH = SH, .SW = SW};
  g.OH = pool_output_length(H, KH, same_padding, SH);
  g.OW = pool_output_length(W, KW, same_padding, SW);
  if (same_padding) {
    const int64_t ph = std::max<int64_t>((g.OH - 1) * SH + KH - H, 0);
    const int64_t pw = std::max<int64_t>((g.OW - 1) * SW + KW - W, 0);
    g.pad_top = ph / 2;
    g.pad_bottom = ph - ph / 2;
    g.pad_left = pw / 2;
    g.pad_right = pw - pw / 2;
  }
  return g;
}

void max_pool2d(const float* x, const Pool2DGeometry& g, float* y, int64_t* argmax) {
  check_geometry(g, "max_pool2d");
  const int64_t in_img = g.H * g.W * g.C, out_img = g.OH * g.OW * g.C;
  if (g.N * out_img == 0) return;
  check_buffers(x && y, "max_pool2d");
  for_each_image(g.N, out_img * g.KH * g.KW, [&](int64_t n) {
    if (argmax)
      max_image<true>(x + n * in_img, g, y + n * out_img, argmax + n * out_img, n * in_img);
    else
      max_image<false>(x + n * in_img, g, y + n * out_img, nullptr, 0);
  });
}

void max_pool2d_backward(const float* dy, const int64_t* argmax, const Pool2DGeometry& g, float* dx) {
  check_geometry(g, "max_pool2d_backward");
  const int64_t in_img = g.H * g.W * g.C, out_img = g.OH * g.OW * g.C;
  if (g.N * in_img == 0) return;
  check_buffers(dx && ((dy && argmax) || out_img == 0), "max_pool2d_backward");
  for_each_image(g.N, out_img, [&](int64_t n) {
    scatter_image(dy + n * out_img, argmax + n * out_img, out_img, n * in_img, in_img, dx + n * in_img,
                  "max_pool2d_backward");
  });
}

void max_pool2d_backward_from_input(const float* x, const float* dy, const Pool2DGeometry& g, float* dx) {
  check_geometry(g, "max_pool2d_backward_from_input");
  const int64_t in_img = g.H * g.W * g.C, out_img = g.OH * g.OW * g.C;
  if (g.N * in_img == 0) return;
  check_buffers(dx && ((x && dy) || out_img == 0), "max_pool2d_backward_from_input");
  for_each_image(g.N, out_img * g.KH * g.KW, [&](int64_t n) {
    // Scratch per image: the forward values are recomputed only to find the argmax.
    std::vector<float> y(out_img);
    std::vector<int64_t> arg(out_img);
    max_image<true>(x + n * in_img, g, y.data(), arg.data(), 0);
    scatter_image(dy + n * out_img, arg.data(), out_img, 0, in_img, dx + n * in_img,
                  "max_pool2d_backward_from_input");
  });
}

void avg_pool2d(const float* x, const Pool2DGeometry& g, float* y) {
  check_geometry(g, "avg_pool2d");
  const int64_t in_img = g.H * g.W * g.C, out_img = g.OH * g.OW * g.C, C = g.C;
  if (g.N * out_img == 0) return;
  check_buffers(x && y, "avg_pool2d");
  for_each_image(g.N, out_img * g.KH * g.KW, [&](int64_t n) {
    const float* xi = x + n * in_img;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const Window win = window_at(g, oh, ow);
        float* yo = y + n * out_img + (oh * g.OW + ow) * C;
        std::fill_n(yo, C, 0.f);
        for (int64_t h = win.hs; h < win.he; ++h)
          for (int64_t w = win.ws; w < win.we; ++w) {
            const float* xp = xi + (h * g.W + w) * C;
            for (int64_t c = 0; c < C; ++c) yo[c] += xp[c];
          }
        const float inv = 1.f / static_cast<float>(win.count());
        for (int64_t c = 0; c < C; ++c) yo[c] *= inv;
      }
  });
}

void avg_pool2d_backward(const float* dy, const Pool2DGeometry& g, float* dx) {
  check_geometry(g, "avg_pool2d_backward");
  const int64_t in_img = g.H * g.W * g.C, out_img = g.OH * g.OW * g.C, C = g.C;
  if (g.N * in_img == 0) return;
  check_buffers(dx && (dy || out_img == 0), "avg_pool2d_backward");
  for_each_image(g.N, out_img * g.KH * g.KW, [&](int64_t n) {
    float* dxi = dx + n * in_img;
    std::fill_n(dxi, in_img, 0.f);
    std::vector<float> share(C);
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const Window win = window_at(g, oh, ow);
        const float* dyo = dy + n * out_img + (oh * g.OW + ow) * C;
        const float inv = 1.f / static_cast<float>(win.count());
        for (int64_t c = 0; c < C; ++c) share[c] = dyo[c] * inv;
        for (int64_t h = win.hs; h < win.he; ++h)
          for (int64_t w = win.ws; w < win.we; ++w) {
            float* dxp = dxi + (h * g.W + w) * C;
            for (int64_t c = 0; c < C; ++c) dxp[c] += share[c];
          }
      }
  });
}

}  // namespace minidl::ops
