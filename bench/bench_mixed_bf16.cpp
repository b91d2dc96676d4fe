// bench/bench_mixed_bf16.cpp — the main job's epoch and test accuracy under the float32 and
// mixed_bfloat16 policies, alternating runs in one process.
//
// Each run trains the main job's model (the Keras mnist_cnn with Adam(1e-3),
// examples/train_fashion_mnist.cpp) from the same seed on the first --limit
// Fashion-MNIST training images for --epochs epochs, then evaluates it on the
// first --test images. Runs alternate float32, mixed_bfloat16, float32, ...
// (--rounds pairs), and each prints one JSON line: the policy, whether the
// bfloat16 GEMM ran (else the float32 fallback), the epoch times, the median
// epoch after the first, the same in process CPU time (all threads: the
// measure that holds on a machine other work also loads), and the test accuracy.
//
//   bench_mixed_bf16 [--rounds N] [--epochs N] [--limit N] [--test N] [--threads N]
//                    [--gemm M N K | --conv N H W C OC]
//
// With --gemm M N K it times instead ops::gemm (float32, OpenBLAS) against
// oneDNN's bfloat16 GEMM (ops::gemm_bf16_onednn, which oneDNN also runs on
// AVX-512 CPUs without AVX512_BF16, by emulation) on [M,K] x [K,N], alternating
// the two for --rounds rounds of 5 products each, and prints one JSON line per round.
//
// With --conv N H W C OC it times (wall, and process CPU time in cpu_ms, in
// the same order) one forward and backward (dx, dkernel, dbias) of a 3x3
// "valid" convolution of [N, H, W, C] to OC filters three ways,
// alternating for --rounds rounds of 3 passes each: float32 (ops/conv2d.h,
// the "auto" method), mixed_bfloat16's on the float32 GEMM of rounded operands
// (ops/conv2d_bf16.h, the fallback) and on oneDNN's bfloat16 GEMM (where it runs);
// with --policy float32 or mixed_bfloat16 only that one (mixed_bfloat16: the
// oneDNN one where it runs, else the fallback), for profiling one path.
#include <minidl/minidl.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "layers/base/dtype_policy.h"
#include "ops/conv2d.h"
#include "ops/conv2d_bf16.h"
#include "ops/gemm_bf16.h"
#include "tests/support/models.h"

using namespace minidl;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// CPU seconds of every thread of the process.
double cpu_now() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// The time at which fit began each epoch, and at which it ended the last.
class EpochClock : public Callback {
 public:
  void on_epoch_begin(int, const Logs&) override { mark(); }
  void on_train_end(const Logs&) override { mark(); }
  static std::vector<double> differences(const std::vector<double>& m) {
    std::vector<double> d;
    for (size_t i = 1; i < m.size(); ++i) d.push_back(m[i] - m[i - 1]);
    return d;
  }
  void mark() {
    marks.push_back(now());
    cpu_marks.push_back(cpu_now());
  }
  std::vector<double> marks, cpu_marks;
};

// The median; 0 for none.
double middle(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2) return *mid;
  return 0.5 * (*mid + *std::max_element(v.begin(), mid));  // the largest of the lower half
}

Tensor first_rows(const Tensor& t, int64_t n) {
  n = std::min(n, t.dim(0));
  Shape s = t.shape();
  s[0] = n;
  Tensor out(s);
  std::copy(t.data(), t.data() + out.numel(), out.data());
  return out;
}

// One JSON line per round: milliseconds per product of the float32 and the oneDNN bfloat16 GEMM.
int time_gemms(int64_t M, int64_t N, int64_t K, int rounds) {
  const Tensor a = Tensor::uniform({M, K}, -1.f, 1.f), b = Tensor::uniform({K, N}, -1.f, 1.f);
  Tensor c({M, N});
  const int reps = 5;
  if (!ops::gemm_bf16_onednn(false, false, M, N, K, 1.f, a.data(), K, b.data(), N, 0.f, c.data(), N)) {
    std::printf("{\"error\": \"oneDNN's bfloat16 GEMM is not built in or does not run on this CPU\"}\n");
    return 1;
  }
  for (int r = 0; r < rounds; ++r) {
    double t0 = now();
    for (int i = 0; i < reps; ++i) ops::gemm(false, false, M, N, K, 1.f, a.data(), K, b.data(), N, 0.f, c.data(), N);
    const double f32 = (now() - t0) / reps * 1e3;
    t0 = now();
    for (int i = 0; i < reps; ++i)
      ops::gemm_bf16_onednn(false, false, M, N, K, 1.f, a.data(), K, b.data(), N, 0.f, c.data(), N);
    const double bf16 = (now() - t0) / reps * 1e3;
    std::printf("{\"round\": %d, \"M\": %lld, \"N\": %lld, \"K\": %lld, \"threads\": %d, \"sgemm_ms\": %.3f, "
                "\"onednn_bf16_ms\": %.3f, \"avx512_bf16\": %s}\n",
                r, static_cast<long long>(M), static_cast<long long>(N), static_cast<long long>(K), num_threads(), f32,
                bf16, ops::bf16_gemm_available() ? "true" : "false");
    std::fflush(stdout);
  }
  return 0;
}

