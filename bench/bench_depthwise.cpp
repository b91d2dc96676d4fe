// bench/bench_depthwise.cpp — depthwise 3x3 convolution (stride 1 and 2) on MobileNetV2's shapes,
// by the direct depthwise kernels and by grouped im2col, forward and backward.
//
//   bench_depthwise [--threads T] [--repeats R] [--batch N]...   (defaults 1, 20, batches 1 and 32)
//
// Each shape is a DepthwiseConv2D as MobileNetV2 has it ("same" padding, bias,
// depth multiplier 1), computed through ops::conv2d_forward/backward with
// groups = C: "direct" is the workspace at kAuto (which takes
// ops/depthwise_conv2d.h for groups == C), "im2col" forces the grouped im2col
// path. Each case runs once to warm up, then R times; the median wall time is
// printed in ms, with the ratio direct / im2col. Output: one JSON object per
// line (JSON Lines).
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
      std::fprintf(stderr, "usage: bench_depthwise [--threads T] [--repeats R] [--batch N]...\n");
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
          "{\"N\": %lld, \"H\": %lld, \"W\": %lld, \"C\": %lld, \"stride\": %lld, \"threads\": %d, "
          "\"fwd_ms_direct\": %.3f, \"fwd_ms_im2col\": %.3f, \"fwd_ratio\": %.3f, "
          "\"bwd_ms_direct\": %.3f, \"bwd_ms_im2col\": %.3f, \"bwd_ratio\": %.3f}\n",
          static_cast<long long>(N), static_cast<long long>(c.H), static_cast<long long>(c.W),
          static_cast<long long>(c.C), static_cast<long long>(c.S), threads, fwd[0], fwd[1], fwd[0] / fwd[1], bwd[0],
          bwd[1], bwd[0] / bwd[1]);
      std::fflush(stdout);
    }
  return 0;
}
