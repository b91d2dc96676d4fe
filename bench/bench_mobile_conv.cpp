// bench/bench_mobile_conv.cpp — the convolutions of real networks at small batches: depthwise 3x3
// (stride 1 and 2) and 1x1 on MobileNetV2's shapes, and a Winograd layer at batch 1 with its
// kernel transform kept or recomputed.
//
//   bench_mobile_conv [--threads T] [--repeats R] [--batch N]...   (defaults 1, 20, batches 1 and 32)
//
// Every case goes through ops::conv2d_forward/backward, as the layers call it,
// and prints one JSON object per line (JSON Lines) with median wall times in ms
// over R runs after one warm-up run:
//   "depthwise"  a DepthwiseConv2D as MobileNetV2 has it (3x3, "same", bias,
//                depth multiplier 1; groups = C): "direct" is the workspace at
//                kAuto, which takes ops/depthwise_conv2d.h, "im2col" forces the
//                grouped im2col path. Forward and backward (dx, dkernel, dbias).
//   "pointwise"  a 1x1 stride-1 Conv2D forward: kAuto (a GEMM on the NHWC
//                input) against the forced direct loop of ops/conv2d_direct.h.
//   "winograd"   mnist_cnn's second layer (26x26x32 -> 64, 3x3) forward at
//                batch 1 by Winograd, with the kernel's version given (the
//                transform is kept) and without (recomputed on every call).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/threads.h"
#include "ops/conv2d.h"

namespace {

struct Case {
  int64_t H, W, C, S;
};

// MobileNetV2 (224x224 input): the depthwise layers' input sizes and strides.
constexpr Case kCases[] = {{112, 112, 32, 1}, {112, 112, 96, 2}, {56, 56, 144, 1}, {56, 56, 144, 2},
                           {28, 28, 192, 2},  {14, 14, 576, 1},  {14, 14, 576, 2}, {7, 7, 960, 1}};

// MobileNetV2's 1x1 convolutions with few input channels (where the direct
// loop of ops/conv2d_direct.h would apply).
struct Pointwise {
  int64_t H, W, C, F;
};
constexpr Pointwise kPointwise[] = {
    {112, 112, 16, 96}, {112, 112, 32, 16}, {56, 56, 24, 144}, {28, 28, 32, 192}};

template <class F>
double median_ms(int repeats, F&& f) {
  f();  // warm-up: workspace and caches
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

std::vector<float> random_floats(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, repeats = 20;
  std::vector<int64_t> batches;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats")) repeats = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch")) batches.push_back(std::atoll(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: bench_mobile_conv [--threads T] [--repeats R] [--batch N]...\n");
      return 2;
    }
  }
  if (batches.empty()) batches = {1, 32};
  minidl::set_num_threads(threads);
  std::mt19937 rng(0);
  for (const int64_t N : batches)
    for (const Case& c : kCases) {
      const auto g = minidl::ops::make_conv_geometry(N, c.H, c.W, c.C, 3, 3, c.S, c.S, 1, 1, /*same=*/true);
      const auto x = random_floats(g.N * g.H * g.W * g.C, rng), k = random_floats(9 * c.C, rng),
                 b = random_floats(c.C, rng);
      const auto dy = random_floats(g.N * g.OH * g.OW * c.C, rng);
      std::vector<float> y(dy.size()), dx(x.size()), dk(k.size()), db(b.size());
      double fwd[2], bwd[2];
      for (int m = 0; m < 2; ++m) {
        minidl::ops::Conv2DWorkspace ws;
        if (m == 1) ws.set_algorithm(minidl::ops::ConvAlgorithm::kIm2col);
        fwd[m] = median_ms(repeats, [&] {
          minidl::ops::conv2d_forward(x.data(), k.data(), b.data(), g, c.C, c.C, y.data(), ws);
        });
        bwd[m] = median_ms(repeats, [&] {
          minidl::ops::conv2d_backward(x.data(), k.data(), dy.data(), g, c.C, c.C, dx.data(), dk.data(), db.data(),
                                       ws);
        });
      }
      std::printf(
          "{\"kind\": \"depthwise\", \"N\": %lld, \"H\": %lld, \"W\": %lld, \"C\": %lld, \"stride\": %lld, \"threads\": %d, "
          "\"fwd_ms_direct\": %.3f, \"fwd_ms_im2col\": %.3f, \"fwd_ratio\": %.3f, "
          "\"bwd_ms_direct\": %.3f, \"bwd_ms_im2col\": %.3f, \"bwd_ratio\": %.3f}\n",
          static_cast<long long>(N), static_cast<long long>(c.H), static_cast<long long>(c.W),
          static_cast<long long>(c.C), static_cast<long long>(c.S), threads, fwd[0], fwd[1], fwd[0] / fwd[1], bwd[0],
          bwd[1], bwd[0] / bwd[1]);
      std::fflush(stdout);
    }
  for (const int64_t N : batches)
    for (const Pointwise& c : kPointwise) {
      const auto g = minidl::ops::make_conv_geometry(N, c.H, c.W, c.C, 1, 1, 1, 1, 1, 1, /*same=*/false);
      const auto x = random_floats(g.N * g.H * g.W * g.C, rng), k = random_floats(c.C * c.F, rng),
                 b = random_floats(c.F, rng);
      std::vector<float> y(static_cast<size_t>(g.N * g.OH * g.OW * c.F));
      double ms[2];
      for (int m = 0; m < 2; ++m) {
        minidl::ops::Conv2DWorkspace ws;
        if (m == 1) ws.set_algorithm(minidl::ops::ConvAlgorithm::kDirect);
        ms[m] = median_ms(repeats, [&] {
          minidl::ops::conv2d_forward(x.data(), k.data(), b.data(), g, 1, c.F, y.data(), ws);
        });
      }
      std::printf(
          "{\"kind\": \"pointwise\", \"N\": %lld, \"H\": %lld, \"W\": %lld, \"C\": %lld, \"F\": %lld, "
          "\"threads\": %d, \"fwd_ms_gemm\": %.3f, \"fwd_ms_direct\": %.3f, \"fwd_ratio\": %.3f}\n",
          static_cast<long long>(N), static_cast<long long>(c.H), static_cast<long long>(c.W),
          static_cast<long long>(c.C), static_cast<long long>(c.F), threads, ms[0], ms[1], ms[0] / ms[1]);
      std::fflush(stdout);
    }

  {  // mnist_cnn's second layer at batch 1
    const auto g = minidl::ops::make_conv_geometry(1, 26, 26, 32, 3, 3, 1, 1, 1, 1, /*same=*/false);
    const auto x = random_floats(26 * 26 * 32, rng), k = random_floats(9 * 32 * 64, rng), b = random_floats(64, rng);
    std::vector<float> y(static_cast<size_t>(g.OH * g.OW * 64));
    double ms[2];
    for (int m = 0; m < 2; ++m) {
      minidl::ops::Conv2DWorkspace ws;
      const uint64_t version = m == 0 ? 1 : 0;  // 0: no version, the transform is recomputed
      ms[m] = median_ms(repeats, [&] {
        minidl::ops::conv2d_forward(x.data(), k.data(), b.data(), g, 1, 64, y.data(), ws, true, version);
      });
    }
    std::printf(
        "{\"kind\": \"winograd\", \"N\": 1, \"H\": 26, \"W\": 26, \"C\": 32, \"F\": 64, \"threads\": %d, "
        "\"fwd_ms_kept\": %.3f, \"fwd_ms_recomputed\": %.3f, \"fwd_ratio\": %.3f}\n",
        threads, ms[0], ms[1], ms[0] / ms[1]);
  }
  return 0;
}
