// tests/mpi/distributed_worker.cpp — the program tests/mpi's ctest entries run under mpirun.
//
// One scenario per first argument; each rank runs it and exits 0 when its
// checks hold, 1 (with a message naming the rank) when one does not:
//   same_numbers plain|bn_l2   2 ranks x 64 rows equal 1 process x 128 rows
//                              after 50 Adam steps of the mnist_cnn (Dropout
//                              off), weights within 1e-5 relative
//   logs_and_predict           shuffled fit: identical logs on every rank;
//                              evaluate and predict equal one process's,
//                              remainder batches included
//   throw_on_rank1             rank 1's callback throws mid-epoch (the job must end)
//   kill_rank1 PATH            rank 0 checkpoints to PATH every epoch; rank 1
//                              kills itself (SIGKILL) in the third epoch
//   load PATH                  (one process) the checkpoint at PATH loads and predicts
#include <minidl/minidl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "train/distributed.h"

using namespace minidl;

namespace {

int fail(const std::string& what) {
  std::fprintf(stderr, "rank %d: FAILED: %s\n", distributed::rank(), what.c_str());
  return 1;
}

// n images side x side x 1 and labels 0..9, the same on every rank: faint
// noise plus a bright square whose place is the label, so that the gradients
// carry a signal (on pure noise with random labels they are sums that cancel
// to rounding noise, and Adam, which divides by their size, would amplify that).
std::pair<Tensor, Tensor> images(int64_t n, int64_t side, uint64_t seed) {
  Generator g(seed);
  std::uniform_real_distribution<float> u(0.f, 0.2f);
  Tensor x({n, side, side, 1}), y({n});
  for (float& v : x.span()) v = u(g);
  const int64_t box = std::max<int64_t>(2, side / 5), room = side - box - 1;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = static_cast<int64_t>(g() % 10);
    y[i] = static_cast<float>(label);
    const int64_t r0 = (label % 5) * room / 4 + static_cast<int64_t>(g() % 2);
    const int64_t c0 = (label / 5) * room + (label / 5 ? -static_cast<int64_t>(g() % 2) : static_cast<int64_t>(g() % 2));
    for (int64_t r = r0; r < r0 + box; ++r)
      for (int64_t c = c0; c < c0 + box; ++c) x[(i * side + r) * side + c] += 0.8f;
  }
  return {x, y};
}

