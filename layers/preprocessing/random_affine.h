// layers/preprocessing/random_affine.h — RandomTranslation, RandomRotation, RandomZoom: random
// geometric transforms of each image while training, through ops/image_transform.h.
//
//   RandomTranslation(0.1, 0.1)                          // up to 10% of the height and width, either way
//   RandomRotation(0.1, {.fill_mode = "constant"})        // up to 36 degrees either way
//   RandomZoom({-0.2, 0.1}, std::nullopt, {.seed = 3})    // no width_factor: both axes scaled alike
//   RandomZoom(0.2, {-0.1, 0.3}, {.fill_mode = "nearest"}) // width_factor second, as in Keras
//
// Keras 3's layers of the same names. A factor is a number f (the range
// [-|f|, |f|]) or a pair (lower, upper) in any order:
//   RandomTranslation  shifts by U(lower, upper) * height rows and
//                      U(lower, upper) * width columns (factors in [-1, 1]);
//   RandomRotation     turns about the image centre by U(lower, upper) * 360
//                      degrees (factor in [-1, 1]; the config stores the pair);
//   RandomZoom         samples each axis at the scale U(1 + lower, 1 + upper)
//                      about the centre (factors in (-1, 1]; a positive factor
//                      zooms out, showing more of the picture; without
//                      width_factor both axes use the height draw).
// Each image of a batch draws its own transform. Pixels brought in from
// outside follow fill_mode ("reflect" default, "wrap", "constant" with
// fill_value, "nearest"); interpolation is "bilinear" (default) or "nearest".
// Inference is the identity. Bad arguments are ValueErrors with Keras's
// messages (Keras raises NotImplementedError for an unknown fill_mode or
// interpolation; minidl has no such type). The training output records no
// gradient (RuntimeError if one is asked for).
// Seeds, the training flag and layouts: layers/preprocessing/image_preprocessing_layer.h.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "layers/preprocessing/image_preprocessing_layer.h"

namespace minidl {

struct RandomAffineOptions {
  std::string fill_mode = "reflect";
  std::string interpolation = "bilinear";
  std::optional<int64_t> seed{};
  double fill_value = 0.0;
  std::string data_format{};
  MINIDL_COMMON_LAYER_OPTIONS;
};
using RandomTranslationOptions = RandomAffineOptions;
using RandomRotationOptions = RandomAffineOptions;

// What the three share: fill and interpolation, the seed, and the call.
class RandomAffineLayer : public ImagePreprocessingLayer {
 public:
  // base config + fill_mode, interpolation, seed, fill_value, data_format.
  json get_config() const override;
  const std::string& fill_mode() const { return fill_mode_name_; }
  const std::string& interpolation() const { return interpolation_name_; }
  double fill_value() const { return fill_value_; }
  const std::optional<int64_t>& seed() const { return seed_; }

 protected:
  RandomAffineLayer(LayerOptions o, const std::string& prefix, const std::string& class_name,
                    const std::string& data_format, const std::string& fill_mode, const std::string& interpolation,
                    double fill_value, std::optional<int64_t> seed);
  // One transform per image of g, drawn from gen.
  virtual std::vector<ops::ProjectiveTransform> draw(const ImageGeometry& g, Generator& gen) const = 0;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  std::string fill_mode_name_, interpolation_name_;
  ops::FillMode fill_mode_;
  ops::Interpolation interpolation_;
  double fill_value_;
  std::optional<int64_t> seed_;
  SeedStream stream_;
};

class RandomTranslationImpl : public RandomAffineLayer {
 public:
  RandomTranslationImpl(ImageFactor height_factor, ImageFactor width_factor, RandomTranslationOptions o = {});
  std::string class_name() const override { return "RandomTranslation"; }
  json get_config() const override;  // height_factor, width_factor as given, then the shared keys
  static std::shared_ptr<RandomTranslationImpl> from_config(const json& config);
  std::pair<double, double> height_range() const { return height_; }
  std::pair<double, double> width_range() const { return width_; }

 protected:
  std::vector<ops::ProjectiveTransform> draw(const ImageGeometry& g, Generator& gen) const override;

 private:
  ImageFactor height_factor_, width_factor_;
  std::pair<double, double> height_, width_;
};

class RandomRotationImpl : public RandomAffineLayer {
 public:
  explicit RandomRotationImpl(ImageFactor factor, RandomRotationOptions o = {});
  std::string class_name() const override { return "RandomRotation"; }
  json get_config() const override;  // factor as the (lower, upper) pair, then the shared keys
  static std::shared_ptr<RandomRotationImpl> from_config(const json& config);
  std::pair<double, double> factor() const { return factor_; }

 protected:
  std::vector<ops::ProjectiveTransform> draw(const ImageGeometry& g, Generator& gen) const override;

 private:
  std::pair<double, double> factor_;
};

class RandomZoomImpl : public RandomAffineLayer {
 public:
  // width_factor None: both axes use the height draw.
  RandomZoomImpl(ImageFactor height_factor, ImageFactor width_factor, RandomAffineOptions o = {});
  std::string class_name() const override { return "RandomZoom"; }
  json get_config() const override;  // height_factor, width_factor (null when not given), then the shared keys
  static std::shared_ptr<RandomZoomImpl> from_config(const json& config);

 protected:
  std::vector<ops::ProjectiveTransform> draw(const ImageGeometry& g, Generator& gen) const override;

 private:
  ImageFactor height_factor_, width_factor_;
  std::pair<double, double> height_, width_;
};

class RandomTranslation : public LayerHolder<RandomTranslationImpl> {
 public:
  RandomTranslation(ImageFactor height_factor, ImageFactor width_factor, RandomTranslationOptions o = {})
      : LayerHolder(std::make_shared<RandomTranslationImpl>(std::move(height_factor), std::move(width_factor),
                                                            std::move(o))) {}
  explicit RandomTranslation(std::shared_ptr<RandomTranslationImpl> p) : LayerHolder(std::move(p)) {}
};

class RandomRotation : public LayerHolder<RandomRotationImpl> {
 public:
  explicit RandomRotation(ImageFactor factor, RandomRotationOptions o = {})
      : LayerHolder(std::make_shared<RandomRotationImpl>(std::move(factor), std::move(o))) {}
  explicit RandomRotation(std::shared_ptr<RandomRotationImpl> p) : LayerHolder(std::move(p)) {}
};

class RandomZoom : public LayerHolder<RandomZoomImpl> {
 public:
  explicit RandomZoom(ImageFactor height_factor, ImageFactor width_factor = std::nullopt, RandomAffineOptions o = {})
      : LayerHolder(std::make_shared<RandomZoomImpl>(std::move(height_factor), std::move(width_factor), std::move(o))) {}
  explicit RandomZoom(std::shared_ptr<RandomZoomImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
