// layers/preprocessing/random_crop.h — RandomCrop: a random height x width window while training.
//
//   KerasTensor y = RandomCrop(24, 24, {.seed = 7})(Input({28, 28, 1}));   // (None, 24, 24, 1)
//
// keras.layers.RandomCrop (Keras 3.15 code). While training, when the image is
// larger than the target on both axes, one window position is drawn per call
// (the whole batch is cut at the same place), top uniform in
// [0, H - height], left in [0, W - width]. Otherwise the window starts where
// the largest centred window of the target's aspect ratio starts, is cut at
// most height x width, and is resized bilinearly to height x width when its
// size differs.
// At inference the layer returns its input unchanged, as Keras 3.15's code
// and tests do (its docstring still describes a centre crop); the symbolic
// output shape is (height, width) either way, as in Keras.
// Keras writes a seed into the config even when none was given (a random one
// drawn at construction); the layer's own stream still follows the seed
// argument. Gradients: a plain window passes the gradient back into the
// window; the resize path records none (RuntimeError if asked).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "layers/preprocessing/image_preprocessing_layer.h"

namespace minidl {

struct RandomCropOptions {
  std::optional<int64_t> seed{};
  std::string data_format{};
  MINIDL_COMMON_LAYER_OPTIONS;
};

class RandomCropImpl : public FixedSizeImageLayer {
 public:
  // ValueError for a height or width that is not positive.
  RandomCropImpl(int64_t height, int64_t width, RandomCropOptions o = {});
  std::string class_name() const override { return "RandomCrop"; }
  json get_config() const override;  // height, width, seed, data_format
  static std::shared_ptr<RandomCropImpl> from_config(const json& config);
  int64_t seed() const { return config_seed_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  int64_t config_seed_;
  SeedStream stream_;
};

class RandomCrop : public LayerHolder<RandomCropImpl> {
 public:
  RandomCrop(int64_t height, int64_t width, RandomCropOptions o = {})
      : LayerHolder(std::make_shared<RandomCropImpl>(height, width, std::move(o))) {}
  explicit RandomCrop(std::shared_ptr<RandomCropImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
