// layers/preprocessing/random_flip.cpp — RandomFlip: per-image flip draws, the flip and its config.
#include "layers/preprocessing/random_flip.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"

namespace minidl {

namespace {

// y = x with the planes of each flipped image mirrored; flips[i] for image i.
Tensor flip_planes(const Tensor& x, const ImageGeometry& g, const std::vector<char>& flips, bool horizontal,
                   bool vertical) {
  Tensor y(x.shape());
  const int64_t pc = g.plane_channels(), n = g.plane_size();
  for (int64_t p = 0; p < g.planes(); ++p) {
    const float* src = x.data() + p * n;
    float* dst = y.data() + p * n;
    const bool flip = flips[static_cast<size_t>(g.image_of_plane(p))] != 0;
    for (int64_t r = 0; r < g.height; ++r) {
      const int64_t sr = flip && vertical ? g.height - 1 - r : r;
      for (int64_t c = 0; c < g.width; ++c) {
        const int64_t sc = flip && horizontal ? g.width - 1 - c : c;
        std::copy_n(src + (sr * g.width + sc) * pc, pc, dst + (r * g.width + c) * pc);
      }
    }
  }
  return y;
}

}  // namespace

RandomFlipImpl::RandomFlipImpl(std::string mode, RandomFlipOptions o)
    : ImagePreprocessingLayer(common_options(o), "random_flip", "RandomFlip", o.data_format),
      mode_(std::move(mode)),
      horizontal_(mode_ == "horizontal" || mode_ == "horizontal_and_vertical"),
      vertical_(mode_ == "vertical" || mode_ == "horizontal_and_vertical"),
      seed_(o.seed),
      stream_(o.seed) {
  if (!horizontal_ && !vertical_)
    fail("RandomFlip layer {} received an unknown mode argument {}", name(), mode_);
}

VariableList RandomFlipImpl::call(const std::vector<Variable>& inputs, const CallArgs& args) {
  const Variable& x = single_input(inputs);
  const ImageGeometry g = geometry(x.shape());
  if (!args.training) return {x};
  Generator gen = stream_.next();
  std::vector<char> flips(static_cast<size_t>(g.batch));
  for (char& f : flips) f = SeedStream::uniform(gen, 0.0, 1.0) <= 0.5;
  const bool h = horizontal_, v = vertical_;
  return {make_result(flip_planes(x.value(), g, flips, h, v), {x}, "RandomFlip",
                      [g, flips, h, v](const Tensor& dy, const std::vector<bool>&) {
                        return Grads{flip_planes(dy, g, flips, h, v)};
                      })};
}

json RandomFlipImpl::get_config() const {
  json c = ImagePreprocessingLayer::get_config();
  c["seed"] = detail::seed_to_json(seed_);
  c["mode"] = mode_;
  c["data_format"] = data_format_;
  return c;
}

std::shared_ptr<RandomFlipImpl> RandomFlipImpl::from_config(const json& config) {
  const std::vector<std::string> keys = {"mode", "seed", "data_format", "bounding_box_format"};
  return detail::layer_from_config<RandomFlipOptions>(config, "RandomFlip", keys, [&](const ConfigReader& r, RandomFlipOptions o) {
    detail::check_bounding_box_format(config, r.owner());
    o.seed = detail::read_seed(config, r.owner());
    o.data_format = detail::read_data_format(config, r.owner());
    return std::make_shared<RandomFlipImpl>(r.str("mode", "horizontal_and_vertical"), std::move(o));
  });
}

MINIDL_REGISTER_LAYER("RandomFlip", [](const json& c) -> LayerPtr { return RandomFlipImpl::from_config(c); });

}  // namespace minidl
