// ops/image_transform.cpp — projective image transform with Keras's fill modes and interpolations.
#include "ops/image_transform.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"

namespace minidl::ops {

namespace {

float clamp_to(float v, int64_t n) { return std::clamp(v, 0.f, static_cast<float>(n - 1)); }

// The mapping arithmetic is float, as TensorFlow's kernel does it, so that
// coordinates land on the same side of each pixel boundary.
float reflect(float v, int64_t n) {
  const float len = static_cast<float>(n);
  const float period = 2 * len;
  if (v < 0) {
    if (n <= 1) return 0.f;
    v += period * std::trunc(-v / period);  // now in (-2n, 0]
    v = v < -len ? v + period : -v - 1;
  } else if (v > len - 1) {
    if (n <= 1) return 0.f;
    v -= period * std::trunc(v / period);  // now in [0, 2n)
    if (v >= len) v = period - v - 1;
  }
  return clamp_to(v, n);
}

// Periodic: v mod n. TensorFlow's kernel counts whole periods by n - 1 (and
// so maps, e.g., -(n - 1) to n - 1 instead of 1); the plain period is what
// Keras documents ("wrapping around to the opposite edge") and agrees with it
// for shifts shorter than n - 1.
float wrap(float v, int64_t n) {
  if (v >= 0 && v <= static_cast<float>(n - 1)) return v;
  if (n <= 1) return 0.f;
  const float len = static_cast<float>(n);
  v -= len * std::floor(v / len);  // now in [0, n)
  return clamp_to(v, n);
}

struct Reader {
  const float* src;
  int64_t H, W, C;
  float fill;
  float at(int64_t y, int64_t x, int64_t c) const {
    return (y >= 0 && y < H && x >= 0 && x < W) ? src[(y * W + x) * C + c] : fill;
  }
};

}  // namespace

float map_fill_coordinate(float v, int64_t n, FillMode mode) {
  switch (mode) {
    case FillMode::Reflect: return reflect(v, n);
    case FillMode::Wrap: return wrap(v, n);
    case FillMode::Nearest: return clamp_to(v, n);
    case FillMode::Constant: return v;
  }
  return v;
}

void transform_image(const float* src, int64_t H, int64_t W, int64_t C, float* dst,
                     const ProjectiveTransform& t, Interpolation interpolation, FillMode fill_mode, float fill_value) {
  if (interpolation != Interpolation::Nearest && interpolation != Interpolation::Bilinear)
    raise<ValueError>("transform_image: interpolation must be \"nearest\" or \"bilinear\" (Keras's affine_transform "
                      "offers no other)");
  const Reader in{src, H, W, C, fill_value};
  for (int64_t y = 0; y < H; ++y) {
    for (int64_t x = 0; x < W; ++x) {
      float* out = dst + (y * W + x) * C;
      const float fx = static_cast<float>(x), fy = static_cast<float>(y);
      const float k = t[6] * fx + t[7] * fy + 1.f;
      if (k == 0) {
        std::fill(out, out + C, fill_value);
        continue;
      }
      const float sx = map_fill_coordinate((t[0] * fx + t[1] * fy + t[2]) / k, W, fill_mode);
      const float sy = map_fill_coordinate((t[3] * fx + t[4] * fy + t[5]) / k, H, fill_mode);
      // Past one pixel outside (only Constant leaves such coordinates, or a
      // non-finite one) every neighbour reads fill_value; this also keeps the
      // integer conversions below in range.
      if (!(sx > -1.f && sx < static_cast<float>(W) && sy > -1.f && sy < static_cast<float>(H))) {
        std::fill(out, out + C, fill_value);
        continue;
      }
      if (interpolation == Interpolation::Nearest) {
        const auto iy = static_cast<int64_t>(std::round(sy)), ix = static_cast<int64_t>(std::round(sx));
        for (int64_t c = 0; c < C; ++c) out[c] = in.at(iy, ix, c);
        continue;
      }
      const float y0 = std::floor(sy), x0 = std::floor(sx);
      const float wy1 = sy - y0, wy0 = (y0 + 1) - sy;
      const float wx1 = sx - x0, wx0 = (x0 + 1) - sx;
      const auto iy = static_cast<int64_t>(y0), ix = static_cast<int64_t>(x0);
      for (int64_t c = 0; c < C; ++c) {
        const float top = wx0 * in.at(iy, ix, c) + wx1 * in.at(iy, ix + 1, c);
        const float bottom = wx0 * in.at(iy + 1, ix, c) + wx1 * in.at(iy + 1, ix + 1, c);
        out[c] = wy0 * top + wy1 * bottom;
      }
    }
  }
}

}  // namespace minidl::ops
