// bench/make_applications.cpp — writes each registered keras.applications architecture as a model file.
//
//   make_applications OUTDIR [NAME ...] [--seed S]
//
// Besides the registered architectures, two small networks of the predict
// benchmark (docs/PERFORMANCE.md, "Real networks at batch 1 and 32") are built
// when named, never by default:
//   mnist_cnn  the classic Keras mnist_cnn (28x28x1: Conv2D 32 and 64 3x3 ReLU,
//              MaxPooling2D 2, Dropout, Flatten, Dense 128 ReLU, Dropout, Dense
//              10 softmax), as the main job builds it (tests/support/models.h);
//   ResNet8    ResNet v1 of depth 8 from Keras's CIFAR-10 example (32x32x3: Conv2D
//              16 3x3 + BN + ReLU; three stages of one residual block of 16, 32
//              (stride 2) and 64 (stride 2) filters, each conv-BN-ReLU, conv-BN,
//              a 1x1 stride-2 convolution on the shortcut where the shape
//              changes, Add, ReLU; GlobalAveragePooling2D; Dense 10 softmax;
//              he_normal kernels, L2(1e-4)): 78,666 parameters.
//
// For every architecture applications::names() lists (or only the NAMEs given),
// builds it with Keras's default arguments (default input size, include_top,
// 1000 classes, softmax) after set_random_seed(S) (default 1), so each file's
// weights do not depend on which others were written, and saves it to
// OUTDIR/NAME.h5 with io's save_model (what Model::save calls; named here so the
// program links minidl_io): Keras's legacy full-model layout, which
// bench/keras_to_torch.py reads. An architecture whose default input leaves
// height and width open (MobileNetV3's (None, None, 3)) is built at 224x224x3,
// the size its ImageNet weights use, so the file has a shape to time.
//
// BatchNormalization moving statistics come from a calibration pass, as in
// ../shared/keras-apps: with the initializers' weights and moving variance 1,
// activations shrink block after block into float32 denormals (1e-20 logits),
// whose arithmetic runs tens of times slower on x86 and would make any timing
// meaningless. A copy of the model with every BatchNormalization's momentum at 0
// takes one training step at learning rate 0 on 4 U[0, 1) images, so its moving
// statistics become the batch's; they are copied back. Other weights are
// unchanged.
// Prints one line per file: name, parameter count, input shape, seconds to
// build and save. Used by bench/compare_predict.py.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "applications/application_options.h"
#include "core/random.h"
#include "io/keras_model.h"
#include "layers/activations/activation_layers.h"
#include "layers/merge/merge.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/parts/regularizers.h"
#include "layers/pooling/global_pooling2d.h"
#include "tests/support/models.h"
#include "train/optimizers.h"

