// layers/regularization/spatial_dropout2d.cpp — SpatialDropout2D: one dropout draw per feature map.
#include "layers/regularization/spatial_dropout2d.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <random>

#include "layers/base/config_utils.h"
#include "layers/base/core_layers_internal.h"
#include "layers/parts/part_config.h"
#include "layers/base/registry.h"

namespace minidl {

SpatialDropout2DImpl::SpatialDropout2DImpl(double rate, SpatialDropout2DOptions o)
    : Layer(common_options(o), "spatial_dropout2d"), rate_(rate), seed_(o.seed), rng_(o.seed.value_or(0)) {
  if (!(rate >= 0 && rate <= 1))
    fail("Invalid value {} received for `rate`, expected a value between 0 and 1.", rate);
  data_format_ = normalize_data_format(o.data_format, fmt::format("SpatialDropout2D '{}'", name()));
  set_supports_masking(true);  // as Keras's Dropout, which it derives from
}

std::vector<Shape> SpatialDropout2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  if (s.size() != 4)
    fail("expected input of rank 4 ({}), received shape {}",
         data_format_ == "channels_first" ? "batch, channels, rows, cols" : "batch, rows, cols, channels",
         shape_str(s));
  return {s};
}

namespace {

// y = x * mask, where the mask has one value per (image, channel): in the
// [B, H, W, C] block that is mask[b * C + c] (channels_last) or mask[b]
// (channels_first, C == 1) — the same index formula either way.
Tensor apply_channel_mask(const Tensor& x, const std::vector<float>& mask, const ImageBlock& blk) {
  Tensor y(x.shape());
  const float* in = x.data();
  float* out = y.data();
  const int64_t HW = blk.H * blk.W, C = blk.C;
  for (int64_t b = 0; b < blk.B; ++b) {
    const float* m = mask.data() + b * C;
    for (int64_t p = 0; p < HW; ++p) {
      const int64_t base = (b * HW + p) * C;
      for (int64_t c = 0; c < C; ++c) out[base + c] = in[base + c] * m[c];
    }
  }
  return y;
}

}  // namespace

VariableList SpatialDropout2DImpl::call(const std::vector<Variable>& inputs, const CallArgs& args) {
  const Variable& x = single_input(inputs);
  compute_output_shape({x.shape()});
  if (!args.training || rate_ == 0) return {x};
  const ImageBlock blk = image_block(x.shape(), data_format_ == "channels_first");
  // Keras's inverted dropout: keep where u >= rate, scale kept values by 1 / (1 - rate).
  const float rate = static_cast<float>(rate_);
  const float scale = rate_ < 1 ? static_cast<float>(1.0 / (1.0 - rate_)) : 0.f;
  auto mask = std::make_shared<std::vector<float>>(static_cast<size_t>(blk.B * blk.C));
  Generator& gen = seed_ ? rng_ : global_generator();
  std::uniform_real_distribution<float> uniform(0.f, 1.f);
  for (float& m : *mask) m = uniform(gen) >= rate ? scale : 0.f;
  Tensor y = apply_channel_mask(x.value(), *mask, blk);
  return {make_result(y, {x}, "SpatialDropout2D", [mask, blk](const Tensor& dy, const std::vector<bool>&) {
    return std::vector<Tensor>{apply_channel_mask(dy, *mask, blk)};
  })};
}

json SpatialDropout2DImpl::get_config() const {
  json c = base_config();
  c["rate"] = rate_;
  c["noise_shape"] = nullptr;
  c["seed"] = detail::seed_json(seed_);
  c["data_format"] = data_format_;
  return c;
}

std::shared_ptr<SpatialDropout2DImpl> SpatialDropout2DImpl::from_config(const json& c) {
  ConfigReader r(c, "SpatialDropout2D");
  // noise_shape is accepted and ignored: SpatialDropout2D always uses its own.
  r.check_keys({"rate", "noise_shape", "seed", "data_format"});
  SpatialDropout2DOptions o;
  detail::set_common_options(o, common_options_from_config(r));
  o.data_format = r.str("data_format", "");
  o.seed = detail::config_seed(c, "SpatialDropout2D");
  return std::make_shared<SpatialDropout2DImpl>(r.number("rate"), std::move(o));
}

MINIDL_REGISTER_LAYER("SpatialDropout2D",
                      [](const json& c) -> LayerPtr { return SpatialDropout2DImpl::from_config(c); });

}  // namespace minidl
