// tests/applications/architecture_checks.h — the checks every keras.applications architecture
// built in C++ gets alike, from one description of it (ArchitectureCase):
//   - the default call has Keras's published parameter count, model name and 1000-class output;
//   - a small input with a few classes gives (None, classes), and the model saved as .h5 and as
//     .keras loads back and predicts the same (1e-6 of the largest output);
//   - bad arguments raise ValueError with Keras's messages.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <random>
#include <string>

#include "applications/application_options.h"
#include "core/errors.h"
#include "io/keras_model.h"
#include "support/assertions.h"
#include "support/files.h"
#include "support/tensors.h"
#include "train/model.h"

namespace minidl::testing {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

struct ArchitectureCase {
  std::string keras_name;  // "ResNet50": the registry name and the name in argument errors
  std::function<Model(const applications::ApplicationOptions&)> build;
  int64_t default_params;     // keras.io/api/applications, the default call
  std::string default_model;  // the default model name
  int64_t min_size;           // Keras's minimum rows and cols
  int64_t small_side;         // the small input the save/load check runs at
  std::function<Tensor(const Tensor&)> preprocess;  // the module's preprocess_input
};

inline void expect_keras_default(const ArchitectureCase& c) {
  const Model model = c.build({});
  EXPECT_EQ(model->count_params(), c.default_params) << c.keras_name;
  EXPECT_EQ(model->name(), c.default_model);
  EXPECT_EQ(model->outputs().at(0).shape(), Shape({kNone, 1000}));
}

inline void expect_small_model_survives_save_and_load(const ArchitectureCase& c) {
  const Model model = c.build({.input_shape = Shape{c.small_side, c.small_side, 3}, .classes = 3});
  ASSERT_EQ(model->outputs().at(0).shape(), Shape({kNone, 3}));
  std::mt19937_64 rng(17);
  const Tensor x = c.preprocess(random_tensor({2, c.small_side, c.small_side, 3}, rng, 0.f, 255.f));
  const Tensor want = model->predict(x, 2);
  for (const char* ext : {".h5", ".keras"}) {
    const std::string path = (temp_dir() / (c.keras_name + ext)).string();
    model->save(path);
    const std::shared_ptr<ModelImpl> loaded = load_model(path);
    EXPECT_EQ(loaded->name(), model->name()) << path;
    EXPECT_EQ(loaded->count_params(), model->count_params()) << path;
    EXPECT_TRUE(AllClose(loaded->predict(x, 2), want, 0, 1e-6)) << path;
  }
}

inline void expect_keras_argument_errors(const ArchitectureCase& c) {
  const int64_t below = c.min_size - 1;
  const std::string too_small = "Input size must be at least " + std::to_string(c.min_size) + "x" +
                                std::to_string(c.min_size) + "; Received: input_shape=(" + std::to_string(below) +
                                ", " + std::to_string(c.min_size) + ", 3)";
  EXPECT_THAT([&] { c.build({.input_shape = Shape{below, c.min_size, 3}}); },
              ThrowsMessage<ValueError>(HasSubstr(too_small)));
  EXPECT_THAT([&] { c.build({.weights = "imagenet"}); },
              ThrowsMessage<ValueError>(AllOf(HasSubstr(c.keras_name), HasSubstr("Received: weights=imagenet"))));
  EXPECT_THAT([&] { c.build({.input_shape = Shape{kNone, kNone, 3}}); },
              ThrowsMessage<ValueError>(HasSubstr("If `include_top` is True, you should specify a static "
                                                  "`input_shape`. Received: input_shape=(None, None, 3)")));
  EXPECT_THAT([&] { c.build({.input_shape = Shape{c.min_size, c.min_size}}); },
              ThrowsMessage<ValueError>(HasSubstr("`input_shape` must be a tuple of three integers.")));
}

}  // namespace minidl::testing
