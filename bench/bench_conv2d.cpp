// bench/bench_conv2d.cpp — forward and backward speed of ops/conv2d on the standard shapes.
//
//   bench_conv2d [--threads N] [--repeats R] [--cap-kb K] [--cpu] [--algorithm A] [--im2col]
//   (defaults 2, 5, 1024, auto)
//
// --algorithm takes the names of ops/conv2d_algorithm.h (auto, im2col,
// winograd, direct, reference) and forces that method on every shape; a shape
// the method cannot compute prints its ValueError instead of timings.
// --im2col is short for --algorithm im2col. By default each shape takes the
// path conv2d picks (Winograd, direct or im2col), or MINIDL_CONV_ALGORITHM's.
//
// Each case runs once to warm up (workspace, OpenBLAS buffers), then R times;
// the median wall time is reported. --cpu times process CPU time instead: on a
// machine loaded by other jobs, --threads 1 --cpu still gives the uncontended
// single-core cost (wall time there mostly measures the scheduler). GFLOP/s counts 2 flops per multiply-add:
// the forward does N*OH*OW*OC*KH*KW*C/G of them, the backward (dx and dkernel,
// plus dbias) twice that.
//
// The "gemm" columns time the same products alone, through ops::gemm on
// whole-batch matrices filled in advance (no im2col, no col2im, no bias):
// forward [N*OH*OW, KH*KW*C/G] x [KH*KW*C/G, OC/G] per group; backward its
// dkernel and dcol products. "of gemm" is the conv's GFLOP/s as a share of
// that: the issue asks the GEMM phases to reach 85% of OpenBLAS alone, and a
// conv whose whole time (unfolding included) reaches X% of it has GEMM phases
// at X% or better.
//
// On the Winograd path the products are different: per block of tiles, 36
// products [block, C/G] x [C/G, OC/G] (ops/winograd.h). "wino gemm" times
// exactly those products alone, split across the threads as the conv splits
// its tiles, on matrices filled in advance; "of gemm" is then that time as a
// share of the whole Winograd forward (transforms included), the same lower
// bound. Shapes on another path, or whose small groups use minidl's own product
// loops instead of sgemm, print "-".
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "core/threads.h"
#include "ops/blas.h"
#include "core/errors.h"
#include "ops/conv2d.h"
#include "ops/conv2d_algorithm.h"
#include "ops/winograd.h"

