// tools/cmd_bench_predict.cpp — `minidl bench predict MODEL --batch N --threads T [--repeat R] [--warmup-seconds S]`:
// inference speed of a saved model.
//
// Loads MODEL (.h5 or .keras, as every model-taking subcommand: tools/model_source.cpp),
// draws one random batch of N inputs of the model's input shape (U[0, 1), the
// global seed), and times Model::predict(x, N) — one batch per call, as a user
// runs a loaded Keras model. Reported, as one JSON line:
//   load_ms    reading the file and building the model;
//   first_ms   the first predict call (one-time work such as kernel transforms shows here);
//   median_ms  after a warm-up of S seconds (default 0.25, at least one call), the
//              median of R calls (the method of `bench conv2d`: tools/bench_timing.h);
//   images_per_s  N / median;
// with the machine: the CPU's model name (/proc/cpuinfo) and OPENBLAS_CORETYPE
// (null when unset), which selects OpenBLAS's kernels and so changes the speed.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "tools/bench_timing.h"
#include "tools/commands.h"
#include "tools/number_arg.h"

namespace minidl::cli {

namespace {

using json = nlohmann::json;

// Each thread is an OS thread of the pool; more than this is a typing mistake, not a benchmark.
constexpr int64_t kMaxPredictThreads = 1024;

struct BenchPredictArgs {
  ModelSource source;
  int64_t batch = 1;
  std::optional<int> threads;
  int repeat = 10;
  double warmup_seconds = kBenchWarmupMs / 1000;
};

// The "model name" line of /proc/cpuinfo, or null where there is none.
json cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? std::string() : line.substr(start);
  }
  return nullptr;
}

json env_or_null(const char* name) {
  const char* value = std::getenv(name);
  return value ? json(value) : json(nullptr);
}

// One random batch of `batch` samples per model input. ValueError when an input
// has a dimension other than the batch left unknown (no shape to draw from).
std::vector<Tensor> random_inputs(const ModelImpl& model, int64_t batch, const std::string& path) {
  const std::vector<KerasTensor>& inputs = model.inputs();
  MINIDL_CHECK(!inputs.empty(), ValueError,
               "bench predict: model '{}' has no input shape (a Sequential model saved before it was built); "
               "expected a model with an Input",
               path);
  std::vector<Tensor> xs;
  for (const KerasTensor& input : inputs) {
    Shape shape = input.shape();
    for (size_t d = 1; d < shape.size(); ++d)
      MINIDL_CHECK(shape[d] != kNone, ValueError,
                   "bench predict: model '{}' input '{}' has shape {} with an unknown dimension; expected every "
                   "dimension but the batch to be known",
                   path, input.name(), shape_str(shape));
    MINIDL_CHECK(!shape.empty(), ValueError, "bench predict: model '{}' input '{}' has no batch axis", path,
                 input.name());
    shape[0] = batch;
    xs.push_back(Tensor::uniform(shape, 0.f, 1.f));
  }
  return xs;
}

json bench_predict(const BenchPredictArgs& a) {
  using clock = std::chrono::steady_clock;
  const auto t_load = clock::now();
  std::shared_ptr<ModelImpl> model = load_model_source(a.source);
  const double load_ms = bench_elapsed_ms(t_load);

  const std::string label = a.source.path.empty() ? a.source.architecture : a.source.path;
  const std::vector<Tensor> xs = random_inputs(*model, a.batch, label);
  const auto predict_ms = [&] {
    const auto t0 = clock::now();
    if (xs.size() == 1)
      model->predict(xs[0], a.batch);
    else
      model->predict(xs, a.batch);
    return bench_elapsed_ms(t0);
  };
  const double first_ms = predict_ms();
  const double median = bench_median_ms(a.repeat, predict_ms, a.warmup_seconds * 1000);
  return {{"model", label},
          {"batch", a.batch},
          {"threads", num_threads()},
          {"load_ms", load_ms},
          {"first_ms", first_ms},
          {"median_ms", median},
          {"images_per_s", double(a.batch) / (median / 1000)},
          {"repeat", a.repeat},
          {"warmup_seconds", a.warmup_seconds},
          {"cpu", cpu_model_name()},
          {"openblas_coretype", env_or_null("OPENBLAS_CORETYPE")}};
}

}  // namespace

std::function<void()> add_bench_predict_subcommand(CLI::App& bench) {
  auto args = std::make_shared<BenchPredictArgs>();
  CLI::App* sub = bench.add_subcommand(
      "predict", "time Model::predict of a saved model on one random batch; prints one JSON line");
  add_model_options(*sub, args->source);
  add_whole_number_option(*sub, "--batch", args->batch, "batch size N (default 1)");
  add_whole_number_option(*sub, "--threads", args->threads, "threads (default: MINIDL_NUM_THREADS or the core count)",
                          1, kMaxPredictThreads);
  add_whole_number_option(*sub, "--repeat", args->repeat, "timed calls (median reported; default 10)");
  add_positive_number_option(*sub, "--warmup-seconds", args->warmup_seconds,
                             "warm-up before the timed calls, in seconds (default 0.25)");
  return [args] {
    if (args->threads) set_num_threads(*args->threads);
    std::cout << bench_predict(*args).dump() << std::endl;
  };
}

}  // namespace minidl::cli