// The Keras mnist_cnn without Dropout; with BatchNormalization after each
// convolution and L2 on every kernel when `bn_l2`.
Sequential mnist_cnn(bool bn_l2, int64_t side) {
  auto reg = [&]() { return bn_l2 ? RegularizerArg(std::make_shared<L2>(1e-3)) : RegularizerArg(); };
  Sequential m;
  // Before BatchNormalization a bias has no effect (its gradient is rounding
  // noise, which Adam would scale up to full steps): no bias there, as in Keras models.
  m->add(Conv2D(32, 3, {.activation = bn_l2 ? "linear" : "relu", .use_bias = !bn_l2, .kernel_regularizer = reg(),
                        .input_shape = Shape{side, side, 1}}));
  if (bn_l2) {
    m->add(BatchNormalization());
    m->add(ReLU());
  }
  m->add(Conv2D(64, 3, {.activation = bn_l2 ? "linear" : "relu", .use_bias = !bn_l2, .kernel_regularizer = reg()}));
  if (bn_l2) {
    m->add(BatchNormalization());
    m->add(ReLU());
  }
  m->add(MaxPooling2D(2));
  m->add(Flatten());
  m->add(Dense(128, {.activation = "relu", .kernel_regularizer = reg()}));
  m->add(Dense(10, {.activation = "softmax"}));
  m->compile(std::make_shared<Adam>(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  return m;
}

void copy_weights(const ModelImpl& from, ModelImpl& to) {
  auto a = from.weights(), b = to.weights();
  for (size_t i = 0; i < a.size(); ++i) b[i].mutable_value().copy_from(a[i].value());
}

// max over weight tensors of max|a - b| / max|b| (the reference is b).
double max_relative_difference(const ModelImpl& a, const ModelImpl& b, std::string* where) {
  auto wa = a.weights(), wb = b.weights();
  double worst = 0;
  for (size_t i = 0; i < wa.size(); ++i) {
    double diff = 0, scale = 0;
    for (int64_t k = 0; k < wb[i].value().numel(); ++k) {
      diff = std::max(diff, std::fabs(double(wa[i].value()[k]) - double(wb[i].value()[k])));
      scale = std::max(scale, std::fabs(double(wb[i].value()[k])));
    }
    const double rel = diff / std::max(scale, 1e-30);
    if (rel > worst) {
      worst = rel;
      *where = wa[i].name();
    }
  }
  return worst;
}

int same_numbers(bool bn_l2, int64_t steps) {
  const int64_t side = 28, batch = 128, n = 5 * batch;  // 5 steps an epoch
  auto [x, y] = images(n, side, 7);
  // Each rank initializes differently: fit's broadcast must make them equal.
  set_random_seed(100 + static_cast<uint64_t>(distributed::rank()));
  Sequential model = mnist_cnn(bn_l2, side);
  model->build(Shape{kNone, side, side, 1});
  Sequential reference = mnist_cnn(bn_l2, side);
  reference->build(Shape{kNone, side, side, 1});
  Sequential rounded = mnist_cnn(bn_l2, side);
  rounded->build(Shape{kNone, side, side, 1});
  copy_weights(*model, *reference);  // rank 0's is what the job starts from
  copy_weights(*model, *rounded);
  // `rounded` starts one float rounding away (each weight times 1 +- 2^-24):
  // how far such a difference carries in `steps` steps, printed beside the
  // result, shows what summing the gradients in any other order would do
  // (the sums over the batch are split-independent: ops/batch_sum.h).
  Generator g(9);
  for (Variable w : rounded->weights())
    for (float& v : w.mutable_value().span()) v *= (g() & 1) ? 1.f + 0x1p-24f : 1.f - 0x1p-24f;
  model->fit(x, y, {.batch_size = batch, .epochs = static_cast<int>((steps * batch + n - 1) / n), .verbose = 0,
                    .shuffle = false});
  if (distributed::rank() != 0) return 0;
  // One process, the whole batch of 128, the same steps.
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t b = (s * batch) % n;
    reference->train_on_batch(x.slice_rows(b, b + batch), y.slice_rows(b, b + batch));
    rounded->train_on_batch(x.slice_rows(b, b + batch), y.slice_rows(b, b + batch));
  }
  std::string where, where_rounded;
  const double rel = max_relative_difference(*model, *reference, &where);
  const double chaos = max_relative_difference(*rounded, *reference, &where_rounded);
  const double bound = 1e-5;
  std::printf("same_numbers %s after %ld steps: 2 ranks x 64 vs 1 process x 128: max relative weight difference "
              "%.3g%s%s; bound %.3g; for scale, one float rounding of the start: %.3g (%s)\n",
              bn_l2 ? "bn_l2" : "plain", static_cast<long>(steps), rel, where.empty() ? "" : " in ", where.c_str(),
              bound, chaos, where_rounded.c_str());
  if (!(rel <= bound)) return fail("2 ranks x 64 differ from 1 process x 128 by " + std::to_string(rel));
  return 0;
}

int logs_and_predict() {
  const int64_t side = 12, n = 23;  // batches of 4: the last has 3 rows (2 + 1 over two ranks)
  auto [x, y] = images(n, side, 11);
  set_random_seed(5);
  Sequential model;
  model->add(Conv2D(4, 3, {.activation = "relu", .input_shape = Shape{side, side, 1}}));
  model->add(BatchNormalization());
  model->add(Flatten());
  model->add(Dense(10, {.activation = "softmax"}));
  model->compile(std::make_shared<Adam>(1e-2), "sparse_categorical_crossentropy", {"accuracy"});
  History h = model->fit(x, y, {.batch_size = 4, .epochs = 3, .verbose = 0, .validation_split = 0.2});
  // Every rank saw the same (averaged) logs: print them for the test to compare.
  const auto& loss = h.history.at("loss");
  const auto& val = h.history.at("val_accuracy");
  std::printf("rank %d logs: loss %.9g %.9g %.9g val_accuracy %.9g\n", distributed::rank(), loss[0], loss[1],
              loss[2], val[2]);
  Tensor p = model->predict(x, 5);
  auto scores = model->evaluate(x, y, {.batch_size = 5, .verbose = 0});
  if (p.dim(0) != n) return fail("predict returned " + std::to_string(p.dim(0)) + " rows for " + std::to_string(n));
  // The same model in one process: predict_on_batch is never sharded.
  Tensor whole = model->predict_on_batch(x);
  for (int64_t i = 0; i < p.numel(); ++i)
    if (std::fabs(p[i] - whole[i]) > 1e-5f)
      return fail("sharded predict differs from one process at " + std::to_string(i));
  double local_loss = 0;
  {
    auto one = model->test_on_batch(x, y);
    local_loss = one.at("loss");
  }
  if (std::fabs(scores["loss"] - local_loss) > 1e-5 * std::max(1.0, std::fabs(local_loss)))
    return fail("sharded evaluate loss " + std::to_string(scores["loss"]) + " vs one process " +
                std::to_string(local_loss));
  std::printf("rank %d evaluate: loss %.9g accuracy %.9g\n", distributed::rank(), scores["loss"],
              scores["accuracy"]);
  return 0;
}

class ThrowOnRank1 : public Callback {
 public:
  void on_train_batch_end(int batch, const Logs&) override {
    if (distributed::rank() == 1 && batch == 3) throw ValueError("injected failure at batch 3");
  }
};

class KillRank1 : public Callback {
 public:
  void on_epoch_begin(int epoch, const Logs&) override { epoch_ = epoch; }
  void on_train_batch_end(int batch, const Logs&) override {
    if (distributed::rank() == 1 && epoch_ == 2 && batch == 2) std::raise(SIGKILL);
  }

 private:
  int epoch_ = 0;
};

int faulty_fit(CallbackPtr cb, const std::string& checkpoint) {
  const int64_t side = 12, n = 64;
  auto [x, y] = images(n, side, 3);
  Sequential model;
  model->add(Conv2D(4, 3, {.activation = "relu", .input_shape = Shape{side, side, 1}}));
  model->add(Flatten());
  model->add(Dense(10, {.activation = "softmax"}));
  model->compile("adam", "sparse_categorical_crossentropy");
  std::vector<CallbackPtr> callbacks{std::move(cb)};
  if (!checkpoint.empty()) callbacks.push_back(ModelCheckpoint(checkpoint, {.monitor = "loss"}));
  model->fit(x, y, {.batch_size = 8, .epochs = 5, .verbose = 0, .callbacks = callbacks});
  return fail("fit returned although a rank failed");
}

int load(const std::string& path) {
  auto model = load_model(path);
  auto [x, y] = images(4, 12, 3);
  Tensor p = model->predict(x);
  if (p.dim(0) != 4 || p.dim(1) != 10) return fail("the checkpoint predicts shape " + shape_str(p.shape()));
  std::printf("checkpoint %s loads and predicts\n", path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto mpi = distributed::init(argc, argv);
  set_num_threads(1);
  const std::string what = argc > 1 ? argv[1] : "";
  const std::string arg = argc > 2 ? argv[2] : "";
  try {
    if (what == "same_numbers") return same_numbers(arg == "bn_l2", argc > 3 ? std::atoi(argv[3]) : 50);
    if (what == "logs_and_predict") return logs_and_predict();
    if (what == "throw_on_rank1") return faulty_fit(std::make_shared<ThrowOnRank1>(), "");
    if (what == "kill_rank1") return faulty_fit(std::make_shared<KillRank1>(), arg);
    if (what == "load") return load(arg);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  std::fprintf(stderr, "usage: %s same_numbers plain|bn_l2 | logs_and_predict | throw_on_rank1 | kill_rank1 PATH | "
               "load PATH\n", argv[0]);
  return 2;
}
