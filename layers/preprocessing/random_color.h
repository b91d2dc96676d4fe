// layers/preprocessing/random_color.h — RandomContrast and RandomBrightness: random per-image colour
// changes while training, clipped to the value range.
//
//   RandomContrast(0.5)                                  // value_range (0, 255)
//   RandomBrightness({-0.2, 0.2}, {.value_range = {0.0, 1.0}, .seed = 1})
//
// keras.layers.RandomContrast (Keras 3.15 code): factor in [0, 1], a number f
// giving the pair (0, f) (the base layer's rule bounded below by 0) or a pair
// (lower, upper). Each image draws c ~ U(1 - lower, 1 + upper) and becomes
// (x - mean) * c + mean, the mean taken per channel over height and width,
// then clipped to [value_range[0], value_range[1]]. The config stores factor
// as the pair. value_range must be two numbers (Keras does not check).
//
// keras.layers.RandomBrightness: factor in [-1, 1] (a number f: (-|f|, |f|)).
// Each image draws d ~ U(lower, upper) * (high - low) and becomes
// clip(x + d, low, high), value_range sorted into (low, high) and stored so.
//
// Inference is the identity. The training output records no gradient
// (RuntimeError if one is asked for).
// Seeds, the training flag and layouts: layers/preprocessing/image_preprocessing_layer.h.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "layers/preprocessing/image_preprocessing_layer.h"

namespace minidl {

struct RandomColorOptions {
  std::vector<double> value_range = {0, 255};
  std::optional<int64_t> seed{};
  std::string data_format{};
  MINIDL_COMMON_LAYER_OPTIONS;
};
using RandomContrastOptions = RandomColorOptions;
using RandomBrightnessOptions = RandomColorOptions;

// What the two share: the factor pair, the value range, the seed and the call.
class RandomColorLayer : public ImagePreprocessingLayer {
 public:
  json get_config() const override;  // factor (the pair), value_range, seed, data_format
  std::pair<double, double> factor() const { return factor_; }
  const std::vector<double>& value_range() const { return value_range_; }
  const std::optional<int64_t>& seed() const { return seed_; }

 protected:
  // factor checked within [factor_low, 1]; ValueError unless value_range has two numbers.
  RandomColorLayer(const RandomColorOptions& o, const std::string& prefix, const std::string& class_name,
                   const ImageFactor& factor, double factor_low);
  // The training output for x, drawn from gen.
  virtual Tensor adjust(const Tensor& x, const ImageGeometry& g, Generator& gen) const = 0;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

  std::pair<double, double> factor_;
  std::vector<double> value_range_;

 private:
  std::optional<int64_t> seed_;
  SeedStream stream_;
};

class RandomContrastImpl : public RandomColorLayer {
 public:
  explicit RandomContrastImpl(ImageFactor factor, RandomContrastOptions o = {});
  std::string class_name() const override { return "RandomContrast"; }
  static std::shared_ptr<RandomContrastImpl> from_config(const json& config);

 protected:
  Tensor adjust(const Tensor& x, const ImageGeometry& g, Generator& gen) const override;
};

class RandomBrightnessImpl : public RandomColorLayer {
 public:
  // value_range is stored sorted.
  explicit RandomBrightnessImpl(ImageFactor factor, RandomBrightnessOptions o = {});
  std::string class_name() const override { return "RandomBrightness"; }
  static std::shared_ptr<RandomBrightnessImpl> from_config(const json& config);

 protected:
  Tensor adjust(const Tensor& x, const ImageGeometry& g, Generator& gen) const override;
};

class RandomContrast : public LayerHolder<RandomContrastImpl> {
 public:
  explicit RandomContrast(ImageFactor factor, RandomContrastOptions o = {})
      : LayerHolder(std::make_shared<RandomContrastImpl>(std::move(factor), std::move(o))) {}
  explicit RandomContrast(std::shared_ptr<RandomContrastImpl> p) : LayerHolder(std::move(p)) {}
};

class RandomBrightness : public LayerHolder<RandomBrightnessImpl> {
 public:
  explicit RandomBrightness(ImageFactor factor, RandomBrightnessOptions o = {})
      : LayerHolder(std::make_shared<RandomBrightnessImpl>(std::move(factor), std::move(o))) {}
  explicit RandomBrightness(std::shared_ptr<RandomBrightnessImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
