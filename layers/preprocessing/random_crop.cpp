// layers/preprocessing/random_crop.cpp — RandomCrop: the window draw, the cut, the resize fallback, config.
#include "layers/preprocessing/random_crop.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"

namespace minidl {

RandomCropImpl::RandomCropImpl(int64_t height, int64_t width, RandomCropOptions o)
    : FixedSizeImageLayer(common_options(o), "random_crop", "RandomCrop", o.data_format, height, width),
      // Keras's make_default_seed: a random int in [1, 1e9].
      config_seed_(o.seed ? *o.seed : static_cast<int64_t>(1 + random_u64() % 1000000000ull)),
      stream_(o.seed) {
  if (height <= 0 || width <= 0)
    fail("`height` and `width` must be positive integers. Received: height={}, width={}", height, width);
}

VariableList RandomCropImpl::call(const std::vector<Variable>& inputs, const CallArgs& args) {
  const Variable& x = single_input(inputs);
  const ImageGeometry g = geometry(x.shape());
  if (!args.training) return {x};
  ImageWindow w;
  if (g.height > height_ && g.width > width_) {
    Generator gen = stream_.next();
    w.top = static_cast<int64_t>(SeedStream::uniform(gen, 0.0, static_cast<double>(g.height - height_ + 1)));
    w.left = static_cast<int64_t>(SeedStream::uniform(gen, 0.0, static_cast<double>(g.width - width_ + 1)));
  } else {
    const ImageWindow a = detail::aspect_crop_window(g.height, g.width, height_, width_);
    w.top = a.top;
    w.left = a.left;
  }
  // Python's slice [top : top + height] stops at the image's edge.
  w.height = std::min(height_, g.height - w.top);
  w.width = std::min(width_, g.width - w.left);
  Tensor cut = detail::window_planes(x.value(), g, w, 0.f);
  ImageGeometry cg = g;
  cg.height = w.height;
  cg.width = w.width;
  if (w.height != height_ || w.width != width_)
    return {untaped_result(detail::resize_planes(cut, cg, height_, width_, ops::Interpolation::Bilinear), x)};
  const ImageWindow back{-w.top, -w.left, g.height, g.width};
  return {make_result(std::move(cut), {x}, "RandomCrop", [cg, back](const Tensor& dy, const std::vector<bool>&) {
    return Grads{detail::window_planes(dy, cg, back, 0.f)};
  })};
}

json RandomCropImpl::get_config() const {
  json c = FixedSizeImageLayer::get_config();
  c["seed"] = config_seed_;
  return c;
}

std::shared_ptr<RandomCropImpl> RandomCropImpl::from_config(const json& config) {
  const std::vector<std::string> keys = {"height", "width", "seed", "data_format", "bounding_box_format"};
  return detail::layer_from_config<RandomCropOptions>(config, "RandomCrop", keys, [&](const ConfigReader& r, RandomCropOptions o) {
    detail::check_bounding_box_format(config, r.owner());
    o.seed = detail::read_seed(config, r.owner());
    o.data_format = detail::read_data_format(config, r.owner());
    return std::make_shared<RandomCropImpl>(r.integer("height"), r.integer("width"), std::move(o));
  });
}

MINIDL_REGISTER_LAYER("RandomCrop", [](const json& c) -> LayerPtr { return RandomCropImpl::from_config(c); });

}  // namespace minidl
