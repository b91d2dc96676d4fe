// examples/train_fashion_mnist.cpp — the main job: the classic Keras mnist_cnn, trained on Fashion-MNIST.
//
// This is keras/examples/mnist_cnn.py written with minidl, almost line for line:
//   Conv2D(32, 3x3, relu) -> Conv2D(64, 3x3, relu) -> MaxPooling2D(2) -> Dropout(0.25)
//   -> Flatten -> Dense(128, relu) -> Dropout(0.5) -> Dense(10, softmax)
// trained with Adam(1e-3), batch 128, then evaluated on the test set and saved
// as a Keras-layout .h5 file that Keras's own load_model reads.
//
// Data: the Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist),
// or --data DIR / $MINIDL_FASHION_MNIST_DIR.
//
// Data-parallel over MPI (docs/DISTRIBUTED.md): `mpirun -np 2 train_fashion_mnist`
// trains one model on two processes, each taking half of every batch of 128;
// rank 0 prints and saves. The cores are divided between the ranks unless
// --threads says otherwise.
#include <CLI/CLI.hpp>
#include <minidl/minidl.h>

#include "train/distributed.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

using namespace minidl;

namespace {

// Times each epoch (for the epoch_seconds= line the benchmarks read).
class EpochTimer : public Callback {
 public:
  void on_epoch_begin(int, const Logs&) override { start_ = std::chrono::steady_clock::now(); }
  void on_epoch_end(int, const Logs&) override {
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  double median() const {
    if (seconds.empty()) return 0;
    auto s = seconds;
    std::sort(s.begin(), s.end());
    return s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]);
  }
  std::vector<double> seconds;

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

int main(int argc, char** argv) {
  auto mpi = distributed::init(argc, argv);
  const bool chief = distributed::rank() == 0;
  CLI::App app{"Train the Keras mnist_cnn on Fashion-MNIST with minidl"};
  int epochs = 3, threads = 0, verbose = 1;
  int64_t limit = -1, batch_size = 128;
  uint64_t seed = 42;
  std::string data_dir, output = "fashion_mnist_cnn.h5";
  app.add_option("--epochs", epochs, "training epochs")->check(CLI::NonNegativeNumber);
  app.add_option("--batch-size", batch_size, "batch size")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "threads (default: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--limit", limit, "use only the first N training images");
  app.add_option("--data", data_dir, "directory with the Fashion-MNIST idx files");
  app.add_option("--output", output, "where to save the trained model (.h5)");
  app.add_option("--seed", seed, "random seed");
  app.add_option("--verbose", verbose, "0 silent, 1 progress bar, 2 one line per epoch");
  CLI11_PARSE(app, argc, argv);

  try {
    set_random_seed(seed);
    if (threads == 0 && distributed::size() > 1) threads = std::max(1, num_threads() / distributed::size());
    if (threads > 0) set_num_threads(threads);

    FashionMnist data = load_fashion_mnist(data_dir, limit);
    if (chief)
      std::printf("train: %ld images, test: %ld images, %d rank(s) x %d thread(s)\n",
                  static_cast<long>(data.x_train.dim(0)), static_cast<long>(data.x_test.dim(0)), distributed::size(),
                  num_threads());

    Sequential model({
        Conv2D(32, 3, {.activation = "relu", .input_shape = Shape{28, 28, 1}}),
        Conv2D(64, 3, {.activation = "relu"}),
        MaxPooling2D(2),
        Dropout(0.25),
        Flatten(),
        Dense(128, {.activation = "relu"}),
        Dropout(0.5),
        Dense(10, {.activation = "softmax"}),
    });
    if (chief) std::printf("%s", model->summary().c_str());

    model->compile(std::make_shared<Adam>(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
    auto timer = std::make_shared<EpochTimer>();
    model->fit(data.x_train, data.y_train,
               {.batch_size = batch_size, .epochs = epochs, .verbose = verbose, .callbacks = {timer}});

    // Batches of 256 keep the evaluation's activations (and so peak memory) near the training step's.
    auto scores = model->evaluate(data.x_test, data.y_test, {.batch_size = 256, .verbose = 0});
    model->save(output);  // rank 0 writes; the others return
    if (chief) {
      std::printf("test_loss=%.4f\n", scores["loss"]);
      std::printf("saved=%s\n", output.c_str());
      std::printf("epoch_seconds=%.2f\n", timer->median());
      std::printf("test_accuracy=%.4f\n", scores["accuracy"]);
    }
  } catch (const std::exception& e) {
    if (distributed::size() > 1) distributed::abort_job(e.what());  // the other ranks would wait for this one
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
