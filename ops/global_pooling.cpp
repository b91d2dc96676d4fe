// ops/global_pooling.cpp — global pooling over H and W for NHWC tensors (declared in ops/pooling.h).
//
// Each image is an [H*W, C] matrix; pooling reduces its rows, so the inner
// loop runs over the C contiguous channels of one pixel.
#include <algorithm>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/parallel_grain.h"
#include "ops/pooling.h"

namespace minidl::ops {
namespace {

void check_dims(int64_t N, int64_t H, int64_t W, int64_t C, const char* who) {
  MINIDL_CHECK(N >= 0 && C >= 0 && H >= 1 && W >= 1, ValueError,
               "{}: expected input (N, H, W, C) with N, C >= 0 and H, W >= 1, received ({}, {}, {}, {})", who, N, H,
               W, C);
}

// Channels per block of the per-image scratch arrays kept on the stack.
constexpr int64_t kChannelBlock = 256;

// fn(n) for each image, a memory-bound pass over its image_size floats.
template <class Fn>
void for_each_image(int64_t N, int64_t image_size, Fn fn) {
  for_each_item(N, Cost::kMemory, image_size, fn);
}

}  // namespace

void global_avg_pool2d(const float* x, int64_t N, int64_t H, int64_t W, int64_t C, float* y) {
  check_dims(N, H, W, C, "global_avg_pool2d");
  const int64_t P = H * W;
  if (N * C == 0) return;
  MINIDL_CHECK(x && y, ValueError, "global_avg_pool2d: received a null buffer for a non-empty tensor");
  for_each_image(N, P * C, [&](int64_t n) {
    // A double accumulator keeps large feature maps (P in the thousands)
    // accurate. It lives on the stack, kChannelBlock channels at a time, so a
    // training step allocates nothing here.
    double acc[kChannelBlock];
    const float* xi = x + n * P * C;
    for (int64_t c0 = 0; c0 < C; c0 += kChannelBlock) {
      const int64_t cb = std::min(kChannelBlock, C - c0);
      std::fill_n(acc, cb, 0.0);
      for (int64_t p = 0; p < P; ++p)
        for (int64_t c = 0; c < cb; ++c) acc[c] += xi[p * C + c0 + c];
      for (int64_t c = 0; c < cb; ++c) y[n * C + c0 + c] = static_cast<float>(acc[c] / static_cast<double>(P));
    }
  });
}

void global_avg_pool2d_backward(const float* dy, int64_t N, int64_t H, int64_t W, int64_t C, float* dx) {
  check_dims(N, H, W, C, "global_avg_pool2d_backward");
  const int64_t P = H * W;
  if (N * C == 0) return;
  MINIDL_CHECK(dy && dx, ValueError, "global_avg_pool2d_backward: received a null buffer for a non-empty tensor");
  const float inv = 1.f / static_cast<float>(P);
  for_each_image(N, P * C, [&](int64_t n) {
    float* dxi = dx + n * P * C;
    for (int64_t p = 0; p < P; ++p)
      for (int64_t c = 0; c < C; ++c) dxi[p * C + c] = dy[n * C + c] * inv;
  });
}

void global_max_pool2d(const float* x, int64_t N, int64_t H, int64_t W, int64_t C, float* y, int64_t* argmax) {
  check_dims(N, H, W, C, "global_max_pool2d");
  const int64_t P = H * W;
  if (N * C == 0) return;
  MINIDL_CHECK(x && y, ValueError, "global_max_pool2d: received a null buffer for a non-empty tensor");
  for_each_image(N, P * C, [&](int64_t n) {
    const float* xi = x + n * P * C;
    float* yo = y + n * C;
    std::copy(xi, xi + C, yo);
    int64_t at[kChannelBlock];  // pixel index of the current max, a block of channels at a time
    for (int64_t c0 = 0; c0 < C; c0 += kChannelBlock) {
      const int64_t cb = std::min(kChannelBlock, C - c0);
      std::fill_n(at, cb, int64_t{0});
      for (int64_t p = 1; p < P; ++p)
        for (int64_t c = 0; c < cb; ++c) {
          const float v = xi[p * C + c0 + c];
          float& best = yo[c0 + c];
          if (v > best || (v != v && best == best)) {
            best = v;
            at[c] = p;
          }
        }
      if (argmax)
        for (int64_t c = 0; c < cb; ++c) argmax[n * C + c0 + c] = (n * P + at[c]) * C + c0 + c;
    }
  });
}

void global_max_pool2d_backward(const float* dy, const int64_t* argmax, int64_t N, int64_t H, int64_t W, int64_t C,
                                float* dx) {
  check_dims(N, H, W, C, "global_max_pool2d_backward");
  const int64_t img = H * W * C;
  if (N * C == 0) return;
  MINIDL_CHECK(dy && argmax && dx, ValueError,
               "global_max_pool2d_backward: received a null buffer for a non-empty tensor");
  for_each_image(N, img, [&](int64_t n) {
    float* dxi = dx + n * img;
    std::fill_n(dxi, img, 0.f);
    for (int64_t c = 0; c < C; ++c) {
      const int64_t at = argmax[n * C + c] - n * img;
      MINIDL_CHECK(at >= 0 && at < img && at % C == c, ValueError,
                   "global_max_pool2d_backward: argmax index {} for (n={}, c={}) is not a cell of channel {} of image {}",
                   argmax[n * C + c], n, c, c, n);
      dxi[at] += dy[n * C + c];
    }
  });
}

}  // namespace minidl::ops
