// ops/spatial.cpp — padding, cropping, upsampling and concatenation kernels (ops/spatial.h).
//
// All of them copy runs of contiguous floats; the 2-D ones split the batch
// across threads by whole images, each output image written by one chunk.
#include "ops/spatial.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/parallel_grain.h"

namespace minidl::ops {

namespace {

// body(b) for every image b < B, images split across threads; a chunk carries
// the grain of memory-bound work (each image moves floats_per_image floats).
template <class Body>
void for_each_image(int64_t B, int64_t floats_per_image, Body&& body) {
  for_each_item(B, Cost::kMemory, floats_per_image, body);
}

// Copies the [rows, cols, C] window of src (row stride src_W) at (src_r, src_c)
// to dst (row stride dst_W) at (dst_r, dst_c), for every image.
void copy_window(const Tensor& src, Tensor& dst, int64_t rows, int64_t cols, int64_t src_r, int64_t src_c,
                 int64_t dst_r, int64_t dst_c) {
  const int64_t SH = src.dim(1), SW = src.dim(2), C = src.dim(3);
  const int64_t DH = dst.dim(1), DW = dst.dim(2);
  const float* s = src.data();
  float* d = dst.data();
  for_each_image(src.dim(0), DH * DW * C, [&](int64_t b) {
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(d + ((b * DH + dst_r + r) * DW + dst_c) * C, s + ((b * SH + src_r + r) * SW + src_c) * C,
                  sizeof(float) * static_cast<size_t>(cols * C));
  });
}

// One axis of TensorFlow's bilinear interpolation (resize_bilinear_op.cc,
// HalfPixelScaler): the two source indices and the weight of the upper one.
struct Interp {
  int64_t lower, upper;
  float lerp;
};

std::vector<Interp> interpolation(int64_t in, int64_t out) {
  // TF computes the scale and the source coordinate in float32; so does this,
  // so the weights match its output bit for bit on the usual sizes.
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

// The bilinear sampling grid between an H x W and an OH x OW image, both with
// C channels: visit(image, o, top_left, top_right, bottom_left, bottom_right,
// yl, xl) for every output pixel o = (b*OH + i)*OW + j, where the four offsets
// (in floats, channel 0) are its source pixels in the H x W image and yl, xl
// the weights of the lower row and right column.
template <class Visit>
void bilinear_grid(int64_t B, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t C, Visit&& visit) {
  const auto ys = interpolation(H, OH), xs = interpolation(W, OW);
  for_each_image(B, OH * OW * C, [&](int64_t b) {
    for (int64_t i = 0; i < OH; ++i) {
      const int64_t top = (b * H + ys[i].lower) * W * C, bot = (b * H + ys[i].upper) * W * C;
      for (int64_t j = 0; j < OW; ++j) {
        const int64_t l = xs[j].lower * C, r = xs[j].upper * C;
        visit((b * OH + i) * OW + j, top + l, top + r, bot + l, bot + r, ys[i].lerp, xs[j].lerp);
      }
    }
  });
}

// Sizes of a concatenation or slice along one axis: `outer` runs per tensor,
// each `inner` floats per index of the axis.
struct AxisRuns {
  int64_t outer = 1, inner = 1;
};

AxisRuns axis_runs(const Shape& s, int ax) {
  AxisRuns a;
  for (int d = 0; d < ax; ++d) a.outer *= s[d];
  for (int d = ax + 1; d < static_cast<int>(s.size()); ++d) a.inner *= s[d];
  return a;
}

// dst[o * dst_stride + k] = src[o * src_stride + k] for o < outer, k < run.
void copy_runs(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t outer, int64_t run) {
  if (run == 0) return;
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(dst + o * dst_stride, src + o * src_stride, sizeof(float) * static_cast<size_t>(run));
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
  for_each_image(B, OH * OW * C, [&](int64_t b) {
    for (int64_t h = 0; h < H; ++h) {
      // Build the first output row of this input row, then repeat it SH - 1 times.
      float* row = ys + (b * OH + h * SH) * OW * C;
      for (int64_t w = 0; w < W; ++w)
        for (int64_t k = 0; k < SW; ++k)
          std::memcpy(row + (w * SW + k) * C, xs + ((b * H + h) * W + w) * C, sizeof(float) * size_t(C));
      for (int64_t k = 1; k < SH; ++k) std::memcpy(row + k * OW * C, row, sizeof(float) * size_t(OW * C));
    }
  });
  return y;
}

Tensor upsample_nearest2d_backward(const Tensor& dy, int64_t SH, int64_t SW) {
  const int64_t B = dy.dim(0), OH = dy.dim(1), OW = dy.dim(2), C = dy.dim(3);
  const int64_t H = OH / SH, W = OW / SW;
  Tensor dx = Tensor::zeros({B, H, W, C});  // [B, H, W, C]
  const float* g = dy.data();
  float* d = dx.data();
  for_each_image(B, OH * OW * C, [&](int64_t b) {
    for (int64_t i = 0; i < OH; ++i)
      for (int64_t j = 0; j < OW; ++j) {
        const float* src = g + ((b * OH + i) * OW + j) * C;
        float* dst = d + ((b * H + i / SH) * W + j / SW) * C;
        for (int64_t c = 0; c < C; ++c) dst[c] += src[c];
      }
  });
  return dx;
}

Tensor resize_bilinear2d(const Tensor& x, int64_t OH, int64_t OW) {
  const int64_t B = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
  Tensor y({B, OH, OW, C});  // [B, OH, OW, C]
  const float* in = x.data();
  float* out = y.data();
  bilinear_grid(B, H, W, OH, OW, C,
                [&](int64_t o, int64_t tl, int64_t tr, int64_t bl, int64_t br, float yl, float xl) {
                  float* dst = out + o * C;
                  for (int64_t c = 0; c < C; ++c) {
                    // The same association as TF's compute_lerp, so rounding agrees.
                    const float t = in[tl + c] + (in[tr + c] - in[tl + c]) * xl;
                    const float u = in[bl + c] + (in[br + c] - in[bl + c]) * xl;
                    dst[c] = t + (u - t) * yl;
                  }
                });
  return y;
}

Tensor resize_bilinear2d_backward(const Tensor& dy, int64_t H, int64_t W) {
  const int64_t B = dy.dim(0), OH = dy.dim(1), OW = dy.dim(2), C = dy.dim(3);
  Tensor dx = Tensor::zeros({B, H, W, C});  // [B, H, W, C]
  const float* g = dy.data();
  float* d = dx.data();
  bilinear_grid(B, H, W, OH, OW, C,
                [&](int64_t o, int64_t tl, int64_t tr, int64_t bl, int64_t br, float yl, float xl) {
                  const float* src = g + o * C;
                  for (int64_t c = 0; c < C; ++c) {
                    d[tl + c] += src[c] * (1 - yl) * (1 - xl);
                    d[tr + c] += src[c] * (1 - yl) * xl;
                    d[bl + c] += src[c] * yl * (1 - xl);
                    d[br + c] += src[c] * yl * xl;
                  }
                });
  return dx;
}

Tensor concat(std::span<const Tensor> xs, int axis) {
  MINIDL_CHECK(!xs.empty(), ValueError, "concat: expected at least one input, received none");
  const Shape& first = xs[0].shape();
  const int rank = static_cast<int>(first.size());
  MINIDL_CHECK(rank > 0, ValueError, "concat: inputs must have rank >= 1, received shape {}", shape_str(first));
  const int ax = normalize_axis(axis, rank);
  Shape out_shape = first;
  out_shape[ax] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Shape& s = xs[i].shape();
    bool ok = static_cast<int>(s.size()) == rank;
    for (int d = 0; ok && d < rank; ++d) ok = d == ax || s[d] == first[d];
    MINIDL_CHECK(ok, ValueError,
                 "concat: input {} has shape {}, incompatible with input 0's shape {} for concatenation on axis {}",
                 i, shape_str(s), shape_str(first), axis);
    out_shape[ax] += s[ax];
  }
  Tensor y(out_shape);  // [..., sum of shape[axis], ...]
  const AxisRuns runs = axis_runs(out_shape, ax);
  if (y.numel() == 0) return y;
  const int64_t out_run = out_shape[ax] * runs.inner;
  int64_t offset = 0;  // floats of the inputs before this one, per outer index
  for (const Tensor& x : xs) {
    const int64_t run = x.dim(ax) * runs.inner;
    copy_runs(x.data(), run, y.data() + offset, out_run, runs.outer, run);
    offset += run;
  }
  return y;
}

Tensor slice_axis(const Tensor& x, int axis, int64_t begin, int64_t length) {
  const int ax = normalize_axis(axis, x.rank());
  const int64_t size = x.dim(ax);
  MINIDL_CHECK(begin >= 0 && length >= 0 && begin + length <= size, ValueError,
               "slice_axis: [{}, {}) is not inside axis {} of shape {}", begin, begin + length, axis,
               shape_str(x.shape()));
  Shape out_shape = x.shape();
  out_shape[ax] = length;
  Tensor y(out_shape);
  const AxisRuns runs = axis_runs(out_shape, ax);
  if (y.numel() == 0) return y;
  copy_runs(x.data() + begin * runs.inner, size * runs.inner, y.data(), length * runs.inner, runs.outer,
            length * runs.inner);
  return y;
}

}  // namespace minidl::ops
