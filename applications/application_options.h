// applications/application_options.h — the arguments every keras.applications constructor shares, and the registry by name.
//
// Each architecture lives in its own file (applications/resnet.cpp, ...) and is
// called as in Keras, with the shared arguments first and the architecture's
// own second:
//
//   Model m = applications::MobileNetV2({.input_shape = Shape{160, 160, 3}, .classes = 10}, {.alpha = 0.5});
//   Model r = applications::build("ResNet50");          // by Keras's name, default arguments
//
// The models are built with Keras's layer names, arguments and initializers,
// so a saved minidl model has the config Keras writes for the same call.
// Weights start from those initializers (core/random.h's seed): this library
// downloads nothing, so weights="imagenet" is refused with a ValueError; load
// trained weights from a file instead (model->load_weights(path)).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/shape.h"
#include "train/model.h"

namespace minidl::applications {

struct ApplicationOptions {
  bool include_top = true;
  // Only "" (Keras's None) is accepted: see the header comment.
  std::string weights = "";
  // Without the batch dimension, channels last; unset: the architecture's default size.
  std::optional<Shape> input_shape = std::nullopt;
  // Without the top: "" (4-D output), "avg" or "max" (global pooling).
  std::string pooling = "";
  int64_t classes = 1000;
  std::string classifier_activation = "softmax";
  // The Model's name; "" gives Keras's default for the architecture.
  std::string name = "";
};

using ApplicationBuilder = std::function<Model(const ApplicationOptions&)>;

// Builds the architecture registered under Keras's name (e.g. "MobileNetV2"),
// with its own arguments at their defaults. Throws ValueError naming the
// unknown name and listing the known ones.
Model build(const std::string& name, const ApplicationOptions& options = {});
// Keras names of the registered architectures, sorted.
std::vector<std::string> names();

// Each architecture's .cpp registers its default-argument builder with a
// namespace-scope ApplicationRegistrar.
struct ApplicationRegistrar {
  ApplicationRegistrar(const std::string& name, ApplicationBuilder builder);
};

}  // namespace minidl::applications
