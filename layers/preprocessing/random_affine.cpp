// layers/preprocessing/random_affine.cpp — RandomTranslation, RandomRotation, RandomZoom: factor checks,
// the transform draws (Keras's matrices), the shared call and the configs.
#include "layers/preprocessing/random_affine.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"

namespace minidl {

namespace {

std::string owner_of(const std::string& class_name, const std::string& name) { return class_name + " '" + name + "'"; }

// The factor checks of RandomTranslation ([-1, 1]) and RandomZoom ((-1, 1]),
// with their messages: a wrong form names the argument, an element out of range names the element.
std::pair<double, double> own_factor(const ImageFactor& f, const std::string& factor_name, bool zoom,
                                     const std::string& owner) {
  const std::string prefix =
      zoom ? "The `height_factor` and `width_factor` arguments should be a number (or a list of two numbers) in the "
             "range (-1.0, 1.0]. "
           : "The `factor` argument should be a number (or a list of two numbers) in the range [-1.0, 1.0]. ";
  const auto check = [&](double v) {
    if (v > 1.0 || (zoom ? v <= -1.0 : v < -1.0))
      raise<ValueError>("{}: {}Received: input_number={}", owner, prefix, ImageFactor(v).str());
  };
  if (f.is_none() || (f.pair && f.values.size() != 2))
    raise<ValueError>("{}: {}Received: {}={}", owner, prefix, factor_name, f.str());
  if (f.pair) {
    check(f.values[0]);
    check(f.values[1]);
    return {std::min(f.values[0], f.values[1]), std::max(f.values[0], f.values[1])};
  }
  check(f.values[0]);
  return {-std::abs(f.values[0]), std::abs(f.values[0])};
}

// The shared keys of the three configs, read into any of their options structs.
template <class O>
void read_affine_keys(const ConfigReader& r, const json& config, O& o) {
  detail::check_bounding_box_format(config, r.owner());
  o.fill_mode = r.str("fill_mode", "reflect");
  o.interpolation = r.str("interpolation", "bilinear");
  o.seed = detail::read_seed(config, r.owner());
  o.fill_value = r.number("fill_value", 0.0);
  o.data_format = detail::read_data_format(config, r.owner());
}

const std::vector<std::string> kAffineKeys = {"fill_mode", "interpolation", "seed", "fill_value", "data_format",
                                              "bounding_box_format"};

std::vector<std::string> keys_with(std::vector<std::string> own) {
  own.insert(own.end(), kAffineKeys.begin(), kAffineKeys.end());
  return own;
}

float to_float(double v) { return static_cast<float>(v); }

}  // namespace

// --- the shared part ----------------------------------------------------------------

RandomAffineLayer::RandomAffineLayer(LayerOptions o, const std::string& prefix, const std::string& class_name,
                                     const std::string& data_format, const std::string& fill_mode,
                                     const std::string& interpolation, double fill_value, std::optional<int64_t> seed)
    : ImagePreprocessingLayer(std::move(o), prefix, class_name, data_format),
      fill_mode_name_(fill_mode),
      interpolation_name_(interpolation),
      fill_mode_(detail::parse_fill_mode(fill_mode, owner_of(class_name, name()))),
      interpolation_(detail::parse_affine_interpolation(interpolation, owner_of(class_name, name()))),
      fill_value_(fill_value),
      seed_(seed),
      stream_(seed) {}

VariableList RandomAffineLayer::call(const std::vector<Variable>& inputs, const CallArgs& args) {
  const Variable& x = single_input(inputs);
  const ImageGeometry g = geometry(x.shape());
  if (!args.training) return {x};
  Generator gen = stream_.next();
  const std::vector<ops::ProjectiveTransform> t = draw(g, gen);
  return {untaped_result(transform_planes(x.value(), g, t, interpolation_, fill_mode_, to_float(fill_value_)), x)};
}

json RandomAffineLayer::get_config() const {
  json c = ImagePreprocessingLayer::get_config();
  c["fill_mode"] = fill_mode_name_;
  c["interpolation"] = interpolation_name_;
  c["seed"] = detail::seed_to_json(seed_);
  c["fill_value"] = fill_value_;
  c["data_format"] = data_format_;
  return c;
}

// --- RandomTranslation --------------------------------------------------------------

RandomTranslationImpl::RandomTranslationImpl(ImageFactor height_factor, ImageFactor width_factor,
                                             RandomTranslationOptions o)
    : RandomAffineLayer(common_options(o), "random_translation", "RandomTranslation", o.data_format, o.fill_mode,
                        o.interpolation, o.fill_value, o.seed),
      height_factor_(std::move(height_factor)),
      width_factor_(std::move(width_factor)) {
  const std::string owner = owner_of(class_name(), name());
  height_ = own_factor(height_factor_, "height_factor", false, owner);
  width_ = own_factor(width_factor_, "width_factor", false, owner);
}

std::vector<ops::ProjectiveTransform> RandomTranslationImpl::draw(const ImageGeometry& g, Generator& gen) const {
  const auto n = static_cast<size_t>(g.batch);
  std::vector<double> dy(n), dx(n);
  for (double& v : dy) v = SeedStream::uniform(gen, height_.first, height_.second) * static_cast<double>(g.height);
  for (double& v : dx) v = SeedStream::uniform(gen, width_.first, width_.second) * static_cast<double>(g.width);
  std::vector<ops::ProjectiveTransform> t(n);
  // The picture moves by (dx, dy): output (x, y) reads input (x - dx, y - dy).
  for (size_t i = 0; i < n; ++i) t[i] = {1.f, 0.f, to_float(-dx[i]), 0.f, 1.f, to_float(-dy[i]), 0.f, 0.f};
  return t;
}

json RandomTranslationImpl::get_config() const {
  json c = RandomAffineLayer::get_config();
  c["height_factor"] = height_factor_.to_json();
  c["width_factor"] = width_factor_.to_json();
  return c;
}

std::shared_ptr<RandomTranslationImpl> RandomTranslationImpl::from_config(const json& config) {
  return detail::layer_from_config<RandomTranslationOptions>(
      config, "RandomTranslation", keys_with({"height_factor", "width_factor"}),
      [&](const ConfigReader& r, RandomTranslationOptions o) {
        read_affine_keys(r, config, o);
        ImageFactor h = ImageFactor::from_json(r.raw("height_factor"), r.owner(), "height_factor");
        ImageFactor w = ImageFactor::from_json(r.raw("width_factor"), r.owner(), "width_factor");
        return std::make_shared<RandomTranslationImpl>(std::move(h), std::move(w), std::move(o));
      });
}

// --- RandomRotation -----------------------------------------------------------------

RandomRotationImpl::RandomRotationImpl(ImageFactor factor, RandomRotationOptions o)
    : RandomAffineLayer(common_options(o), "random_rotation", "RandomRotation", o.data_format, o.fill_mode,
                        o.interpolation, o.fill_value, o.seed) {
  factor_ = detail::base_factor(factor, -1, 1, owner_of(class_name(), name()));
}

std::vector<ops::ProjectiveTransform> RandomRotationImpl::draw(const ImageGeometry& g, Generator& gen) const {
  const auto n = static_cast<size_t>(g.batch);
  const double cx = 0.5 * static_cast<double>(g.width - 1), cy = 0.5 * static_cast<double>(g.height - 1);
  std::vector<ops::ProjectiveTransform> t(n);
  for (size_t i = 0; i < n; ++i) {
    const double degrees = SeedStream::uniform(gen, factor_.first * 360.0, factor_.second * 360.0);
    const double a = degrees * std::numbers::pi / 180.0;
    const double a0 = std::cos(a), a1 = -std::sin(a), b0 = std::sin(a), b1 = std::cos(a);
    // Rotation about the centre (cx, cy): output (x, y) reads R (x, y) + c - R c.
    t[i] = {to_float(a0), to_float(a1), to_float(cx - cx * a0 - cy * a1),
            to_float(b0), to_float(b1), to_float(cy - cx * b0 - cy * b1), 0.f, 0.f};
  }
  return t;
}

json RandomRotationImpl::get_config() const {
  json c = RandomAffineLayer::get_config();
  c["factor"] = json::array({factor_.first, factor_.second});
  return c;
}

std::shared_ptr<RandomRotationImpl> RandomRotationImpl::from_config(const json& config) {
  return detail::layer_from_config<RandomRotationOptions>(
      config, "RandomRotation", keys_with({"factor"}), [&](const ConfigReader& r, RandomRotationOptions o) {
        read_affine_keys(r, config, o);
        return std::make_shared<RandomRotationImpl>(ImageFactor::from_json(r.raw("factor"), r.owner(), "factor"),
                                                    std::move(o));
      });
}

// --- RandomZoom ---------------------------------------------------------------------

RandomZoomImpl::RandomZoomImpl(ImageFactor height_factor, ImageFactor width_factor, RandomAffineOptions o)
    : RandomAffineLayer(common_options(o), "random_zoom", "RandomZoom", o.data_format, o.fill_mode, o.interpolation,
                        o.fill_value, o.seed),
      height_factor_(std::move(height_factor)),
      width_factor_(std::move(width_factor)) {
  const std::string owner = owner_of(class_name(), name());
  height_ = own_factor(height_factor_, "height_factor", true, owner);
  if (!width_factor_.is_none()) width_ = own_factor(width_factor_, "width_factor", true, owner);
}

std::vector<ops::ProjectiveTransform> RandomZoomImpl::draw(const ImageGeometry& g, Generator& gen) const {
  const auto n = static_cast<size_t>(g.batch);
  std::vector<double> hz(n), wz(n);
  for (double& v : hz) v = SeedStream::uniform(gen, 1.0 + height_.first, 1.0 + height_.second);
  if (!width_factor_.is_none())
    for (double& v : wz) v = SeedStream::uniform(gen, 1.0 + width_.first, 1.0 + width_.second);
  else
    wz = hz;
  const double cx = (static_cast<double>(g.width) - 1.0) / 2.0, cy = (static_cast<double>(g.height) - 1.0) / 2.0;
  std::vector<ops::ProjectiveTransform> t(n);
  // Output (x, y) reads the input at centre + zoom * (position - centre).
  for (size_t i = 0; i < n; ++i)
    t[i] = {to_float(wz[i]), 0.f, to_float(cx * (1.0 - wz[i])), 0.f, to_float(hz[i]), to_float(cy * (1.0 - hz[i])),
            0.f, 0.f};
  return t;
}

json RandomZoomImpl::get_config() const {
  json c = RandomAffineLayer::get_config();
  c["height_factor"] = height_factor_.to_json();
  c["width_factor"] = width_factor_.to_json();
  return c;
}

std::shared_ptr<RandomZoomImpl> RandomZoomImpl::from_config(const json& config) {
  return detail::layer_from_config<RandomAffineOptions>(
      config, "RandomZoom", keys_with({"height_factor", "width_factor"}), [&](const ConfigReader& r, RandomAffineOptions o) {
        read_affine_keys(r, config, o);
        ImageFactor w = r.has("width_factor") ? ImageFactor::from_json(r.raw("width_factor"), r.owner(), "width_factor")
                                              : ImageFactor(std::nullopt);
        return std::make_shared<RandomZoomImpl>(ImageFactor::from_json(r.raw("height_factor"), r.owner(), "height_factor"),
                                                std::move(w), std::move(o));
      });
}

MINIDL_REGISTER_LAYER("RandomTranslation", [](const json& c) -> LayerPtr { return RandomTranslationImpl::from_config(c); });
MINIDL_REGISTER_LAYER("RandomRotation", [](const json& c) -> LayerPtr { return RandomRotationImpl::from_config(c); });
MINIDL_REGISTER_LAYER("RandomZoom", [](const json& c) -> LayerPtr { return RandomZoomImpl::from_config(c); });

}  // namespace minidl
