// examples/09_transfer_learning.cpp — transfer learning with a keras.applications CNN written by Keras 3.
//
// What Keras users do with MobileNetV2 & co., step by step:
//   1. load the file (here ../shared/keras-apps/MobileNetV2.h5, written by Keras 3.15; or the
//      .h5/.keras given as the argument);
//   2. cut the network at its global pooling, Model(base.input, pool.output), and freeze that
//      feature model (set_trainable(false)): no weight of it changes under fit, and its
//      BatchNormalization layers normalize with their moving statistics, as in Keras 3;
//   3. put a new Dense head on top for the classes of a picture set the project draws itself
//      (train/image_set.h: stripes, discs, checkerboards), compile, fit 2 epochs, evaluate;
//   4. save the result as .keras and .h5, load both back, and compare their predictions.
// Without ../shared the example says so and builds a small MobileNetV2-like base itself (saved
// and reloaded as a Keras .h5), so it runs the same steps either way. A wrong result exits 1.
//
// Read next: layers/base/layer.h (set_trainable, trainable_weights),
// layers/normalization/batch_normalization.cpp (the frozen layer's inference mode),
// train/image_set.h, io/keras_model.h (load_model, save_model), examples/08_fine_tune.cpp.
//
//   build/examples/09_transfer_learning [model.h5 | model.keras]
#include <minidl/minidl.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "example_checks.h"
#include "train/image_set.h"

using namespace minidl;
namespace fs = std::filesystem;