namespace {

using minidl::ops::Conv2DGeometry;

struct Shape {
  const char* name;
  int64_t N, H, W, C, OC, K, S;
  bool same;
  int64_t D, G;
};

// The eight shapes every conv change is measured on.
const Shape kShapes[] = {
    {"A", 64, 28, 28, 1, 32, 3, 1, false, 1, 1},   {"B", 64, 26, 26, 32, 64, 3, 1, false, 1, 1},
    {"C", 32, 32, 32, 64, 64, 3, 1, true, 1, 1},   {"D", 8, 56, 56, 64, 64, 3, 1, true, 1, 1},
    {"E", 32, 32, 32, 64, 128, 3, 2, true, 1, 1},  {"F", 32, 32, 32, 64, 64, 3, 1, true, 2, 1},
    {"G", 32, 28, 28, 128, 256, 1, 1, false, 1, 1}, {"H", 32, 32, 32, 64, 64, 3, 1, true, 1, 4},
};

bool g_cpu_clock = false;

double now_ms() {
  if (g_cpu_clock) {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median_ms(int repeats, const std::function<void()>& fn) {
  fn();  // warm-up
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    const double t0 = now_ms();
    fn();
    ms.push_back(now_ms() - t0);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

std::vector<float> random_floats(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& f : v) f = u(rng);
  return v;
}

bool has_flag(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return true;
  return false;
}

const char* string_arg(int argc, char** argv, const char* flag, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  return fallback;
}

int int_arg(int argc, char** argv, const char* flag, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return std::max(1, std::atoi(argv[i + 1]));
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = int_arg(argc, argv, "--threads", 2);
  const int repeats = int_arg(argc, argv, "--repeats", 5);
  const int64_t cap_kb = int_arg(argc, argv, "--cap-kb", 1024);
  g_cpu_clock = has_flag(argc, argv, "--cpu");
  try {
    if (has_flag(argc, argv, "--im2col"))
      minidl::set_conv_algorithm("im2col");
    else if (const char* name = string_arg(argc, argv, "--algorithm", nullptr))
      minidl::set_conv_algorithm(name);
    (void)minidl::conv_algorithm();  // a bad MINIDL_CONV_ALGORITHM fails here, before any shape
  } catch (const minidl::ValueError& e) {
    std::fprintf(stderr, "bench_conv2d: %s\n", e.what());
    return 2;
  }
  const std::string algorithm(minidl::conv_algorithm());
  minidl::set_num_threads(threads);
  std::printf("conv2d, %d thread(s), median %s time of %d, im2col cap %lld KiB, algorithm %s\n", threads,
              g_cpu_clock ? "process CPU" : "wall", repeats, static_cast<long long>(cap_kb), algorithm.c_str());
  std::printf("%-2s %-38s %9s %8s %9s %8s %9s %9s %9s %9s %10s %9s\n", "", "shape", "fwd ms", "GFLOP/s", "bwd ms",
              "GFLOP/s", "gemm fwd", "of gemm", "gemm bwd", "of gemm", "wino gemm", "of fwd");
  std::mt19937 rng(0);
  for (const Shape& s : kShapes) {
    const Conv2DGeometry g =
        minidl::ops::make_conv_geometry(s.N, s.H, s.W, s.C, s.K, s.K, s.S, s.S, s.D, s.D, s.same);
    const auto x = random_floats(g.N * g.H * g.W * g.C, rng);
    const auto k = random_floats(g.KH * g.KW * (g.C / s.G) * s.OC, rng);
    const auto b = random_floats(s.OC, rng);
    std::vector<float> y(static_cast<size_t>(g.N * g.OH * g.OW * s.OC));
    const auto dy = random_floats(static_cast<int64_t>(y.size()), rng);
    std::vector<float> dx(x.size()), dk(k.size()), db(b.size());
    minidl::ops::Conv2DWorkspace ws(cap_kb << 10);  // kAuto: follows the algorithm chosen above
    auto str = [](int64_t v) { return std::to_string(v); };
    std::string desc = str(s.N) + "," + str(s.H) + "," + str(s.W) + "," + str(s.C) + "->" + str(s.OC) + " " +
                       str(s.K) + "x" + str(s.K) + " s" + str(s.S) + (s.same ? " same" : " valid");
    if (s.D > 1) desc += " d" + str(s.D);
    if (s.G > 1) desc += " g" + str(s.G);

    double fwd = 0, bwd = 0;
    try {
      fwd = median_ms(repeats, [&] {
        minidl::ops::conv2d_forward(x.data(), k.data(), b.data(), g, s.G, s.OC, y.data(), ws);
      });
      bwd = median_ms(repeats, [&] {
        minidl::ops::conv2d_backward(x.data(), k.data(), dy.data(), g, s.G, s.OC, dx.data(), dk.data(), db.data(),
                                     ws);
      });
    } catch (const minidl::ValueError& e) {  // a forced method that cannot compute this shape
      std::printf("%-2s %-38s %s\n", s.name, desc.c_str(), e.what());
      continue;
    }
    // The same products alone on whole-batch matrices.
    const int64_t M = g.N * g.OH * g.OW, KG = g.KH * g.KW * (g.C / s.G), OCG = s.OC / s.G;
    const auto col = random_floats(M * KG, rng);
    std::vector<float> col2(col.size());
    const double gemm_fwd = median_ms(repeats, [&] {
      for (int64_t gi = 0; gi < s.G; ++gi)
        minidl::ops::gemm(false, false, M, OCG, KG, 1.f, col.data(), KG, k.data() + gi * OCG, s.OC, 0.f,
                          y.data() + gi * OCG, s.OC);
    });
    const double gemm_bwd = median_ms(repeats, [&] {
      for (int64_t gi = 0; gi < s.G; ++gi) {
        minidl::ops::gemm(true, false, KG, OCG, M, 1.f, col.data(), KG, dy.data() + gi * OCG, s.OC, 0.f,
                          dk.data() + gi * OCG, s.OC);
        minidl::ops::gemm(false, true, M, KG, OCG, 1.f, dy.data() + gi * OCG, s.OC, k.data() + gi * OCG, s.OC, 0.f,
                          col2.data(), KG);
      }
    });
    // The Winograd forward's own products alone, when it takes that path.
    std::string wino = "-", wino_share = "-";
    if ((algorithm == "auto" || algorithm == "winograd") && minidl::ops::winograd_applicable(g, s.G, s.OC)) {
      const auto wp = minidl::ops::winograd_products(g, s.G, s.OC);
      if (!wp.direct_loops) {
        const int64_t T = std::clamp<int64_t>(threads, 1, (wp.tiles + wp.block - 1) / wp.block);
        const int64_t ld_v = wp.E * g.C, ld_m = wp.E * s.OC;
        std::vector<std::vector<float>> V(static_cast<size_t>(T)), Mx(static_cast<size_t>(T));
        for (int64_t t = 0; t < T; ++t) {
          V[t] = random_floats(wp.block * ld_v, rng);
          Mx[t].resize(static_cast<size_t>(wp.block * ld_m));
        }
        const auto U = random_floats(s.G * wp.E * wp.CG * wp.OCG, rng);
        const double ms = median_ms(repeats, [&] {
          minidl::parallel_for(T, [&](int64_t t0, int64_t t1) {
            for (int64_t t = t0; t < t1; ++t)
              for (int64_t b0 = wp.tiles * t / T; b0 < wp.tiles * (t + 1) / T; b0 += wp.block) {
                const int64_t nb = std::min(wp.block, wp.tiles * (t + 1) / T - b0);
                for (int64_t gi = 0; gi < s.G; ++gi)
                  for (int64_t e = 0; e < wp.E; ++e)
                    minidl::ops::gemm(false, false, nb, wp.OCG, wp.CG, 1.f, V[t].data() + e * g.C + gi * wp.CG, ld_v,
                                      U.data() + (gi * wp.E + e) * wp.CG * wp.OCG, wp.OCG, 0.f,
                                      Mx[t].data() + e * s.OC + gi * wp.OCG, ld_m);
              }
          });
        });
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", ms);
        wino = buf;
        std::snprintf(buf, sizeof buf, "%.0f%%", 100 * ms / fwd);
        wino_share = buf;
      }
    }
    const double gflop = 2e-9 * static_cast<double>(minidl::ops::conv2d_macs(g, s.G, s.OC));
    std::printf("%-2s %-38s %9.2f %8.1f %9.2f %8.1f %9.2f %8.0f%% %9.2f %8.0f%% %10s %9s\n", s.name, desc.c_str(),
                fwd, gflop / (fwd * 1e-3), bwd, 2 * gflop / (bwd * 1e-3), gemm_fwd, 100 * gemm_fwd / fwd, gemm_bwd,
                100 * gemm_bwd / bwd, wino.c_str(), wino_share.c_str());
  }
  return 0;
}
