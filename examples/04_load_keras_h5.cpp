// examples/04_load_keras_h5.cpp — load a real Keras .h5 file, predict, keep training, save, reload.
//
// The file is k2.1.3-tf_cnn-bn_model.h5 from ../shared/keras-h5 (written by
// Keras 2.1.3 with model.save; see ../shared/keras-h5/PROVENANCE.md), which
// comes with an input and the output Keras's own predict gave for it. Without
// ../shared the example first builds the same model with minidl and writes it
// with minidl's Keras-format save, so it runs the same steps either way:
//   load_model -> summary() -> predict (vs Keras's output when there is one)
//   -> train_on_batch a few steps (the optimizer the file names, compiled for us)
//   -> save -> load_model again -> same weights, same predictions, same step count.
// A wrong result exits 1.
//
// Read next: io/keras_model.h (what loads and what is written), io/keras_load.cpp,
// io/keras_save.cpp, layers/base/registry.h (how a class name becomes a layer),
// then examples/05_custom_layer.cpp.
//
//   build/examples/04_load_keras_h5
#include <minidl/minidl.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "example_checks.h"

using namespace minidl;
namespace fs = std::filesystem;

namespace {

// The architecture of the Keras file, written by minidl: Conv2D > BatchNormalization
// > relu > Conv2D > Flatten > Dense(1), compiled with Adam and mse as the file is.
fs::path write_own_file(const fs::path& dir) {
  Sequential model({Conv2D(1, 3, {.input_shape = Shape{10, 10, 3}}), BatchNormalization(), ActivationLayer("relu"),
                    Conv2D(1, 3), Flatten(), Dense(1)});
  model->compile("adam", "mse");
  const fs::path path = dir / "written_by_minidl.h5";
  model->save(path.string());
  return path;
}

}  // namespace

int main() {
  examples::Checks check("04_load_keras_h5");
  set_random_seed(4);
  const fs::path dir = fs::temp_directory_path() / ("minidl_example_04_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path shared = fs::path(MINIDL_SHARED_DIR) / "keras-h5";
  const std::string stem = "k2.1.3-tf_cnn-bn_model";
  const bool real = fs::exists(shared / (stem + ".h5"));
  const fs::path source = real ? shared / (stem + ".h5") : write_own_file(dir);
  std::printf("loading %s (%s)\n\n", source.string().c_str(), real ? "written by Keras 2.1.3" : "written by minidl");

  try {
    std::shared_ptr<ModelImpl> model = load_model(source.string());
    std::printf("%s\n", model->summary().c_str());
    check(model->compiled(), "the file's training_config compiled the model");

    // Keras's input and output for this file when we have them; else our own input.
    const Tensor x = real ? read_npy((shared / (stem + ".input.npy")).string()) : Tensor::uniform({5, 10, 10, 3});
    const Tensor y = model->predict(x);
    std::printf("predict: x %s -> y %s, first value %.6f\n", shape_str(x.shape()).c_str(),
                shape_str(y.shape()).c_str(), y[0]);
    check(y.shape() == Shape({5, 1}), "predictions have shape (5, 1)");
    if (real) {
      const Tensor keras_y = read_npy((shared / (stem + ".expected.npy")).string());
      const double d = max_abs_diff(y, keras_y);
      std::printf("max |minidl - Keras predict| = %.2e\n", d);
      check(d <= 1e-4 * (1 + std::fabs(keras_y[0])), "minidl's prediction equals Keras's");
    }

    // Keep training towards new targets with the optimizer the file names.
    const Tensor target = Tensor::zeros({5, 1});
    const std::vector<Tensor> before = model->get_weights();
    const int64_t it0 = model->optimizer()->iterations();
    std::printf("\ntraining (%s, loss %s):\n", model->optimizer()->class_name().c_str(),
                model->loss()->class_name().c_str());
    for (int step = 0; step < 3; ++step)
      std::printf("  step %d: loss %.6f\n", step, model->train_on_batch(x, target).at("loss"));
    check(max_abs_diff(before[0], model->get_weights()[0]) > 0, "training changed the first kernel");

    // Save (Keras 2 legacy .h5, optimizer state included) and read it back.
    const fs::path saved = dir / "resumed.h5";
    model->save(saved.string());
    std::shared_ptr<ModelImpl> reloaded = load_model(saved.string());
    const std::vector<Tensor> w1 = model->get_weights(), w2 = reloaded->get_weights();
    bool same_weights = w1.size() == w2.size();
    for (size_t i = 0; same_weights && i < w1.size(); ++i) same_weights = w1[i].to_vector() == w2[i].to_vector();
    check(same_weights, "the reloaded weights are the saved ones, bit for bit");
    const double d = max_abs_diff(model->predict(x), reloaded->predict(x));
    std::printf("max |saved - reloaded predict| = %.2e\n", d);
    check(d <= 1e-6, "the reloaded model predicts as the saved one");
    const int64_t it1 = model->optimizer()->iterations(), it2 = reloaded->optimizer()->iterations();
    std::printf("optimizer iterations: saved %ld, reloaded %ld\n", static_cast<long>(it1), static_cast<long>(it2));
    check(it1 == it0 + 3 && it2 == it1, "the optimizer resumes where it stopped");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "04_load_keras_h5: FAILED: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
  fs::remove_all(dir);
  return check.finish();
}
