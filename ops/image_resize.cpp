// ops/image_resize.cpp — tf.image.resize (antialias off) on one HWC image (ops/image_resize.h).
//
// Every method is separable: the sampling along each axis is a short list of
// (source index, weight) taps computed once per call, then each output pixel
// blends the taps of its row and column. TensorFlow computes the scale
// (in / out) and the source coordinates in float32; so does this, so bilinear
// and nearest pick the same source pixels as TF on every size.
//
//   bilinear  ResizeBilinear, half_pixel_centers: two taps at
//             (o + 0.5) * scale - 0.5, indices clamped to the image.
//   nearest   ResizeNearestNeighbor, half_pixel_centers: floor((o + 0.5) * scale),
//             clamped to [0, in - 1].
//   bicubic   ResizeBicubic, half_pixel_centers: Keys's cubic kernel (a = -0.5)
//             at the four neighbours of (o + 0.5) * scale - 0.5, read from a
//             1024-step table as TF reads it; neighbours outside the image get
//             weight 0 and the rest are renormalized to sum 1.
//   area      ResizeArea: output pixel o averages the input over
//             [o * scale, (o + 1) * scale), each input pixel weighted by its
//             overlap with that box.
//
// One call runs on the calling thread: images are resized one per worker (the
// image dataset's decoder thread, a layer's per-image loop).
#include "ops/image_resize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"

namespace minidl::ops {

namespace {

// One output coordinate's source taps along an axis.
struct Taps {
  int64_t first = 0;  // index into the flat tap arrays
  int64_t count = 0;
};

struct AxisSampling {
  std::vector<Taps> out;         // per output coordinate
  std::vector<int64_t> index;    // source index of each tap
  std::vector<float> weight;     // weight of each tap
  void add(int64_t i, float w) {
    index.push_back(i);
    weight.push_back(w);
  }
};

int64_t clamp_index(int64_t i, int64_t n) { return std::min(n - 1, std::max<int64_t>(0, i)); }

AxisSampling nearest_axis(int64_t in, int64_t out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  AxisSampling s;
  s.out.resize(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    const auto i = static_cast<int64_t>(std::floor((static_cast<float>(o) + 0.5f) * scale));
    s.out[o] = {static_cast<int64_t>(s.index.size()), 1};
    s.add(clamp_index(i, in), 1.0f);
  }
  return s;
}

AxisSampling bilinear_axis(int64_t in, int64_t out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  AxisSampling s;
  s.out.resize(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    const float at = (static_cast<float>(o) + 0.5f) * scale - 0.5f;
    const float fl = std::floor(at);
    const float lerp = at - fl;
    s.out[o] = {static_cast<int64_t>(s.index.size()), 2};
    s.add(clamp_index(static_cast<int64_t>(fl), in), 1.0f - lerp);
    s.add(clamp_index(static_cast<int64_t>(std::ceil(at)), in), lerp);
  }
  return s;
}

// Keys's cubic convolution kernel (a = -0.5) sampled at 1025 points of [0, 1]
// for |x| <= 1 (even entries) and of [1, 2] (odd entries), as TF tabulates it.
constexpr int64_t kCubicTableSize = 1024;

const std::vector<float>& keys_cubic_table() {
  static const std::vector<float> table = [] {
    const double a = -0.5;
    std::vector<float> t(static_cast<size_t>((kCubicTableSize + 1) * 2));
    for (int64_t i = 0; i <= kCubicTableSize; ++i) {
      float x = static_cast<float>(static_cast<double>(i) / kCubicTableSize);
      t[i * 2] = static_cast<float>(((a + 2) * x - (a + 3)) * x * x + 1);
      x += 1.0f;
      t[i * 2 + 1] = static_cast<float>(((a * x - 5 * a) * x + 8 * a) * x - 4 * a);
    }
    return t;
  }();
  return table;
}

AxisSampling bicubic_axis(int64_t in, int64_t out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const std::vector<float>& table = keys_cubic_table();
  AxisSampling s;
  s.out.resize(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    const float at = (static_cast<float>(o) + 0.5f) * scale - 0.5f;
    const auto base = static_cast<int64_t>(std::floor(at));
    const float delta = at - static_cast<float>(base);
    const int64_t offset = std::lrint(delta * static_cast<float>(kCubicTableSize));
    const float w[4] = {table[offset * 2 + 1], table[offset * 2], table[(kCubicTableSize - offset) * 2],
                        table[(kCubicTableSize - offset) * 2 + 1]};
    float kept[4];
    float sum = 0;
    for (int k = 0; k < 4; ++k) {
      const int64_t i = base - 1 + k;
      kept[k] = (i >= 0 && i < in) ? w[k] : 0.0f;
      sum += kept[k];
    }
    const float norm = std::abs(sum) >= 1000.0f * std::numeric_limits<float>::min() ? 1.0f / sum : 1.0f;
    s.out[o] = {static_cast<int64_t>(s.index.size()), 4};
    for (int k = 0; k < 4; ++k) s.add(clamp_index(base - 1 + k, in), kept[k] * norm);
  }
  return s;
}

AxisSampling area_axis(int64_t in, int64_t out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  AxisSampling s;
  s.out.resize(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    const float lo = static_cast<float>(o) * scale;
    const float hi = static_cast<float>(o + 1) * scale;
    const auto first = static_cast<int64_t>(std::floor(lo));
    const auto end = static_cast<int64_t>(std::ceil(hi));
    s.out[o] = {static_cast<int64_t>(s.index.size()), end - first};
    for (int64_t i = first; i < end; ++i) {
      const float overlap = std::min(static_cast<float>(i + 1), hi) - std::max(static_cast<float>(i), lo);
      s.add(clamp_index(i, in), overlap / scale);
    }
  }
  return s;
}

AxisSampling sampling(Interpolation interpolation, int64_t in, int64_t out) {
  switch (interpolation) {
    case Interpolation::Nearest: return nearest_axis(in, out);
    case Interpolation::Bilinear: return bilinear_axis(in, out);
    case Interpolation::Bicubic: return bicubic_axis(in, out);
    case Interpolation::Area: return area_axis(in, out);
  }
  throw ValueError("resize_image: unknown interpolation");
}

}  // namespace

Interpolation parse_interpolation(const std::string& name) {
  if (name == "nearest") return Interpolation::Nearest;
  if (name == "bilinear") return Interpolation::Bilinear;
  if (name == "bicubic") return Interpolation::Bicubic;
  if (name == "area") return Interpolation::Area;
  // Keras's message, listing the methods minidl implements (lanczos3/5 are not).
  throw ValueError(fmt::format(
      "Invalid value for argument `interpolation`. Expected of one ('bilinear', 'nearest', 'bicubic', 'area'). "
      "Received: interpolation={}",
      name));
}

const char* interpolation_name(Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::Nearest: return "nearest";
    case Interpolation::Bilinear: return "bilinear";
    case Interpolation::Bicubic: return "bicubic";
    case Interpolation::Area: return "area";
  }
  return "?";
}

