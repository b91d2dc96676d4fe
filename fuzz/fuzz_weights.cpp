// fuzz/fuzz_weights.cpp — fuzz target: weights files loaded into a fixed small model - the bytes as a
// legacy weights .h5 (save_weights of Keras 1/2) and as a Keras 3 .weights.h5.
#include "fuzz_input.h"
#include "io/keras_model.h"
#include "layers/normalization/batch_normalization.h"
#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "layers/reshaping/reshaping.h"
#include "train/model.h"

namespace {

// Conv2D + BatchNormalization + Dense: kernels, biases and moving statistics.
std::shared_ptr<minidl::ModelImpl> target_model() {
  using namespace minidl;
  static std::shared_ptr<ModelImpl> model = [] {
    Sequential m({
        Conv2D(2, 3, {.input_shape = Shape{5, 5, 1}}),
        BatchNormalization(),
        Flatten(),
        Dense(3),
    });
    return std::shared_ptr<ModelImpl>(m);
  }();
  return model;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto model = target_model();
  minidl::fuzz::read_as_file(data, size, ".h5", [&](const std::string& path) { minidl::load_weights(*model, path); });
  minidl::fuzz::read_as_file(data, size, ".h5",
                             [&](const std::string& path) { minidl::load_weights(*model, path, true, true); });
  minidl::fuzz::read_as_file(data, size, ".weights.h5",
                             [&](const std::string& path) { minidl::load_weights(*model, path); });
  return 0;
}
