// train/image_set.cpp — make_image_set: four classes of two-colour patterns, drawn deterministically.
#include "train/image_set.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"

namespace minidl {

namespace {

// SplitMix64: a tiny generator whose output is fixed by the seed on every
// platform (std::*_distribution results are implementation-defined).
class Draw {
 public:
  explicit Draw(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi), from the top 24 bits (exact in float).
  float uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }

 private:
  uint64_t state_;
};

enum Kind { kHorizontal = 0, kVertical = 1, kDisc = 2, kChecker = 3 };

// One image of class `kind` into out[H * W * 3].
void draw_image(int kind, int64_t H, int64_t W, Draw& draw, float* out) {
  const float side = static_cast<float>(std::min(H, W));
  // The pattern's two colours: one dark, one light, in random order, so the
  // class is in the shape and never in the colour or the brightness.
  float dark[3], light[3];
  for (int ch = 0; ch < 3; ++ch) {
    dark[ch] = draw.uniform(0.0f, 0.3f);
    light[ch] = draw.uniform(0.7f, 1.0f);
  }
  const bool swap = draw.uniform(0.0f, 1.0f) < 0.5f;
  const float* on = swap ? dark : light;
  const float* off = swap ? light : dark;

  const float period = side * draw.uniform(0.15f, 0.3f);
  const float phase_r = draw.uniform(0.0f, period), phase_c = draw.uniform(0.0f, period);
  const float centre_r = H * draw.uniform(0.3f, 0.7f), centre_c = W * draw.uniform(0.3f, 0.7f);
  const float radius = side * draw.uniform(0.2f, 0.35f);

  for (int64_t r = 0; r < H; ++r) {
    for (int64_t c = 0; c < W; ++c) {
      const float fr = (static_cast<float>(r) + phase_r) / period;
      const float fc = (static_cast<float>(c) + phase_c) / period;
      bool lit = false;
      switch (kind) {
        case kHorizontal:
          lit = fr - std::floor(fr) < 0.5f;
          break;
        case kVertical:
          lit = fc - std::floor(fc) < 0.5f;
          break;
        case kDisc:
          lit = std::hypot(r + 0.5f - centre_r, c + 0.5f - centre_c) < radius;
          break;
        default:
          lit = (static_cast<int64_t>(std::floor(fr)) + static_cast<int64_t>(std::floor(fc))) % 2 != 0;
      }
      const float* colour = lit ? on : off;
      float* px = out + (r * W + c) * 3;
      for (int ch = 0; ch < 3; ++ch) px[ch] = std::clamp(colour[ch] + draw.uniform(-0.04f, 0.04f), 0.0f, 1.0f);
    }
  }
}

}  // namespace

ImageSet make_image_set(const ImageSetOptions& options) {
  const int64_t N = options.samples, H = options.height, W = options.width;
  MINIDL_CHECK(N >= 0, ValueError, "make_image_set: samples must be >= 0, received {}", N);
  MINIDL_CHECK(H >= 4 && W >= 4, ValueError, "make_image_set: height and width must be >= 4, received {} x {}", H, W);
  ImageSet set{Tensor({N, H, W, 3}), Tensor({N})};
  Draw draw(options.seed);
  const int classes = static_cast<int>(kImageSetClasses.size());
  for (int64_t i = 0; i < N; ++i) {
    const int kind = static_cast<int>(i % classes);
    draw_image(kind, H, W, draw, set.x.data() + i * H * W * 3);
    set.y[i] = static_cast<float>(kind);
  }
  return set;
}

}  // namespace minidl
