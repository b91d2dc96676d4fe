// ops/im2col.cpp — conv geometry (output sizes, TensorFlow's "same" padding) and the
// im2col/col2im row loops.
#include "ops/im2col.h"

#include <algorithm>
#include <cstring>

#include "core/errors.h"

namespace minidl::ops {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }  // a >= 0, b > 0

// memcpy's call overhead dominates for the 1-4 channel runs of a first conv
// layer, so short runs are copied by a loop the compiler unrolls.
template <class T>
inline void copy_run(const T* src, int64_t n, T* dst) {
  if (n <= 8) {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
  } else {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(T));
  }
}

// Most runs are empty (no padding); skipping them avoids a memset call each.
template <class T>
inline void zero_run(T* dst, int64_t n) {
  if (n > 0) std::fill_n(dst, n, T{0});
}

inline void add_run(const float* src, int64_t n, float* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// The kernel columns [lo, hi) whose taps land inside the image for an output
// column whose first tap is at input column iw0. Everything outside is padding.
struct TapRange {
  int64_t lo, hi;
};
inline TapRange valid_taps(int64_t i0, int64_t len, int64_t k, int64_t d) {
  const int64_t lo = std::min(k, i0 >= 0 ? int64_t{0} : ceil_div(-i0, d));
  const int64_t hi = std::clamp<int64_t>(len - i0 > 0 ? ceil_div(len - i0, d) : 0, lo, k);
  return {lo, hi};
}

// How one group's rows of the unfolded matrix are laid out: K = KH*KW*CG
// columns, a kernel row of rowK = KW*CG of them. With undilated columns and
// all channels, a kernel row's in-image taps are one contiguous run of x
// (one_run), moved at once.
struct RowLayout {
  int64_t K, rowK;
  bool one_run;
};
inline RowLayout row_layout(const Conv2DGeometry& g, int64_t CG) {
  return {g.KH * g.KW * CG, g.KW * CG, g.DW == 1 && CG == g.C};
}

// The receptive field of output pixel p = oh*OW + ow: the input position
// (ih0, iw0) of its first tap (negative inside the padding) and its kernel
// columns inside the image.
struct Window {
  int64_t ih0, iw0;
  TapRange kw;
};
inline Window window_of(const Conv2DGeometry& g, int64_t p) {
  const int64_t oh = p / g.OW, ow = p % g.OW;
  const int64_t iw0 = ow * g.SW - g.pad_left;
  return {oh * g.SH - g.pad_top, iw0, valid_taps(iw0, g.W, g.KW, g.DW)};
}

}  // namespace

void check_length_arguments(int64_t in, int64_t k, int64_t stride, int64_t dilation, const char* who) {
  MINIDL_CHECK(k >= 1 && stride >= 1 && dilation >= 1, ValueError,
               "{}: expected kernel, stride and dilation >= 1, received {}, {}, {}", who, k, stride, dilation);
  MINIDL_CHECK(in >= -1, ValueError, "{}: expected an input length >= 0 (or -1 for None), received {}", who, in);
}

int64_t conv_output_length(int64_t in, int64_t k, bool same_padding, int64_t stride, int64_t dilation) {
  check_length_arguments(in, k, stride, dilation, "conv_output_length");
  if (in == kNone) return kNone;
  if (same_padding) return ceil_div(in, stride);
  const int64_t span = in - (k - 1) * dilation;  // positions where the dilated kernel fits
  return span > 0 ? ceil_div(span, stride) : 0;
}