namespace {

// A stand-in base in MobileNetV2's style (stem convolution, BatchNormalization, ReLU6, an
// inverted-residual block, global pooling, a classifier), with moving statistics from a short
// fit, written as a Keras .h5 so that it is loaded the way a downloaded model is.
fs::path write_stand_in(const fs::path& dir) {
  KerasTensor in = Input({48, 32, 3}, {.name = "input_layer"});
  KerasTensor x = Conv2D(16, 3, {.strides = 2, .padding = "same", .use_bias = false, .name = "Conv1"})(in);
  x = BatchNormalization({.name = "bn_Conv1"})(x);
  x = ReLU({.max_value = 6.0, .name = "Conv1_relu"})(x);
  KerasTensor y = DepthwiseConv2D(3, {.padding = "same", .use_bias = false, .name = "block_1_depthwise"})(x);
  y = BatchNormalization({.name = "block_1_depthwise_BN"})(y);
  y = ReLU({.max_value = 6.0, .name = "block_1_depthwise_relu"})(y);
  y = Conv2D(16, 1, {.use_bias = false, .name = "block_1_project"})(y);
  y = BatchNormalization({.name = "block_1_project_BN"})(y);
  x = Add({.name = "block_1_add"})({x, y});
  x = GlobalAveragePooling2D({.name = "global_average_pooling2d"})(x);
  KerasTensor out = Dense(10, {.activation = "softmax", .name = "predictions"})(x);
  Model base(in, out, "stand_in_mobilenetv2");
  base->compile("adam", "sparse_categorical_crossentropy");
  base->fit(Tensor::normal({64, 48, 32, 3}), Tensor::zeros({64}), {.batch_size = 16, .epochs = 1, .verbose = 0});
  const fs::path path = dir / "stand_in_mobilenetv2.h5";
  base->save(path.string());
  return path;
}

// The pictures as the model wants them: scaled to [-1, 1] as keras.applications.mobilenet_v2's
// preprocess_input does, or in [0, 255] for a model that rescales inside (MobileNetV3's Rescaling).
ImageSet pictures(const Shape& batch_input_shape, int64_t samples, uint64_t seed, bool rescales_inside) {
  ImageSet set =
      make_image_set({.samples = samples, .height = batch_input_shape[1], .width = batch_input_shape[2], .seed = seed});
  for (float& v : set.x.span()) v = rescales_inside ? v * 255.0f : v * 2.0f - 1.0f;
  return set;
}

int64_t count(const std::vector<Variable>& vars) {
  int64_t n = 0;
  for (const auto& v : vars) n += v.value().numel();
  return n;
}

std::vector<std::vector<float>> values_of(const std::vector<Variable>& vars) {
  std::vector<std::vector<float>> out;
  for (const auto& v : vars) out.push_back(v.value().to_vector());
  return out;
}

int64_t argmax_row(const Tensor& t, int64_t row) {
  const int64_t cols = t.dim(1);
  int64_t best = 0;
  for (int64_t c = 1; c < cols; ++c)
    if (t[row * cols + c] > t[row * cols + best]) best = c;
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Checks check("09_transfer_learning");
  set_random_seed(9);
  const fs::path dir = fs::temp_directory_path() / ("minidl_example_09_" + std::to_string(getpid()));
  fs::create_directories(dir);
  try {
    // 1. The base model, as a file.
    fs::path source;
    if (argc > 1) {
      source = argv[1];
    } else {
      source = fs::path(MINIDL_SHARED_DIR) / "keras-apps" / "MobileNetV2.h5";
      if (!fs::exists(source)) {
        std::printf("%s is not here (../shared is absent): using a small stand-in base written by minidl\n",
                    source.string().c_str());
        source = write_stand_in(dir);
      }
    }
    std::shared_ptr<ModelImpl> base = load_model(source.string());
    const Shape input_shape = base->inputs()[0].shape();
    std::printf("loaded %s: model '%s', %zu layers, %ld parameters, input %s\n", source.filename().c_str(),
                base->name().c_str(), base->layers().size(), static_cast<long>(base->count_params()),
                shape_str(input_shape).c_str());

    // 2. Cut at the global pooling (the last GlobalAveragePooling2D: keras.applications models
    //    end with pooling, then their classifier) and freeze.
    LayerPtr pool;
    for (const auto& layer : base->layers())
      if (layer->class_name() == "GlobalAveragePooling2D") pool = layer;
    if (!pool) raise<ValueError>("model '{}' has no GlobalAveragePooling2D layer to cut at", base->name());
    Model features(base->inputs()[0], pool->output(), "features");
    features->set_trainable(false);
    std::printf("features: the base up to '%s', output %s, frozen\n", pool->name().c_str(),
                shape_str(pool->output().shape()).c_str());

    // 3. A new head for the picture classes.
    Shape image_shape(input_shape.begin() + 1, input_shape.end());
    KerasTensor image = Input(image_shape, {.name = "image"});
    Dense head(static_cast<int64_t>(kImageSetClasses.size()), {.activation = "softmax", .name = "new_head"});
    Model tuned(image, head(features(image)), "transfer");
    std::printf("\n%s", tuned->summary().c_str());
    const int64_t trainable = count(tuned->trainable_weights()), frozen = count(tuned->non_trainable_weights());
    std::printf("trainable parameters: %ld (the head), non-trainable: %ld (the frozen base)\n\n",
                static_cast<long>(trainable), static_cast<long>(frozen));
    check(trainable == count(head->weights()), "only the new head is trainable");

    bool rescales_inside = false;
    for (const auto& layer : base->layers()) rescales_inside = rescales_inside || layer->class_name() == "Rescaling";
    const ImageSet train = pictures(input_shape, 96, 1, rescales_inside);
    const ImageSet test = pictures(input_shape, 32, 2, rescales_inside);
    std::printf("pictures: %ld to train on, %ld to test, classes", static_cast<long>(train.x.dim(0)),
                static_cast<long>(test.x.dim(0)));
    for (const char* name : kImageSetClasses) std::printf(" %s", name);
    std::printf("\n");

    const auto base_before = values_of(features->weights());
    const auto head_before = values_of(head->weights());
    tuned->compile(std::make_shared<Adam>(0.001), "sparse_categorical_crossentropy", {"accuracy"});
    History h = tuned->fit(train.x, train.y, {.batch_size = 16, .epochs = 2, .verbose = 0});
    for (size_t e = 0; e < h.history["loss"].size(); ++e)
      std::printf("epoch %zu: loss %.4f, accuracy %.3f\n", e + 1, h.history["loss"][e], h.history["accuracy"][e]);
    const double test_accuracy = tuned->evaluate(test.x, test.y, {.verbose = 0}).at("accuracy");
    std::printf("test accuracy: %.3f (chance: %.3f)\n", test_accuracy,
                1.0 / static_cast<double>(kImageSetClasses.size()));
    // The keras-apps files hold random weights (no ImageNet training): their features separate
    // the pictures only a little, and 2 epochs move the accuracy little above chance. The steps
    // are those of a fine-tune of pretrained weights.

    check(values_of(features->weights()) == base_before,
          "the frozen base is unchanged, bit for bit (moving statistics too)");
    check(values_of(head->weights()) != head_before, "the head's weights changed");
    check(h.history["loss"].back() < h.history["loss"].front(), "the loss went down from epoch 1 to epoch 2");

    // 4. Save in both formats, load back, predict the test pictures.
    const Tensor expected = tuned->predict(test.x);
    for (const char* ext : {".keras", ".h5"}) {
      const fs::path saved = dir / (std::string("transfer") + ext);
      tuned->save(saved.string());
      std::shared_ptr<ModelImpl> reloaded = load_model(saved.string());
      const Tensor got = reloaded->predict(test.x);
      bool same_classes = true;
      for (int64_t i = 0; i < got.dim(0); ++i)
        same_classes = same_classes && argmax_row(got, i) == argmax_row(expected, i);
      const double d = max_abs_diff(got, expected);
      std::printf("%s: %ld bytes, reloaded: max |saved - reloaded predict| = %.2e\n", saved.filename().c_str(),
                  static_cast<long>(fs::file_size(saved)), d);
      check(d <= 1e-6 && same_classes, std::string("the reloaded ") + ext + " predicts as the saved model");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "09_transfer_learning: FAILED: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
  fs::remove_all(dir);
  return check.finish();
}