// One JSON line per round: milliseconds per forward + backward pass of the three convolutions.
int time_convs(int64_t N, int64_t H, int64_t W, int64_t C, int64_t OC, int rounds, const std::string& only) {
  const ops::Conv2DGeometry g = ops::make_conv_geometry(N, H, W, C, 3, 3, 1, 1, 1, 1, false);
  const Tensor x = Tensor::uniform({N, H, W, C}, -1.f, 1.f), k = Tensor::uniform({3, 3, C, OC}, -0.2f, 0.2f);
  const Tensor b = Tensor::uniform({OC}, -0.1f, 0.1f), dy = Tensor::uniform({N, g.OH, g.OW, OC}, -1.f, 1.f);
  Tensor y({N, g.OH, g.OW, OC}), dx({N, H, W, C}), dk({3, 3, C, OC}), db({OC});
  ops::Conv2DWorkspace ws;
  const float one = 1.f;
  float probe = 0.f;
  const bool onednn = ops::gemm_bf16_onednn(false, false, 1, 1, 1, 1.f, &one, 1, &one, 1, 0.f, &probe, 1);
  // mode < 0: float32; else the bfloat16 convolution with that GEMM.
  const auto pass = [&](int mode) {
    if (mode < 0) {
      ops::conv2d_forward(x.data(), k.data(), b.data(), g, 1, OC, y.data(), ws, true);
      ops::conv2d_backward(x.data(), k.data(), dy.data(), g, 1, OC, dx.data(), dk.data(), db.data(), ws, y.data());
      return;
    }
    const auto gemm = static_cast<ops::Bf16Gemm>(mode);
    ops::conv2d_forward_bf16(x.data(), k.data(), b.data(), g, 1, OC, y.data(), ws, true, gemm);
    ops::conv2d_backward_bf16(x.data(), k.data(), dy.data(), g, 1, OC, dx.data(), dk.data(), db.data(), ws, y.data(),
                              gemm);
  };
  const int reps = 3;
  double cpu_ms[4] = {-1.0, -1.0, -1.0, -1.0};  // by mode + 1: float32, (auto), oneDNN, fallback
  const auto timed = [&](int mode) {
    pass(mode);  // warm: workspace and operand buffers grown
    const double t0 = now(), c0 = cpu_now();
    for (int i = 0; i < reps; ++i) pass(mode);
    cpu_ms[mode + 1] = (cpu_now() - c0) / reps * 1e3;
    return (now() - t0) / reps * 1e3;
  };
  const bool all = only.empty();
  for (int r = 0; r < rounds; ++r) {
    const double f32 = all || only == "float32" ? timed(-1) : -1.0;
    const double fallback =
        all || (only == "mixed_bfloat16" && !onednn) ? timed(static_cast<int>(ops::Bf16Gemm::kFloat32)) : -1.0;
    const double bf16 =
        onednn && (all || only == "mixed_bfloat16") ? timed(static_cast<int>(ops::Bf16Gemm::kOneDnn)) : -1.0;
    std::printf("{\"round\": %d, \"conv\": [%lld, %lld, %lld, %lld, %lld], \"threads\": %d, \"float32_ms\": %.3f, "
                "\"bf16_fallback_ms\": %.3f, \"bf16_onednn_ms\": %.3f, \"cpu_ms\": [%.3f, %.3f, %.3f], "
                "\"avx512_bf16\": %s}\n",
                r, static_cast<long long>(N), static_cast<long long>(H), static_cast<long long>(W),
                static_cast<long long>(C), static_cast<long long>(OC), num_threads(), f32, fallback, bf16,
                f32 < 0 ? -1.0 : cpu_ms[0], fallback < 0 ? -1.0 : cpu_ms[3], bf16 < 0 ? -1.0 : cpu_ms[2],
                ops::bf16_gemm_available() ? "true" : "false");
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 1, epochs = 3, threads = 0;
  int64_t limit = 6000, test = 2000, gemm_m = 0, gemm_n = 0, gemm_k = 0;
  std::vector<int64_t> conv;  // N H W C OC
  std::vector<std::string> policies = {"float32", "mixed_bfloat16"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--rounds" && has_value) rounds = std::atoi(argv[++i]);
    else if (a == "--epochs" && has_value) epochs = std::atoi(argv[++i]);
    else if (a == "--limit" && has_value) limit = std::atoll(argv[++i]);
    else if (a == "--test" && has_value) test = std::atoll(argv[++i]);
    else if (a == "--threads" && has_value) threads = std::atoi(argv[++i]);
    else if (a == "--policy" && has_value) policies = {argv[++i]};
    else if (a == "--gemm" && i + 3 < argc) {
      gemm_m = std::atoll(argv[++i]);
      gemm_n = std::atoll(argv[++i]);
      gemm_k = std::atoll(argv[++i]);
    }
    else if (a == "--conv" && i + 5 < argc) {
      for (int j = 0; j < 5; ++j) conv.push_back(std::atoll(argv[++i]));
    }
    else {
      std::fprintf(stderr, "usage: %s [--rounds N] [--epochs N] [--limit N] [--test N] [--threads N] [--policy P] "
                   "[--gemm M N K] [--conv N H W C OC]\n",
                   argv[0]);
      return 2;
    }
  }
  if (threads > 0) set_num_threads(threads);
  if (gemm_m > 0) return time_gemms(gemm_m, gemm_n, gemm_k, rounds);
  if (!conv.empty())
    return time_convs(conv[0], conv[1], conv[2], conv[3], conv[4], rounds, policies.size() == 1 ? policies[0] : "");
  const FashionMnist data = load_fashion_mnist("", limit);
  const Tensor x_test = first_rows(data.x_test, test), y_test = first_rows(data.y_test, test);
  for (int r = 0; r < rounds; ++r)
    for (const std::string& name : policies) {
      const char* policy = name.c_str();
      set_global_policy(policy);
      set_random_seed(42);
      Sequential model = testing::mnist_cnn();
      model->compile(std::make_shared<Adam>(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
      auto clock = std::make_shared<EpochClock>();
      model->fit(data.x_train, data.y_train, {.batch_size = 128, .epochs = epochs, .verbose = 0, .callbacks = {clock}});
      const auto scores = model->evaluate(x_test, y_test, {.batch_size = 256, .verbose = 0});
      // The epochs after the first (which also grows the buffers), and their median.
      const auto steady_median = [](const std::vector<double>& d) {
        return middle(std::vector<double>(d.begin() + (d.size() > 1 ? 1 : 0), d.end()));
      };
      const auto listed = [](const std::vector<double>& d) {
        std::string out;
        for (double s : d) out += (out.empty() ? "" : ", ") + std::to_string(s);
        return out;
      };
      const std::vector<double> seconds = EpochClock::differences(clock->marks);
      const std::vector<double> cpu = EpochClock::differences(clock->cpu_marks);
      std::printf(
          "{\"round\": %d, \"policy\": \"%s\", \"bf16_gemm\": %s, \"threads\": %d, \"train_images\": %lld, "
          "\"test_images\": %lld, \"epochs\": %d, \"epoch_s\": [%s], \"median_epoch_s\": %.3f, "
          "\"cpu_epoch_s\": [%s], \"median_cpu_epoch_s\": %.3f, \"test_accuracy\": %.4f}\n",
          r, policy, ops::bf16_gemm_available() ? "true" : "false", num_threads(),
          static_cast<long long>(data.x_train.dim(0)), static_cast<long long>(x_test.dim(0)), epochs,
          listed(seconds).c_str(), steady_median(seconds), listed(cpu).c_str(), steady_median(cpu),
          scores.at("accuracy"));
      std::fflush(stdout);
    }
  set_global_policy("float32");
  return 0;
}
