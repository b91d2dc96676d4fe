// tools/cmd_bench.cpp — `minidl bench conv2d ...`: forward and backward speed of the Conv2D layer; registers
// `minidl bench` and its subcommands (`bench predict`: tools/cmd_bench_predict.cpp).
//
// Timing goes through the layer (layers/conv/conv2d.h), as a model would run it: the
// forward under NoGradGuard; the backward as one Variable::backward with a ones
// seed after a taped forward, computing the input, kernel and bias gradients, and
// only the backward timed. Warm-up runs until 0.25 s has passed (at least one
// run), then the median of --repeat runs. The warm-up is by time because on
// the shared 2-vCPU test machines the first ~100 ms of work after an idle
// spell ran up to 2x slower (the same 10 runs timed 14.5 ms at the start of a
// process and 7.2 ms later), whatever the allocations (page faults measured
// equal).
// --algorithm (auto, im2col, winograd, direct, reference: ops/conv2d_algorithm.h)
// sets the process-wide convolution algorithm the layer follows; without it,
// MINIDL_CONV_ALGORITHM's, else auto. Each JSON line names the algorithm used.
// FLOPs count 2 per multiply-add: forward 2*N*OH*OW*OC*KH*KW*C/G, backward twice
// that (dX and dK; the bias gradient is not counted).
//
// Output: one JSON object per line (JSON Lines) — one line for a shape given by
// options, eight lines (shapes A..H, "name" set) for --all.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "core/threads.h"
#include "layers/conv/conv2d.h"
#include "ops/conv2d_algorithm.h"
#include "tools/bench_timing.h"
#include "tools/commands.h"
#include "tools/number_arg.h"

namespace minidl::cli {

namespace {

using json = nlohmann::json;

struct ConvShape {
  std::string name;  // "A".."H" for the standard shapes, else empty
  int64_t batch = 0, h = 0, w = 0, c = 0, filters = 0, kh = 0, kw = 0;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1, groups = 1;
  std::string padding = "valid";
};

// The eight shapes every conv change is measured on (as bench/bench_conv2d.cpp).
std::vector<ConvShape> standard_shapes() {
  const auto shape = [](const char* name, int64_t n, int64_t h, int64_t w, int64_t c, int64_t oc, int64_t k,
                        int64_t s, const char* padding, int64_t d, int64_t g) {
    return ConvShape{name, n, h, w, c, oc, k, k, s, s, d, d, g, padding};
  };
  return {shape("A", 64, 28, 28, 1, 32, 3, 1, "valid", 1, 1),    shape("B", 64, 26, 26, 32, 64, 3, 1, "valid", 1, 1),
          shape("C", 32, 32, 32, 64, 64, 3, 1, "same", 1, 1),    shape("D", 8, 56, 56, 64, 64, 3, 1, "same", 1, 1),
          shape("E", 32, 32, 32, 64, 128, 3, 2, "same", 1, 1),   shape("F", 32, 32, 32, 64, 64, 3, 1, "same", 2, 1),
          shape("G", 32, 28, 28, 128, 256, 1, 1, "valid", 1, 1), shape("H", 32, 32, 32, 64, 64, 3, 1, "same", 1, 4)};
}

// "28,28,1" -> {28, 28, 1}; UsageError unless it holds `min`..`max` whole numbers,
// each from 1 to kMaxWholeNumber.
std::vector<int64_t> parse_ints(const std::string& text, const std::string& option, size_t min, size_t max) {
  std::vector<int64_t> values;
  bool all_valid = true;
  for (size_t pos = 0; all_valid && pos <= text.size();) {
    const size_t end = std::min(text.find(',', pos), text.size());
    const std::optional<int64_t> v = parse_whole_number(text.substr(pos, end - pos), 1, kMaxWholeNumber);
    all_valid = v.has_value();
    if (v) values.push_back(*v);
    pos = end + 1;
  }
  if (!all_valid || values.size() < min || values.size() > max) {
    const std::string count = min == max ? std::to_string(min) : std::to_string(min) + " or " + std::to_string(max);
    throw UsageError(option + " must be " + count + " whole numbers from 1 to " + std::to_string(kMaxWholeNumber) +
                     " separated by commas, received " + quote_value(text));
  }
  return values;
}

json bench_shape(const ConvShape& s, const std::string& data_format, int repeat) {
  const bool channels_first = data_format == "channels_first";
  Conv2D conv(s.filters, {s.kh, s.kw},
              {.strides = {s.sh, s.sw},
               .padding = s.padding,
               .data_format = data_format,
               .dilation_rate = {s.dh, s.dw},
               .groups = s.groups});
  const Shape x_shape = channels_first ? Shape{s.batch, s.c, s.h, s.w} : Shape{s.batch, s.h, s.w, s.c};
  const Tensor x = Tensor::uniform(x_shape, -1.f, 1.f);

  Shape y_shape;
  const double fwd_ms = bench_median_ms(repeat, [&] {
    NoGradGuard no_grad;
    const auto t0 = std::chrono::steady_clock::now();
    const Variable y = conv(Variable(x));
    const double ms = bench_elapsed_ms(t0);
    y_shape = y.shape();
    return ms;
  });

  Variable xv(x, /*requires_grad=*/true);
  const double bwd_ms = bench_median_ms(repeat, [&] {
    // Fresh gradients each run, as a training step starts: no accumulation into old ones.
    xv.zero_grad();
    for (Variable& w : conv->trainable_weights()) w.zero_grad();
    const Variable y = conv(xv);
    const Tensor seed = Tensor::ones(y.shape());
    const auto t0 = std::chrono::steady_clock::now();
    y.backward(seed);
    return bench_elapsed_ms(t0);
  });

  const int64_t oh = y_shape[channels_first ? 2 : 1], ow = y_shape[channels_first ? 3 : 2];
  const double fwd_flops =
      2.0 * double(s.batch) * double(oh * ow) * double(s.filters) * double(s.kh * s.kw) * double(s.c / s.groups);
  json shape = {{"batch", s.batch},
                {"input", {s.h, s.w, s.c}},
                {"filters", s.filters},
                {"kernel", {s.kh, s.kw}},
                {"strides", {s.sh, s.sw}},
                {"padding", s.padding},
                {"dilation", {s.dh, s.dw}},
                {"groups", s.groups},
                {"data_format", data_format},
                {"output", {oh, ow, s.filters}}};
  if (!s.name.empty()) shape["name"] = s.name;
  return {{"fwd_ms", fwd_ms},
          {"bwd_ms", bwd_ms},
          {"fwd_gflops", fwd_flops / (fwd_ms * 1e6)},
          {"bwd_gflops", 2 * fwd_flops / (bwd_ms * 1e6)},
          {"threads", num_threads()},
          {"algorithm", std::string(conv_algorithm())},
          {"repeat", repeat},
          {"shape", shape}};
}

// Each thread is an OS thread of the pool; more than this is a typing mistake, not a benchmark.
constexpr int64_t kMaxThreads = 1024;

struct BenchArgs {
  bool all = false;
  std::optional<int64_t> batch;
  std::string input, kernel, strides = "1", dilation = "1";
  std::optional<int64_t> filters;
  std::string padding = "valid", data_format = "channels_last";
  int64_t groups = 1;
  std::optional<int> threads;
  int repeat = 5;
  std::optional<std::string> algorithm;
};

ConvShape shape_from_args(const BenchArgs& a) {
  if (!a.batch || a.input.empty() || !a.filters || a.kernel.empty())
    throw UsageError("bench conv2d: give --batch, --input, --filters and --kernel, or --all");
  const auto in = parse_ints(a.input, "--input", 3, 3);
  const auto k = parse_ints(a.kernel, "--kernel", 1, 2);
  const auto st = parse_ints(a.strides, "--strides", 1, 2);
  const auto d = parse_ints(a.dilation, "--dilation", 1, 2);
  return ConvShape{"",     *a.batch, in[0],    in[1],    in[2], *a.filters, k[0], k.back(), st[0],
                   st.back(), d[0], d.back(), a.groups, a.padding};
}

}  // namespace

double bench_median_ms(int repeat, const std::function<double()>& run, double warmup_ms) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    run();
    if (bench_elapsed_ms(t0) >= warmup_ms) break;
  }
  std::vector<double> ms;
  for (int r = 0; r < repeat; ++r) ms.push_back(run());
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

