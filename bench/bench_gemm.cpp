// bench/bench_gemm.cpp — single-precision GEMM throughput through ops::gemm (OpenBLAS).
//
//   bench_gemm [--size N] [--repeats R]
//
// Times C = A * B for square N x N matrices (default 1024) at 1 and 2 threads:
// one warm-up call per thread count (OpenBLAS buffers, thread start-up), then R
// timed calls (default 7); prints the median and its GFLOP/s (2*N^3 flops).
// A measurement tool, not a test: it asserts nothing.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "core/threads.h"
#include "ops/blas.h"

namespace {

double median_seconds(int repeats, int64_t n, const float* a, const float* b, float* c) {
  minidl::ops::gemm(false, false, n, n, n, 1.f, a, n, b, n, 0.f, c, n);  // warm-up
  std::vector<double> s;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    minidl::ops::gemm(false, false, n, n, n, 1.f, a, n, b, n, 0.f, c, n);
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 1024;
  int repeats = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--size"))
      n = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats"))
      repeats = std::atoi(argv[i + 1]);
  }
  if (n < 1 || repeats < 1) {
    std::fprintf(stderr, "usage: bench_gemm [--size N >= 1] [--repeats R >= 1]\n");
    return 2;
  }
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> a(n * n), b(n * n), c(n * n);
  for (auto& v : a) v = u(rng);
  for (auto& v : b) v = u(rng);

  std::printf("sgemm %lld x %lld x %lld, median of %d after warm-up\n", static_cast<long long>(n),
              static_cast<long long>(n), static_cast<long long>(n), repeats);
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  for (int threads : {1, 2}) {
    minidl::set_num_threads(threads);
    const double s = median_seconds(repeats, n, a.data(), b.data(), c.data());
    std::printf("threads=%d  %8.2f ms  %7.1f GFLOP/s\n", threads, s * 1e3, flops / s * 1e-9);
  }
  return 0;
}