void resize_image(const float* src, int64_t H, int64_t W, int64_t C, float* dst, int64_t OH, int64_t OW,
                  Interpolation interpolation) {
  MINIDL_CHECK(H > 0 && W > 0 && C > 0 && OH > 0 && OW > 0, ValueError,
               "resize_image: sizes must be positive, received image {}x{}x{} resized to {}x{}", H, W, C, OH, OW);
  if (H == OH && W == OW) {
    std::copy(src, src + H * W * C, dst);
    return;
  }
  const AxisSampling rows = sampling(interpolation, H, OH);
  const AxisSampling cols = sampling(interpolation, W, OW);
  if (interpolation == Interpolation::Nearest) {
    for (int64_t oy = 0; oy < OH; ++oy) {
      const float* srow = src + rows.index[rows.out[oy].first] * W * C;
      float* drow = dst + oy * OW * C;
      for (int64_t ox = 0; ox < OW; ++ox) {
        const float* p = srow + cols.index[cols.out[ox].first] * C;
        std::copy(p, p + C, drow + ox * C);
      }
    }
    return;
  }
  // Rows first: each output row is the weighted sum of its source rows (all W
  // columns), then each output pixel the weighted sum of that row's columns.
  // The first tap assigns and the others add, so the loops run straight over
  // contiguous floats and vectorize.
  std::vector<float> row(static_cast<size_t>(W * C));
  const int64_t WC = W * C;
  for (int64_t oy = 0; oy < OH; ++oy) {
    const Taps ty = rows.out[oy];
    float* r = row.data();
    {
      const float w = rows.weight[ty.first];
      const float* s = src + rows.index[ty.first] * WC;
      for (int64_t i = 0; i < WC; ++i) r[i] = w * s[i];
    }
    for (int64_t t = ty.first + 1; t < ty.first + ty.count; ++t) {
      const float w = rows.weight[t];
      if (w == 0.0f) continue;
      const float* s = src + rows.index[t] * WC;
      for (int64_t i = 0; i < WC; ++i) r[i] += w * s[i];
    }
    float* drow = dst + oy * OW * C;
    if (C == 1) {
      for (int64_t ox = 0; ox < OW; ++ox) {
        const Taps tx = cols.out[ox];
        float v = 0.0f;
        for (int64_t t = tx.first; t < tx.first + tx.count; ++t) v += cols.weight[t] * r[cols.index[t]];
        drow[ox] = v;
      }
      continue;
    }
    for (int64_t ox = 0; ox < OW; ++ox) {
      const Taps tx = cols.out[ox];
      float* d = drow + ox * C;
      const float w0 = cols.weight[tx.first];
      const float* p0 = r + cols.index[tx.first] * C;
      for (int64_t c = 0; c < C; ++c) d[c] = w0 * p0[c];
      for (int64_t t = tx.first + 1; t < tx.first + tx.count; ++t) {
        const float w = cols.weight[t];
        const float* p = r + cols.index[t] * C;
        for (int64_t c = 0; c < C; ++c) d[c] += w * p[c];
      }
    }
  }
}

}  // namespace minidl::ops
