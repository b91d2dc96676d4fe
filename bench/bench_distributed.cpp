// bench/bench_distributed.cpp — data-parallel training: epoch time and the cost of averaging gradients.
//
// Trains the main job's model (the Keras mnist_cnn, examples/train_fashion_mnist.cpp)
// for a few epochs on Fashion-MNIST (synthetic images of the same shape when
// the dataset is absent) and prints the median epoch time. Run it twice to
// compare one process with two threads against two ranks with one thread each:
//
//   bench_distributed --threads 2
//   mpirun -np 2 bench_distributed --threads 1
//
// On several ranks it also prints, per train step, the gradient bytes each
// rank sums and in how many buckets, the time those sums take on their own
// (blocking allreduces of as many buckets, measured after training), the
// time fit waited for them after the backward pass, and so the fraction
// hidden behind the backward. A rank that ends its backward first also waits
// for the other ranks' backward, which is not communication: the exposed
// time of a step is the wait of the rank that finished last (the smallest
// wait of the step), and hidden_fraction = 1 - exposed / alone.
//
//   --bucket-kb N   fused buffers of N KiB (GradientSyncOptions::bucket_bytes)
//   --blocking      the same buckets summed after the backward (no overlap)
#include <minidl/minidl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/support/models.h"
#include "train/distributed.h"
#include "train/distributed_comm.h"
#include "train/distributed_fit.h"

using namespace minidl;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

class EpochTimer : public Callback {
 public:
  void on_epoch_begin(int, const Logs&) override { start_ = now(); }
  void on_epoch_end(int, const Logs&) override { seconds.push_back(now() - start_); }
  std::vector<double> seconds;

 private:
  double start_ = 0;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

FashionMnist data_or_synthetic(int64_t limit) {
  try {
    return load_fashion_mnist("", limit);
  } catch (const std::exception& e) {
    if (distributed::rank() == 0) std::printf("Fashion-MNIST not found (%s): synthetic images\n", e.what());
    FashionMnist d;
    d.x_train = Tensor::uniform({limit, 28, 28, 1}, 0.f, 1.f);
    d.y_train = Tensor({limit});
    for (int64_t i = 0; i < limit; ++i) d.y_train[i] = static_cast<float>(i % 10);
    return d;
  }
}

// Seconds one step's gradient sums take with nothing else running: the same
// bytes in as many buckets (of equal size), blocking, after a barrier; the
// slowest rank's time, median of `repeats` (a rank the loaded machine
// preempts makes single repeats slow).
double allreduce_seconds(int64_t bytes, int buckets, int repeats) {
  const int64_t floats = bytes / 4;
  const int64_t per = (floats + buckets - 1) / std::max(buckets, 1);
  std::vector<float> data(static_cast<size_t>(floats), 1.f);
  std::vector<float> ranks(static_cast<size_t>(distributed::size()));
  const std::vector<int64_t> one_each(ranks.size(), 1);
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    distributed::detail::barrier();
    const double t0 = now();
    for (int64_t at = 0; at < floats; at += per)
      distributed::detail::allreduce_sum(data.data() + at, std::min(per, floats - at));
    const float mine = static_cast<float>(now() - t0);
    distributed::detail::allgather(&mine, one_each, ranks.data());
    times.push_back(*std::max_element(ranks.begin(), ranks.end()));
  }
  return median(times);
}

// The mean over steps of the smallest wait any rank had after its backward.
double exposed_seconds(const std::vector<double>& waits) {
  const int p = distributed::size();
  std::vector<float> mine(waits.begin(), waits.end());
  std::vector<int64_t> counts(static_cast<size_t>(p), static_cast<int64_t>(mine.size()));
  std::vector<float> all(mine.size() * static_cast<size_t>(p));
  distributed::detail::allgather(mine.data(), counts, all.data());
  double total = 0;
  for (size_t step = 0; step < mine.size(); ++step) {
    float least = all[step];
    for (int r = 1; r < p; ++r) least = std::min(least, all[static_cast<size_t>(r) * mine.size() + step]);
    total += least;
  }
  return mine.empty() ? 0 : total / static_cast<double>(mine.size());
}

}  // namespace

int main(int argc, char** argv) {
  auto mpi = distributed::init(argc, argv);
  int threads = 0, epochs = 3;
  int64_t limit = 12800, batch = 128;
  distributed::detail::GradientSyncOptions sync;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--blocking") sync.overlap = false;
    else if (a == "--threads" && has_value) threads = std::atoi(argv[++i]);
    else if (a == "--epochs" && has_value) epochs = std::atoi(argv[++i]);
    else if (a == "--limit" && has_value) limit = std::atoll(argv[++i]);
    else if (a == "--batch-size" && has_value) batch = std::atoll(argv[++i]);
    else if (a == "--bucket-kb" && has_value) sync.bucket_bytes = std::atoll(argv[++i]) * 1024;
    else {
      std::fprintf(stderr,
                   "usage: %s [--threads N] [--epochs N] [--limit N] [--batch-size N] [--bucket-kb N] [--blocking]\n",
                   argv[0]);
      return 2;
    }
  }
  distributed::detail::set_gradient_sync_options(sync);
  if (threads > 0) set_num_threads(threads);
  const bool chief = distributed::rank() == 0;
  set_random_seed(42);
  FashionMnist data = data_or_synthetic(limit);
  Sequential model = testing::mnist_cnn();  // the main job's model, Dropout included
  model->compile(std::make_shared<Adam>(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  auto timer = std::make_shared<EpochTimer>();
  model->fit(data.x_train, data.y_train,
             {.batch_size = batch, .epochs = epochs, .verbose = 0, .callbacks = {timer}});
  // The first epoch warms caches and the thread pool; the median of the rest.
  std::vector<double> steady(timer->seconds.begin() + (timer->seconds.size() > 1 ? 1 : 0), timer->seconds.end());
  const double epoch = median(steady);
  if (chief)
    std::printf("ranks=%d threads_per_rank=%d images=%ld batch=%ld epoch_seconds=%.3f\n", distributed::size(),
                num_threads(), static_cast<long>(data.x_train.dim(0)), static_cast<long>(batch), epoch);
  if (distributed::size() > 1) {
    const auto s = distributed::last_fit_stats();
    const double steps = static_cast<double>(std::max<int64_t>(s.steps, 1));
    const double alone = allreduce_seconds(s.bytes_per_step, s.buckets, 20);
    const double wait = s.wait_seconds / steps, backward = s.backward_seconds / steps;
    const double exposed = exposed_seconds(distributed::detail::last_fit_step_waits());
    const double hidden = alone > 0 ? std::clamp(1.0 - exposed / alone, 0.0, 1.0) : 1.0;
    if (chief)
      std::printf("allreduce_bytes_per_step=%ld buckets=%d overlap=%d allreduce_ms_per_step=%.3f "
                  "backward_ms_per_step=%.3f wait_ms_per_step=%.3f exposed_ms_per_step=%.3f hidden_fraction=%.2f "
                  "step_ms=%.3f\n",
                  static_cast<long>(s.bytes_per_step), s.buckets, sync.overlap ? 1 : 0, alone * 1e3, backward * 1e3,
                  wait * 1e3, exposed * 1e3, hidden,
                  epoch / std::ceil(static_cast<double>(data.x_train.dim(0)) / static_cast<double>(batch)) * 1e3);
  }
  return 0;
}
