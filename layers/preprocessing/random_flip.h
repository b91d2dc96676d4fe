// layers/preprocessing/random_flip.h — RandomFlip: mirror each image at random while training.
//
//   KerasTensor y = RandomFlip("horizontal", {.seed = 42})(Input({28, 28, 1}));
//   Variable z = flip(images, {.training = true});
//
// keras.layers.RandomFlip (Keras 3). Each image of a batch is flipped with
// probability 1/2: left-right for "horizontal", top-bottom for "vertical",
// both at once (one draw, a 180-degree turn) for "horizontal_and_vertical",
// the default. Inference is the identity. Another mode is a ValueError
// (Keras 3 would silently not flip). The gradient flips back with the same draws.
// Seeds, the training flag and layouts: layers/preprocessing/image_preprocessing_layer.h.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "layers/preprocessing/image_preprocessing_layer.h"

namespace minidl {

struct RandomFlipOptions {
  std::optional<int64_t> seed{};
  std::string data_format{};
  MINIDL_COMMON_LAYER_OPTIONS;
};

class RandomFlipImpl : public ImagePreprocessingLayer {
 public:
  explicit RandomFlipImpl(std::string mode = "horizontal_and_vertical", RandomFlipOptions o = {});
  std::string class_name() const override { return "RandomFlip"; }
  json get_config() const override;  // seed, mode, data_format
  static std::shared_ptr<RandomFlipImpl> from_config(const json& config);

  const std::string& mode() const { return mode_; }
  const std::optional<int64_t>& seed() const { return seed_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  std::string mode_;
  bool horizontal_, vertical_;
  std::optional<int64_t> seed_;
  SeedStream stream_;
};

class RandomFlip : public LayerHolder<RandomFlipImpl> {
 public:
  explicit RandomFlip(std::string mode = "horizontal_and_vertical", RandomFlipOptions o = {})
      : LayerHolder(std::make_shared<RandomFlipImpl>(std::move(mode), std::move(o))) {}
  explicit RandomFlip(std::shared_ptr<RandomFlipImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
