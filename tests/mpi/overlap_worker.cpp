// tests/mpi/overlap_worker.cpp — gradient sums overlapped with the backward equal blocking ones, under mpirun.
//
// Every rank trains the same small CNN (BatchNormalization included, so the
// statistics' blocking sums interleave with the started gradient sums) three
// times from the same weights on the same data:
//   overlapped, buckets of 4 KiB   (six buckets, a weight split over four, each sum
//                                   started during the backward)
//   blocking, buckets of 4 KiB     (the same sums, one after the other, after the backward)
//   overlapped, the default buckets
// The first two add the same floats in the same order in every element, and
// the third only groups them differently: the weights after a few Adam steps
// must be bitwise equal, and equal on every rank. Exit 0 when they are, 1 with
// a message naming the rank when not.
#include <minidl/minidl.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "train/distributed.h"
#include "train/distributed_comm.h"
#include "train/distributed_fit.h"

using namespace minidl;

namespace {

int fail(const std::string& what) {
  std::fprintf(stderr, "rank %d: FAILED: %s\n", distributed::rank(), what.c_str());
  return 1;
}

// The weights after 6 steps (batches of 16, 8 rows a rank) from seed 3's initialization.
std::vector<float> train(const distributed::detail::GradientSyncOptions& sync, const Tensor& x, const Tensor& y,
                         int* buckets) {
  distributed::detail::set_gradient_sync_options(sync);
  set_random_seed(3);
  Sequential m;
  m->add(Conv2D(8, 3, {.use_bias = false, .input_shape = Shape{12, 12, 1}}));
  m->add(BatchNormalization());
  m->add(ReLU());
  m->add(Conv2D(8, 3, {.activation = "relu", .kernel_regularizer = std::make_shared<L2>(1e-3)}));
  m->add(MaxPooling2D(2));
  m->add(Flatten());
  m->add(Dense(32, {.activation = "relu"}));
  m->add(Dense(10, {.activation = "softmax"}));
  m->compile(std::make_shared<Adam>(1e-2), "sparse_categorical_crossentropy", {"accuracy"});
  m->fit(x, y, {.batch_size = 16, .epochs = 2, .verbose = 0, .shuffle = false});
  *buckets = distributed::last_fit_stats().buckets;
  std::vector<float> all;
  for (const Variable& w : m->weights()) all.insert(all.end(), w.value().span().begin(), w.value().span().end());
  return all;
}

// Index of the first float whose bits differ, -1 when none.
int64_t first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return static_cast<int64_t>(i);
  return -1;
}

int run() {
  if (distributed::size() < 2) return fail("needs at least 2 ranks, runs on " + std::to_string(distributed::size()));
  set_random_seed(11);
  Tensor x = Tensor::uniform({48, 12, 12, 1}, 0.f, 1.f);
  Tensor y({48});
  for (int64_t i = 0; i < 48; ++i) y[i] = static_cast<float>((i * 7) % 10);

  int small_buckets = 0, blocking_buckets = 0, default_buckets = 0;
  const auto overlapped = train({.bucket_bytes = 4096, .overlap = true}, x, y, &small_buckets);
  const auto blocking = train({.bucket_bytes = 4096, .overlap = false}, x, y, &blocking_buckets);
  const auto one_bucket = train({}, x, y, &default_buckets);
  distributed::detail::set_gradient_sync_options({});
  // Buckets of at most 1 024 floats, in reverse order: the last Dense and the
  // first Dense's bias (362); the first Dense's 4 096-value kernel in four;
  // the convolutions and BatchNormalization (672).
  if (small_buckets != 6 || blocking_buckets != 6)
    return fail("expected 6 buckets of at most 4 KiB, got " + std::to_string(small_buckets) + " and " +
                std::to_string(blocking_buckets));
  if (default_buckets != 1) return fail("expected 1 default bucket, got " + std::to_string(default_buckets));
  if (int64_t at = first_difference(overlapped, blocking); at >= 0)
    return fail("overlapped and blocking sums give different weights at float " + std::to_string(at) + ": " +
                std::to_string(overlapped[static_cast<size_t>(at)]) + " vs " +
                std::to_string(blocking[static_cast<size_t>(at)]));
  if (int64_t at = first_difference(overlapped, one_bucket); at >= 0)
    return fail("4 KiB and default buckets give different weights at float " + std::to_string(at));
  // Every rank holds rank 0's numbers.
  std::vector<float> root = overlapped;
  distributed::detail::broadcast(root.data(), static_cast<int64_t>(root.size()));
  if (int64_t at = first_difference(overlapped, root); at >= 0)
    return fail("weights differ from rank 0's at float " + std::to_string(at));
  std::printf("rank %d: %zu weights equal after overlapped (%d buckets), blocking and default-bucket (%d) sums\n",
              distributed::rank(), overlapped.size(), small_buckets, default_buckets);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto mpi = distributed::init(argc, argv);
  set_num_threads(1);
  try {
    return run();
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
