// layers/preprocessing/random_color.cpp — RandomContrast and RandomBrightness: draws, the per-image
// arithmetic with clipping, and the configs.
#include "layers/preprocessing/random_color.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"

namespace minidl {

namespace {

std::string range_str(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + fmt::format("{}", v[i]);
  return s + "]";
}

void check_value_range(const std::vector<double>& v, const std::string& owner) {
  if (v.size() != 2)
    raise<ValueError>("{}: The `value_range` argument should be a list of two numbers. Received: value_range={}",
                      owner, range_str(v));
}

std::vector<double> read_value_range(const json& config, const std::string& owner) {
  if (!config.contains("value_range")) return {0, 255};
  const json& j = config["value_range"];
  std::vector<double> v;
  if (j.is_array())
    for (const json& e : j)
      if (e.is_number()) v.push_back(e.get<double>());
  if (!j.is_array() || v.size() != j.size())
    raise<ValueError>("{}: The `value_range` argument should be a list of two numbers. Received: value_range={}",
                      owner, j.dump());
  return v;
}

// Every element of image i of x plus shift[i] times scale[i], as per-channel
// (x - mean) * c + mean or x + d, then clipped to [lo, hi].
// mean[i * C + c] is image i's channel-c mean (zero when unused).
Tensor affine_clip(const Tensor& x, const ImageGeometry& g, const std::vector<double>& scale,
                   const std::vector<double>& mean, const std::vector<double>& shift, double lo, double hi) {
  Tensor y(x.shape());
  const int64_t pc = g.plane_channels(), n = g.plane_size();
  for (int64_t p = 0; p < g.planes(); ++p) {
    const auto i = static_cast<size_t>(g.image_of_plane(p));
    const float* src = x.data() + p * n;
    float* dst = y.data() + p * n;
    for (int64_t k = 0; k < n; ++k) {
      const int64_t c = g.channels_first ? p % g.channels : k % pc;
      const double m = mean[i * static_cast<size_t>(g.channels) + static_cast<size_t>(c)];
      const double v = (src[k] - m) * scale[i] + m + shift[i];
      // np.clip's order: the lower bound first, then the upper.
      dst[k] = static_cast<float>(std::min(std::max(v, lo), hi));
    }
  }
  return y;
}

// Per image and channel, the mean over height and width.
std::vector<double> channel_means(const Tensor& x, const ImageGeometry& g) {
  std::vector<double> mean(static_cast<size_t>(g.batch * g.channels), 0.0);
  const int64_t pc = g.plane_channels(), n = g.plane_size();
  for (int64_t p = 0; p < g.planes(); ++p) {
    const float* src = x.data() + p * n;
    const int64_t i = g.image_of_plane(p);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t c = g.channels_first ? p % g.channels : k % pc;
      mean[static_cast<size_t>(i * g.channels + c)] += src[k];
    }
  }
  const double pixels = static_cast<double>(g.height * g.width);
  for (double& m : mean) m /= pixels;
  return mean;
}

// The body of both from_config functions.
template <class Impl>
std::shared_ptr<Impl> color_from_config(const json& config, const std::string& class_name) {
  const std::vector<std::string> keys = {"factor", "value_range", "seed", "data_format", "bounding_box_format"};
  return detail::layer_from_config<RandomColorOptions>(config, class_name, keys, [&](const ConfigReader& r, RandomColorOptions o) {
    detail::check_bounding_box_format(config, r.owner());
    o.value_range = read_value_range(config, r.owner());
    o.seed = detail::read_seed(config, r.owner());
    o.data_format = detail::read_data_format(config, r.owner());
    return std::make_shared<Impl>(ImageFactor::from_json(r.raw("factor"), r.owner(), "factor"), std::move(o));
  });
}

}  // namespace

// --- the shared part ----------------------------------------------------------------

RandomColorLayer::RandomColorLayer(const RandomColorOptions& o, const std::string& prefix,
                                   const std::string& class_name, const ImageFactor& factor, double factor_low)
    : ImagePreprocessingLayer(common_options(o), prefix, class_name, o.data_format),
      value_range_(o.value_range),
      seed_(o.seed),
      stream_(o.seed) {
  const std::string owner = class_name + " '" + name() + "'";
  factor_ = detail::base_factor(factor, factor_low, 1, owner);
  check_value_range(value_range_, owner);
}

VariableList RandomColorLayer::call(const std::vector<Variable>& inputs, const CallArgs& args) {
  const Variable& x = single_input(inputs);
  const ImageGeometry g = geometry(x.shape());
  if (!args.training) return {x};
  Generator gen = stream_.next();
  return {untaped_result(adjust(x.value(), g, gen), x)};
}

json RandomColorLayer::get_config() const {
  json c = ImagePreprocessingLayer::get_config();
  c["factor"] = json::array({factor_.first, factor_.second});
  c["value_range"] = value_range_;
  c["seed"] = detail::seed_to_json(seed_);
  return c;
}

// --- RandomContrast -----------------------------------------------------------------

RandomContrastImpl::RandomContrastImpl(ImageFactor factor, RandomContrastOptions o)
    : RandomColorLayer(o, "random_contrast", "RandomContrast", factor, 0) {}

Tensor RandomContrastImpl::adjust(const Tensor& x, const ImageGeometry& g, Generator& gen) const {
  std::vector<double> c(static_cast<size_t>(g.batch)), zero(c.size(), 0.0);
  for (double& v : c) v = SeedStream::uniform(gen, 1.0 - factor_.first, 1.0 + factor_.second);
  return affine_clip(x, g, c, channel_means(x, g), zero, value_range_[0], value_range_[1]);
}

std::shared_ptr<RandomContrastImpl> RandomContrastImpl::from_config(const json& config) {
  return color_from_config<RandomContrastImpl>(config, "RandomContrast");
}

// --- RandomBrightness ---------------------------------------------------------------

RandomBrightnessImpl::RandomBrightnessImpl(ImageFactor factor, RandomBrightnessOptions o)
    : RandomColorLayer(o, "random_brightness", "RandomBrightness", factor, -1) {
  std::sort(value_range_.begin(), value_range_.end());
}

Tensor RandomBrightnessImpl::adjust(const Tensor& x, const ImageGeometry& g, Generator& gen) const {
  const double span = value_range_[1] - value_range_[0];
  std::vector<double> d(static_cast<size_t>(g.batch)), one(d.size(), 1.0);
  for (double& v : d) v = SeedStream::uniform(gen, factor_.first, factor_.second) * span;
  const std::vector<double> zero_mean(static_cast<size_t>(g.batch * g.channels), 0.0);
  return affine_clip(x, g, one, zero_mean, d, value_range_[0], value_range_[1]);
}

std::shared_ptr<RandomBrightnessImpl> RandomBrightnessImpl::from_config(const json& config) {
  return color_from_config<RandomBrightnessImpl>(config, "RandomBrightness");
}

MINIDL_REGISTER_LAYER("RandomContrast", [](const json& c) -> LayerPtr { return RandomContrastImpl::from_config(c); });
MINIDL_REGISTER_LAYER("RandomBrightness", [](const json& c) -> LayerPtr { return RandomBrightnessImpl::from_config(c); });

}  // namespace minidl
