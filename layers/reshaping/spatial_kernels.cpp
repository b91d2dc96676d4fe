#include "layers/reshaping/spatial_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/threads.h"

namespace minidl::detail {

namespace {

// Images per parallel chunk: enough that a chunk moves ~32k floats, since
// these kernels are pure copies and a thread wake-up costs more than small ones.
int64_t images_per_chunk(int64_t floats_per_image) {
  return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, floats_per_image));
}

// Copies the [rows, cols, C] window of src (row stride src_W) at (src_r, src_c)
// to dst (row stride dst_W) at (dst_r, dst_c), for every image.
void copy_window(const Tensor& src, Tensor& dst, int64_t rows, int64_t cols, int64_t src_r, int64_t src_c,
                 int64_t dst_r, int64_t dst_c) {
  const int64_t B = src.dim(0), SH = src.dim(1), SW = src.dim(2), C = src.dim(3);
  const int64_t DH = dst.dim(1), DW = dst.dim(2);
  const float* s = src.data();
  float* d = dst.data();
  parallel_for(
      B,
      [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b)
          for (int64_t r = 0; r < rows; ++r)
            std::memcpy(d + ((b * DH + dst_r + r) * DW + dst_c) * C, s + ((b * SH + src_r + r) * SW + src_c) * C,
                        sizeof(float) * static_cast<size_t>(cols * C));
      },
      images_per_chunk(DH * DW * C));
}

// One axis of TensorFlow's bilinear interpolation (resize_bilinear_op.cc,
// HalfPixelScaler): the two source indices and the weight of the upper one.
struct Interp {
  int64_t lower, upper;
  float lerp;
};

std::vector<Interp> interpolation(int64_t in, int64_t out) {
  // TF computes the scale and the source coordinate in float32; so do we, so
  // the weights match its output bit for bit on the usual sizes.
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  std::vector<Interp> w(static_cast<size_t>(out));
  for (int64_t i = 0; i < out; ++i) {
    const float src = (static_cast<float>(i) + 0.5f) * scale - 0.5f;
    const float fl = std::floor(src);
    w[i] = {std::max<int64_t>(static_cast<int64_t>(fl), 0), std::min<int64_t>(static_cast<int64_t>(std::ceil(src)), in - 1),
            src - fl};
  }
  return w;
}

}  // namespace

Tensor zero_pad2d(const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  const int64_t H = x.dim(1), W = x.dim(2);
  Tensor y = Tensor::zeros({x.dim(0), top + H + bottom, left + W + right, x.dim(3)});  // [B, H', W', C]
  copy_window(x, y, H, W, 0, 0, top, left);
  return y;
}

Tensor crop2d(const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  const int64_t OH = x.dim(1) - top - bottom, OW = x.dim(2) - left - right;
  Tensor y({x.dim(0), OH, OW, x.dim(3)});  // [B, OH, OW, C]
  copy_window(x, y, OH, OW, top, left, 0, 0);
  return y;
}

Tensor upsample_nearest2d(const Tensor& x, int64_t SH, int64_t SW) {
  const int64_t B = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
  const int64_t OH = H * SH, OW = W * SW;
  Tensor y({B, OH, OW, C});  // [B, H*SH, W*SW, C]
  const float* xs = x.data();
  float* ys = y.data();
  parallel_for(
      B,
      [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b)
          for (int64_t h = 0; h < H; ++h) {
            // Build the first output row of this input row, then repeat it SH - 1 times.
            float* row = ys + (b * OH + h * SH) * OW * C;
            for (int64_t w = 0; w < W; ++w)
              for (int64_t k = 0; k < SW; ++k)
                std::memcpy(row + (w * SW + k) * C, xs + ((b * H + h) * W + w) * C, sizeof(float) * size_t(C));
            for (int64_t k = 1; k < SH; ++k) std::memcpy(row + k * OW * C, row, sizeof(float) * size_t(OW * C));
          }
      },
      images_per_chunk(OH * OW * C));
  return y;
}

Tensor upsample_nearest2d_backward(const Tensor& dy, int64_t SH, int64_t SW) {
  const int64_t B = dy.dim(0), OH = dy.dim(1), OW = dy.dim(2), C = dy.dim(3);
  const int64_t H = OH / SH, W = OW / SW;
  Tensor dx = Tensor::zeros({B, H, W, C});  // [B, H, W, C]
  const float* g = dy.data();
  float* d = dx.data();
  parallel_for(
      B,
      [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b)
          for (int64_t i = 0; i < OH; ++i)
            for (int64_t j = 0; j < OW; ++j) {
              const float* src = g + ((b * OH + i) * OW + j) * C;
              float* dst = d + ((b * H + i / SH) * W + j / SW) * C;
              for (int64_t c = 0; c < C; ++c) dst[c] += src[c];
            }
      },
      images_per_chunk(OH * OW * C));
  return dx;
}

Tensor resize_bilinear2d(const Tensor& x, int64_t OH, int64_t OW) {
  const int64_t B = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
  const auto ys = interpolation(H, OH), xs = interpolation(W, OW);
  Tensor y({B, OH, OW, C});  // [B, OH, OW, C]
  const float* in = x.data();
  float* out = y.data();
  parallel_for(
      B,
      [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b)
          for (int64_t i = 0; i < OH; ++i) {
            const float* top = in + (b * H + ys[i].lower) * W * C;
            const float* bot = in + (b * H + ys[i].upper) * W * C;
            const float yl = ys[i].lerp;
            for (int64_t j = 0; j < OW; ++j) {
              const int64_t l = xs[j].lower * C, r = xs[j].upper * C;
              const float xl = xs[j].lerp;
              float* o = out + ((b * OH + i) * OW + j) * C;
              for (int64_t c = 0; c < C; ++c) {
                // The same association as TF's compute_lerp, so rounding agrees.
                const float t = top[l + c] + (top[r + c] - top[l + c]) * xl;
                const float u = bot[l + c] + (bot[r + c] - bot[l + c]) * xl;
                o[c] = t + (u - t) * yl;
              }
            }
          }
      },
      images_per_chunk(OH * OW * C));
  return y;
}

Tensor resize_bilinear2d_backward(const Tensor& dy, int64_t H, int64_t W) {
  const int64_t B = dy.dim(0), OH = dy.dim(1), OW = dy.dim(2), C = dy.dim(3);
  const auto ys = interpolation(H, OH), xs = interpolation(W, OW);
  Tensor dx = Tensor::zeros({B, H, W, C});  // [B, H, W, C]
  const float* g = dy.data();
  float* d = dx.data();
  parallel_for(
      B,
      [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b)
          for (int64_t i = 0; i < OH; ++i) {
            float* top = d + (b * H + ys[i].lower) * W * C;
            float* bot = d + (b * H + ys[i].upper) * W * C;
            const float yl = ys[i].lerp;
            for (int64_t j = 0; j < OW; ++j) {
              const int64_t l = xs[j].lower * C, r = xs[j].upper * C;
              const float xl = xs[j].lerp;
              const float* src = g + ((b * OH + i) * OW + j) * C;
              for (int64_t c = 0; c < C; ++c) {
                top[l + c] += src[c] * (1 - yl) * (1 - xl);
                top[r + c] += src[c] * (1 - yl) * xl;
                bot[l + c] += src[c] * yl * (1 - xl);
                bot[r + c] += src[c] * yl * xl;
              }
            }
          }
      },
      images_per_chunk(OH * OW * C));
  return dx;
}

}  // namespace minidl::detail
