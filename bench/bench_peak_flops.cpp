// bench_peak_flops: the CPU's float32 multiply-add ceiling, the yardstick for
// the GEMM-bound figures in docs/PERFORMANCE.md.
//
//   bench_peak_flops [--threads T] [--seconds S]
//
// Each thread runs 12 independent chains of fused multiply-adds on the widest
// vectors this build targets (AVX-512 with -march=native on an AVX-512 CPU,
// else AVX2+FMA, else scalar), enough chains to cover the FMA latency on every
// current x86 core. Where the build has AVX512_BF16 it also times the
// bfloat16 dot-product instruction (vdpbf16ps: 32 products summed into 16
// float32 lanes per instruction, counted as 64 flops). One JSON line per
// thread count from 1 to T: GFLOP/s summed over the threads.
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 12;

#if defined(__AVX512F__)
constexpr int kLanes = 16;
using Vec = __m512;
inline Vec splat(float v) { return _mm512_set1_ps(v); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline float lane0(Vec v) { return _mm512_cvtss_f32(v); }
constexpr const char* kIsa = "avx512";
#elif defined(__AVX2__) && defined(__FMA__)
constexpr int kLanes = 8;
using Vec = __m256;
inline Vec splat(float v) { return _mm256_set1_ps(v); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline float lane0(Vec v) { return _mm256_cvtss_f32(v); }
constexpr const char* kIsa = "avx2";
#else
constexpr int kLanes = 1;
using Vec = float;
inline Vec splat(float v) { return v; }
inline Vec fma(Vec a, Vec b, Vec c) { return a * b + c; }
inline float lane0(Vec v) { return v; }
constexpr const char* kIsa = "scalar";
#endif

// flops done by one call: iterations x chains x lanes x 2.
double fma_loop(int64_t iterations, float* sink) {
  Vec acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = splat(static_cast<float>(i));
  const Vec b = splat(0.999999f), c = splat(1e-6f);
  for (int64_t k = 0; k < iterations; ++k)
    for (int i = 0; i < kChains; ++i) acc[i] = fma(acc[i], b, c);
  float s = 0;
  for (int i = 0; i < kChains; ++i) s += lane0(acc[i]);
  *sink = s;
  return static_cast<double>(iterations) * kChains * kLanes * 2;
}

#if defined(__AVX512BF16__)
double bf16_loop(int64_t iterations, float* sink) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(2e-3f));
  for (int64_t k = 0; k < iterations; ++k)
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, a);
  float s = 0;
  for (int i = 0; i < kChains; ++i) s += _mm512_cvtss_f32(acc[i]);
  *sink = s;
  return static_cast<double>(iterations) * kChains * 32 * 2;
}
#endif

// GFLOP/s of `loop` on `threads` threads, each running for about `seconds`.
template <class Loop>
double rate(Loop loop, int threads, double seconds) {
  // Calibrate one thread's iteration count for the requested time.
  float sink = 0;
  int64_t iterations = 1 << 20;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    loop(iterations, &sink);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (dt > 0.05) {
      iterations = static_cast<int64_t>(static_cast<double>(iterations) * seconds / dt) + 1;
      break;
    }
    iterations *= 4;
  }
  std::vector<float> sinks(threads);
  std::vector<double> flops(threads);
  std::vector<std::thread> pool;
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { flops[t] = loop(iterations, &sinks[t]); });
  for (auto& th : pool) th.join();
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double total = 0;
  for (double f : flops) total += f;
  return total / dt / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  double seconds = 0.5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--seconds" && i + 1 < argc) seconds = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--threads T] [--seconds S]\n", argv[0]);
      return 2;
    }
  }
  if (threads < 1) threads = 1;
  for (int t = 1; t <= threads; ++t) {
    const double fp32 = rate(fma_loop, t, seconds);
#if defined(__AVX512BF16__)
    const double bf16 = rate(bf16_loop, t, seconds);
    std::printf("{\"threads\": %d, \"isa\": \"%s\", \"fp32_fma_gflops\": %.1f, \"bf16_dot_gflops\": %.1f}\n", t, kIsa,
                fp32, bf16);
#else
    std::printf("{\"threads\": %d, \"isa\": \"%s\", \"fp32_fma_gflops\": %.1f, \"bf16_dot_gflops\": null}\n", t, kIsa,
                fp32);
#endif
    std::fflush(stdout);
  }
  return 0;
}