Conv2DGeometry make_conv_geometry(int64_t N, int64_t H, int64_t W, int64_t C, int64_t KH, int64_t KW, int64_t SH,
                                  int64_t SW, int64_t DH, int64_t DW, bool same_padding) {
  MINIDL_CHECK(N >= 0 && H >= 1 && W >= 1 && C >= 1, ValueError,
               "conv geometry: expected an input (N, H, W, C) with N >= 0 and H, W, C >= 1, received ({}, {}, {}, {})",
               N, H, W, C);
  MINIDL_CHECK(KH >= 1 && KW >= 1, ValueError, "conv geometry: expected kernel_size >= 1, received ({}, {})", KH, KW);
  MINIDL_CHECK(SH >= 1 && SW >= 1, ValueError, "conv geometry: expected strides >= 1, received ({}, {})", SH, SW);
  MINIDL_CHECK(DH >= 1 && DW >= 1, ValueError, "conv geometry: expected dilation_rate >= 1, received ({}, {})", DH,
               DW);
  const int64_t EKH = (KH - 1) * DH + 1, EKW = (KW - 1) * DW + 1;  // dilated kernel extent
  MINIDL_CHECK(same_padding || (H >= EKH && W >= EKW), ValueError,
               "conv geometry: with padding 'valid' the input ({}, {}) is smaller than the dilated kernel ({}, {}) "
               "(kernel_size ({}, {}), dilation_rate ({}, {}))",
               H, W, EKH, EKW, KH, KW, DH, DW);
  Conv2DGeometry g;
  g.N = N, g.H = H, g.W = W, g.C = C;
  g.KH = KH, g.KW = KW, g.SH = SH, g.SW = SW, g.DH = DH, g.DW = DW;
  g.OH = conv_output_length(H, KH, same_padding, SH, DH);
  g.OW = conv_output_length(W, KW, same_padding, SW, DW);
  if (same_padding) {
    // TensorFlow puts the odd padding pixel after the image, not before.
    const int64_t ph = std::max<int64_t>((g.OH - 1) * SH + EKH - H, 0);
    const int64_t pw = std::max<int64_t>((g.OW - 1) * SW + EKW - W, 0);
    g.pad_top = ph / 2, g.pad_bottom = ph - ph / 2;
    g.pad_left = pw / 2, g.pad_right = pw - pw / 2;
  }
  return g;
}

namespace {

// The unfolding moves elements without reading them: one body for float32 and bfloat16 patterns.
template <class T>
void unfold_rows(const T* x, const Conv2DGeometry& g, int64_t c0, int64_t CG, int64_t p0, int64_t p1, T* col) {
  const RowLayout L = row_layout(g, CG);
  for (int64_t p = p0; p < p1; ++p) {
    const Window win = window_of(g, p);
    const TapRange kw = win.kw;
    T* row = col + (p - p0) * L.K;  // [KH, KW, CG]
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      T* dst = row + kh * L.rowK;
      const int64_t ih = win.ih0 + kh * g.DH;
      if (ih < 0 || ih >= g.H || kw.lo == kw.hi) {
        zero_run(dst, L.rowK);
        continue;
      }
      // An index, not a pointer: for a padded column it is left of the image.
      const int64_t base = (ih * g.W + win.iw0) * g.C + c0;
      zero_run(dst, kw.lo * CG);
      if (L.one_run) {
        copy_run(x + (base + kw.lo * g.C), (kw.hi - kw.lo) * CG, dst + kw.lo * CG);
      } else {
        for (int64_t k = kw.lo; k < kw.hi; ++k) copy_run(x + (base + k * g.DW * g.C), CG, dst + k * CG);
      }
      zero_run(dst + kw.hi * CG, (g.KW - kw.hi) * CG);
    }
  }
}

}  // namespace

void im2col_rows(const float* x, const Conv2DGeometry& g, int64_t c0, int64_t CG, int64_t p0, int64_t p1, float* col) {
  unfold_rows(x, g, c0, CG, p0, p1, col);
}

void im2col_rows(const uint16_t* x, const Conv2DGeometry& g, int64_t c0, int64_t CG, int64_t p0, int64_t p1,
                 uint16_t* col) {
  unfold_rows(x, g, c0, CG, p0, p1, col);
}

void col2im_rows(const float* col, const Conv2DGeometry& g, int64_t c0, int64_t CG, int64_t p0, int64_t p1,
                 float* dx) {
  const RowLayout L = row_layout(g, CG);
  for (int64_t p = p0; p < p1; ++p) {
    const Window win = window_of(g, p);
    const TapRange kw = win.kw;
    if (kw.lo == kw.hi) continue;
    const float* row = col + (p - p0) * L.K;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = win.ih0 + kh * g.DH;
      if (ih < 0 || ih >= g.H) continue;  // padding rows receive nothing
      const float* src = row + kh * L.rowK;
      const int64_t base = (ih * g.W + win.iw0) * g.C + c0;
      if (L.one_run) {
        add_run(src + kw.lo * CG, (kw.hi - kw.lo) * CG, dx + (base + kw.lo * g.C));
      } else {
        for (int64_t k = kw.lo; k < kw.hi; ++k) add_run(src + k * CG, CG, dx + (base + k * g.DW * g.C));
      }
    }
  }
}

void im2col(const float* x, const Conv2DGeometry& g, int64_t c0, int64_t CG, float* col) {
  im2col_rows(x, g, c0, CG, 0, g.OH * g.OW, col);
}

void col2im(const float* col, const Conv2DGeometry& g, int64_t c0, int64_t CG, float* dx) {
  col2im_rows(col, g, c0, CG, 0, g.OH * g.OW, dx);
}

}  // namespace minidl::ops
