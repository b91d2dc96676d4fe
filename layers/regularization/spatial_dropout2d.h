// layers/regularization/spatial_dropout2d.h — SpatialDropout2D: Dropout that drops whole feature maps.
//
//   auto drop = SpatialDropout2D(0.25);
//   Variable y = drop(x, {.training = true});   // each (image, channel) plane kept or zeroed
//
// In training each channel of each image is zeroed with probability `rate`
// and the kept ones are scaled by 1 / (1 - rate) (Keras's inverted dropout,
// the Dropout noise shape (batch, 1, 1, channels) / (batch, channels, 1, 1)).
// Outside training, or with rate 0, the input passes through unchanged.
// Keras arguments: rate (required, in [0, 1]; ValueError naming the layer
// otherwise), data_format ("" = keras.json default) and seed (a per-layer
// generator restarted from it at construction; without a seed masks come from
// the global generator, core/random.h). Input must be 4-D.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/random.h"
#include "layers/base/layer.h"
#include "layers/reshaping/spatial_utils.h"

namespace minidl {

struct SpatialDropout2DOptions {
  std::string data_format = "";  // "" (None): keras.json image_data_format
  std::optional<uint64_t> seed = std::nullopt;
  MINIDL_COMMON_LAYER_OPTIONS;
};

class SpatialDropout2DImpl : public Layer {
 public:
  explicit SpatialDropout2DImpl(double rate, SpatialDropout2DOptions o = {});

  std::string class_name() const override { return "SpatialDropout2D"; }
  double rate() const { return rate_; }
  const std::string& data_format() const { return data_format_; }
  const std::optional<uint64_t>& seed() const { return seed_; }

  // {"rate", "noise_shape": null, "seed", "data_format"} plus the base keys
  // (tf.keras 2 writes Dropout's keys; Keras 3 adds data_format).
  json get_config() const override;
  // ValueError for a missing rate, unknown keys or wrong value types.
  static std::shared_ptr<SpatialDropout2DImpl> from_config(const json& config);
  // ValueError unless the input is 4-D.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  double rate_;
  std::string data_format_;
  std::optional<uint64_t> seed_;
  Generator rng_;  // used only when seed_ is set
};

class SpatialDropout2D : public LayerHolder<SpatialDropout2DImpl> {
 public:
  SpatialDropout2D(double rate, SpatialDropout2DOptions o = {})
      : LayerHolder(std::make_shared<SpatialDropout2DImpl>(rate, std::move(o))) {}
  explicit SpatialDropout2D(std::shared_ptr<SpatialDropout2DImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
