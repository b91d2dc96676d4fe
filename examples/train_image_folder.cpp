// examples/train_image_folder.cpp — a small CNN with augmentation trained on a folder of images.
//
// What a Keras user does with their own pictures (the Keras tutorial "Image
// classification from scratch"), written with minidl:
//   1. an image folder, one sub-folder per class: here the program writes one
//      itself, 4 Fashion-MNIST classes x 100 images as PNG files (or, without
//      the Debian dataset, 4 classes of drawn shapes, train/image_set.h);
//   2. image_dataset_from_directory(validation_split 0.2, subset "both", seed):
//      training and validation sets streamed from the files, decoded on a
//      background thread;
//   3. a small CNN that starts with augmentation layers (RandomFlip,
//      RandomRotation: active in fit only) and Rescaling(1/255);
//   4. fit with a CSVLogger, then model.png (plot_model) and curves.png (the
//      loss and accuracy curves drawn from the CSV file).
// Finally it times an epoch from the folder against an epoch of the same images
// held as arrays (to_arrays), the cost of streaming from files.
//
//   train_image_folder [--out DIR] [--epochs N] [--per-class N]
#include <CLI/CLI.hpp>
#include <minidl/minidl.h>

#include "io/image_dataset.h"
#include "io/image_dataset_files.h"
#include "io/plot_history.h"
#include "io/plot_model.h"
#include "layers/preprocessing/random_affine.h"
#include "layers/preprocessing/random_flip.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

using namespace minidl;
namespace fs = std::filesystem;

namespace {

// Writes root/<class>/<class>_<i>.png for `per_class` images of 4 classes; values in [0, 255].
void write_image_folder(const fs::path& root, int64_t per_class) {
  std::vector<std::string> names;
  Tensor x, y;
  try {
    // T-shirt/top, Trouser, Sneaker, Bag: four classes a small CNN tells apart.
    const FashionMnist data = load_fashion_mnist("", 6000);
    names = {"bag", "sneaker", "trouser", "tshirt"};
    const int ids[4] = {8, 7, 1, 0};
    std::vector<int64_t> count(4, 0);
    const int64_t side = 28;
    for (int64_t i = 0; i < data.x_train.dim(0); ++i) {
      const int label = static_cast<int>(data.y_train[i]);
      for (int c = 0; c < 4; ++c) {
        if (label != ids[c] || count[c] >= per_class) continue;
        std::vector<float> px(side * side);
        for (int64_t p = 0; p < side * side; ++p) px[p] = 255.0f * data.x_train[i * side * side + p];
        fs::create_directories(root / names[c]);
        char file[64];
        std::snprintf(file, sizeof file, "%s_%04lld.png", names[c].c_str(), static_cast<long long>(count[c]++));
        save_image((root / names[c] / file).string(), px.data(), side, side, 1);
      }
    }
    return;
  } catch (const IOError& e) {
    std::printf("Fashion-MNIST not found (%s): drawing shapes instead\n", e.what());
  }
  const ImageSet set = make_image_set({.samples = 4 * per_class, .height = 28, .width = 28, .seed = 7});
  for (int64_t i = 0; i < set.x.dim(0); ++i) {
    const std::string cls = kImageSetClasses[static_cast<size_t>(set.y[i])];
    std::vector<float> px(28 * 28);
    for (int64_t p = 0; p < 28 * 28; ++p)  // gray = mean of the three channels
      px[p] = 255.0f * (set.x[(i * 784 + p) * 3] + set.x[(i * 784 + p) * 3 + 1] + set.x[(i * 784 + p) * 3 + 2]) / 3;
    fs::create_directories(root / cls);
    save_image((root / cls / (cls + "_" + std::to_string(i) + ".png")).string(), px.data(), 28, 28, 1);
  }
}

Sequential small_cnn(int64_t classes) {
  RandomFlipOptions flip;
  flip.seed = 1;
  flip.input_shape = Shape{28, 28, 1};
  return Sequential({
      RandomFlip("horizontal", flip),
      RandomRotation(0.05, {.fill_mode = "constant", .seed = 2}),
      Rescaling(1.0 / 255),
      Conv2D(16, 3, {.activation = "relu"}),
      MaxPooling2D(2),
      Conv2D(32, 3, {.activation = "relu"}),
      MaxPooling2D(2),
      Flatten(),
      Dropout(0.25),
      Dense(classes, {.activation = "softmax"}),
  });
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train a small CNN with augmentation on a folder of images"};
  std::string out = "image_folder_run";
  int epochs = 8;
  int64_t per_class = 100;
  app.add_option("--out", out, "folder for the images, training.csv, model.png and curves.png");
  app.add_option("--epochs", epochs, "training epochs")->check(CLI::PositiveNumber);
  app.add_option("--per-class", per_class, "images written per class")->check(CLI::Range(10, 6000));
  CLI11_PARSE(app, argc, argv);

  const fs::path root = fs::path(out) / "images";
  fs::remove_all(root);
  write_image_folder(root, per_class);

  set_random_seed(42);
  auto [train, val] = image_dataset_from_directory_both(
      root.string(),
      {.color_mode = "grayscale", .image_size = {28, 28}, .seed = 1337, .validation_split = 0.2});
  std::printf("Classes: ");
  for (const std::string& c : train->class_names()) std::printf("%s ", c.c_str());
  std::printf("\n");

  Sequential model = small_cnn(static_cast<int64_t>(train->class_names().size()));
  model->compile(std::make_shared<Adam>(1e-3), "sparse_categorical_crossentropy", {"accuracy"});
  const std::string csv = (fs::path(out) / "training.csv").string();
  const History history = model->fit(*train, {.epochs = epochs, .verbose = 2, .callbacks = {CSVLogger(csv)},
                                              .validation_source = val.get()});

  if (plot_model_available()) {
    plot_model(model.ptr(), (fs::path(out) / "model.png").string(), {.show_shapes = true, .dpi = 96});
    std::printf("wrote %s\n", (fs::path(out) / "model.png").c_str());
  } else {
    std::printf("model.png skipped: minidl was built without Graphviz\n");
  }
  if (plot_history_available()) {
    plot_history(csv, (fs::path(out) / "curves.png").string());
    std::printf("wrote %s\n", (fs::path(out) / "curves.png").c_str());
  } else {
    std::printf("curves.png skipped: minidl was built without PLplot\n");
  }

  // The cost of streaming: epochs from the folder against epochs of the same
  // images held as arrays (median of 3 each, one untimed warm-up epoch first).
  auto [x, y] = train->to_arrays();
  auto median_epoch = [&](bool folder) {
    std::vector<double> s;
    for (int e = 0; e < 4; ++e) {
      const auto t = std::chrono::steady_clock::now();
      if (folder)
        model->fit(*train, {.epochs = 1, .verbose = 0});
      else
        model->fit(x, y, {.batch_size = 32, .epochs = 1, .verbose = 0});
      if (e > 0) s.push_back(seconds_since(t));
    }
    std::sort(s.begin(), s.end());
    return s[1];
  };
  const double folder_s = median_epoch(true), arrays_s = median_epoch(false);
  std::printf("epoch_seconds folder=%.3f arrays=%.3f ratio=%.2f (%lld images)\n", folder_s, arrays_s,
              folder_s / arrays_s, static_cast<long long>(train->num_samples()));

  const double val_accuracy = history.history.at("val_accuracy").back();
  std::printf("final val_accuracy=%.3f\n", val_accuracy);
  if (val_accuracy < 0.6) {
    std::fprintf(stderr, "validation accuracy %.3f is below 0.6: training did not work\n", val_accuracy);
    return 1;
  }
  return 0;
}