namespace {

int usage(const char* message) {
  std::fprintf(stderr, "make_applications: %s\nusage: make_applications OUTDIR [NAME ...] [--seed S]\n", message);
  return 2;
}

// True when an input dimension other than the batch is unknown.
bool has_open_dimension(const minidl::ModelImpl& model) {
  for (const minidl::KerasTensor& input : model.inputs()) {
    const minidl::Shape& shape = input.shape();
    for (size_t d = 1; d < shape.size(); ++d)
      if (shape[d] == minidl::kNone) return true;
  }
  return false;
}

// One convolution of Keras's CIFAR ResNet (resnet_layer): Conv2D, then
// BatchNormalization and the activation where asked.
minidl::KerasTensor resnet_layer(const minidl::KerasTensor& x, int64_t filters, int64_t kernel, int64_t strides,
                                 bool relu, bool batch_norm = true) {
  minidl::KerasTensor y = minidl::Conv2D(filters, kernel,
                                         {.strides = strides,
                                          .padding = "same",
                                          .kernel_initializer = "he_normal",
                                          .kernel_regularizer = std::make_shared<minidl::L2>(1e-4)})(x);
  if (batch_norm) y = minidl::BatchNormalization()(y);
  if (relu) y = minidl::ActivationLayer("relu")(y);
  return y;
}

// ResNet v1, depth 8, for 32x32x3 images and 10 classes (see the header).
minidl::Model resnet8() {
  const minidl::KerasTensor inputs = minidl::Input({32, 32, 3});
  minidl::KerasTensor x = resnet_layer(inputs, 16, 3, 1, true);
  int64_t filters = 16;
  for (int stage = 0; stage < 3; ++stage, filters *= 2) {
    const int64_t strides = stage == 0 ? 1 : 2;
    minidl::KerasTensor y = resnet_layer(x, filters, 3, strides, true);
    y = resnet_layer(y, filters, 3, 1, false);
    if (stage > 0) x = resnet_layer(x, filters, 1, strides, false, false);
    x = minidl::ActivationLayer("relu")(minidl::Add()({x, y}));
  }
  x = minidl::GlobalAveragePooling2D()(x);
  const minidl::KerasTensor outputs =
      minidl::Dense(10, {.activation = "softmax", .kernel_initializer = "he_normal"})(x);
  return minidl::Model(inputs, outputs, "resnet8");
}

// The benchmark networks named in the header, or an application.
minidl::Model build(const std::string& name, const minidl::applications::ApplicationOptions& options = {}) {
  if (name == "mnist_cnn") return minidl::testing::mnist_cnn();
  if (name == "ResNet8") return resnet8();
  return minidl::applications::build(name, options);
}

// Sets every "BatchNormalization" config's momentum to 0, in nested models too.
void zero_batch_norm_momentum(minidl::json& config) {
  if (config.is_object()) {
    if (config.value("class_name", "") == "BatchNormalization" && config.contains("config"))
      config["config"]["momentum"] = 0.0;
    for (auto& [key, value] : config.items()) zero_batch_norm_momentum(value);
  } else if (config.is_array()) {
    for (auto& value : config) zero_batch_norm_momentum(value);
  }
}

// See the header: BatchNormalization moving statistics from one calibration batch.
void calibrate_batch_norm(minidl::ModelImpl& model) {
  bool any = false;
  for (const minidl::LayerPtr& layer : model.layers()) any = any || layer->class_name() == "BatchNormalization";
  if (!any) return;
  minidl::json config = model.get_config();
  zero_batch_norm_momentum(config);
  std::shared_ptr<minidl::ModelImpl> twin = minidl::ModelImpl::from_config(config);
  twin->set_weights(model.get_weights());
  twin->compile(std::make_shared<minidl::SGD>(0.0), "mse");
  minidl::Shape x_shape = model.inputs().at(0).shape(), y_shape = model.outputs().at(0).shape();
  x_shape[0] = y_shape[0] = 4;
  twin->train_on_batch(minidl::Tensor::uniform(x_shape, 0.f, 1.f), minidl::Tensor::zeros(y_shape));
  for (const minidl::LayerPtr& layer : model.layers())
    if (layer->class_name() == "BatchNormalization")
      layer->set_weights(twin->get_layer(layer->name())->get_weights());
}

}  // namespace

int main(int argc, char** argv) {
  std::string outdir;
  std::vector<std::string> wanted;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seed") {
      if (i + 1 >= argc) return usage("--seed needs a value");
      seed = std::stoull(argv[++i]);
    } else if (outdir.empty()) {
      outdir = arg;
    } else {
      wanted.push_back(arg);
    }
  }
  if (outdir.empty()) return usage("missing OUTDIR");
  std::error_code ec;
  if (!std::filesystem::is_directory(outdir, ec)) {
    std::fprintf(stderr, "make_applications: OUTDIR '%s' is not a directory\n", outdir.c_str());
    return 1;
  }
  if (wanted.empty()) wanted = minidl::applications::names();
  if (wanted.empty()) {
    std::fprintf(stderr, "make_applications: no architecture is registered\n");
    return 1;
  }
  int failures = 0;
  for (const std::string& name : wanted) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string path = (std::filesystem::path(outdir) / (name + ".h5")).string();
    try {
      minidl::set_random_seed(seed);
      minidl::Model model = build(name);
      if (has_open_dimension(*model.ptr())) {
        minidl::set_random_seed(seed);
        model = build(name, {.input_shape = minidl::Shape{224, 224, 3}});
      }
      calibrate_batch_norm(*model.ptr());
      minidl::save_model(*model.ptr(), path);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%s: %lld parameters, input %s, %.1f s -> %s\n", name.c_str(),
                  static_cast<long long>(model->count_params()),
                  minidl::shape_str(model->inputs().at(0).shape()).c_str(), s, path.c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "make_applications: %s: %s\n", name.c_str(), e.what());
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}