double bench_elapsed_ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

Command add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* bench = app.add_subcommand("bench", "time library kernels and models");
  bench->require_subcommand(1);
  CLI::App* sub = bench->add_subcommand(
      "conv2d", "time the Conv2D layer forward and backward; prints one JSON object per line");
  auto* all = sub->add_flag("--all", args->all, "the eight standard shapes A..H, one JSON line each");
  std::vector<CLI::Option*> shape_options = {
      add_whole_number_option(*sub, "--batch", args->batch, "batch size N"),
      sub->add_option("--input", args->input, "H,W,C (whatever the data format)"),
      add_whole_number_option(*sub, "--filters", args->filters, "output channels"),
      sub->add_option("--kernel", args->kernel, "KH,KW or K"),
      sub->add_option("--strides", args->strides, "S or SH,SW"),
      sub->add_option("--padding", args->padding, "valid or same")->check(CLI::IsMember({"valid", "same"})),
      sub->add_option("--dilation", args->dilation, "D or DH,DW"),
      add_whole_number_option(*sub, "--groups", args->groups, "channel groups")};
  for (CLI::Option* o : shape_options) all->excludes(o);
  sub->add_option("--data-format", args->data_format, "channels_last or channels_first")
      ->check(CLI::IsMember({"channels_last", "channels_first"}));
  add_whole_number_option(*sub, "--threads", args->threads, "threads (default: MINIDL_NUM_THREADS or the core count)",
                          1, kMaxThreads);
  add_whole_number_option(*sub, "--repeat", args->repeat, "timed runs per measurement (median reported)");
  sub->add_option("--algorithm", args->algorithm,
                  "convolution algorithm: auto, im2col, winograd, direct or reference (default: "
                  "MINIDL_CONV_ALGORITHM, else auto)")
      ->check(CLI::IsMember({"auto", "im2col", "winograd", "direct", "reference"}));
  std::function<void()> run_predict = add_bench_predict_subcommand(*bench);
  return {bench, [args, sub, run_predict] {
            if (!sub->parsed()) return run_predict();
            std::vector<ConvShape> shapes = args->all ? standard_shapes() : std::vector{shape_from_args(*args)};
            if (args->threads) set_num_threads(*args->threads);
            if (args->algorithm) set_conv_algorithm(*args->algorithm);
            for (const ConvShape& s : shapes)
              std::cout << bench_shape(s, args->data_format, args->repeat).dump() << std::endl;
          }};
}

}  // namespace minidl::cli
