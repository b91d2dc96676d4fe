// layers/preprocessing/image_preprocessing_layer.cpp — geometry, factors, seeds and the batch transform
// shared by the image preprocessing layers.
#include "layers/preprocessing/image_preprocessing_layer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/threads.h"
#include "layers/base/core_layers_internal.h"
#include "layers/reshaping/spatial_utils.h"
#include "ops/image_resize.h"
#include "ops/parallel_grain.h"

namespace minidl {

namespace {

// splitmix64's output function: neighbouring call counts give unrelated states.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::string number_str(double v) { return fmt::format("{}", v); }

}  // namespace

json ImageFactor::to_json() const {
  if (is_none()) return nullptr;
  if (!pair) return values.at(0);
  return json(values);
}

ImageFactor ImageFactor::from_json(const json& j, const std::string& owner, const std::string& key) {
  if (j.is_null()) return ImageFactor(std::nullopt);
  if (j.is_number()) return ImageFactor(j.get<double>());
  if (j.is_array()) {
    std::vector<double> v;
    for (const json& e : j) {
      if (!e.is_number()) raise<ValueError>("{}: config key '{}' must be a number or a list of numbers, received {}", owner, key, j.dump());
      v.push_back(e.get<double>());
    }
    return ImageFactor(std::move(v));
  }
  raise<ValueError>("{}: config key '{}' must be a number or a list of numbers, received {}", owner, key, j.dump());
}

std::string ImageFactor::str() const {
  if (is_none()) return "None";
  if (!pair) return number_str(values.at(0));
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + number_str(values[i]);
  return s + "]";
}

Shape ImageGeometry::with_size(int64_t h, int64_t w) const {
  Shape s;
  if (batched) s.push_back(batch);
  const int64_t dims[3] = {channels_first ? channels : h, channels_first ? h : w, channels_first ? w : channels};
  for (int64_t d : dims) s.push_back(d);
  return s;
}

SeedStream::SeedStream(std::optional<int64_t> seed)
    : base_(seed ? mix64(static_cast<uint64_t>(*seed) ^ 0x5eedull) : random_u64()) {}

Generator SeedStream::next() {
  const uint64_t k = calls_.fetch_add(1);
  return Generator(mix64(base_ + (k + 1) * 0x9e3779b97f4a7c15ull));
}

double SeedStream::uniform(Generator& g, double low, double high) {
  const double u = static_cast<double>(g() >> 11) * 0x1.0p-53;  // [0, 1)
  return low + (high - low) * u;
}

ImagePreprocessingLayer::ImagePreprocessingLayer(LayerOptions o, const std::string& prefix,
                                                 const std::string& class_name, const std::string& data_format)
    : Layer(std::move(o), prefix) {
  data_format_ = normalize_data_format(data_format, class_name + " '" + name() + "'");
}

int ImagePreprocessingLayer::height_axis(size_t rank) const {
  return static_cast<int>(rank) - (data_format_ == "channels_first" ? 2 : 3);
}
int ImagePreprocessingLayer::width_axis(size_t rank) const { return height_axis(rank) + 1; }

void ImagePreprocessingLayer::check_rank(const Shape& s) const {
  if (s.size() != 3 && s.size() != 4)
    fail("Expected image tensor to have rank 3 (single image) or 4 (batch of images). Received: data.shape={}",
         shape_str(s));
}

void ImagePreprocessingLayer::check_input(const std::vector<Shape>& input_shapes) const {
  check_rank(single_shape(input_shapes));
}

std::vector<Shape> ImagePreprocessingLayer::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  check_rank(s);
  return {s};
}

ImageGeometry ImagePreprocessingLayer::geometry(const Shape& s) const {
  check_rank(s);
  ImageGeometry g;
  g.batched = s.size() == 4;
  g.channels_first = data_format_ == "channels_first";
  const size_t o = g.batched ? 1 : 0;
  g.batch = g.batched ? s[0] : 1;
  if (g.channels_first) {
    g.channels = s[o];
    g.height = s[o + 1];
    g.width = s[o + 2];
  } else {
    g.height = s[o];
    g.width = s[o + 1];
    g.channels = s[o + 2];
  }
  return g;
}

Variable ImagePreprocessingLayer::untaped_result(Tensor y, const Variable& x) const {
  const std::string who = fmt::format("{} '{}'", class_name(), name());
  return make_result(std::move(y), {x}, class_name(), [who](const Tensor&, const std::vector<bool>&) -> Grads {
    raise<RuntimeError>("{}: its training-mode transform has no gradient with respect to the input (an "
                        "augmentation layer sits on the model's inputs, which need none)",
                        who);
  });
}

Tensor ImagePreprocessingLayer::transform_planes(const Tensor& x, const ImageGeometry& g,
                                                 const std::vector<ops::ProjectiveTransform>& transforms,
                                                 ops::Interpolation interpolation, ops::FillMode fill_mode,
                                                 float fill_value) const {
  Tensor y(x.shape());
  const float* src = x.data();
  float* dst = y.data();
  const int64_t n = g.plane_size();
  parallel_for(
      g.planes(),
      [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p)
          ops::transform_image(src + p * n, g.height, g.width, g.plane_channels(), dst + p * n,
                               transforms[static_cast<size_t>(g.image_of_plane(p))], interpolation, fill_mode,
                               fill_value);
      },
      ops::grain(ops::Cost::kCompute, n));
  return y;
}

json ImagePreprocessingLayer::get_config() const {
  json c = base_config();
  c["data_format"] = data_format_;
  return c;
}

FixedSizeImageLayer::FixedSizeImageLayer(LayerOptions o, const std::string& prefix, const std::string& class_name,
                                         const std::string& data_format, int64_t height, int64_t width)
    : ImagePreprocessingLayer(std::move(o), prefix, class_name, data_format), height_(height), width_(width) {}

std::vector<Shape> FixedSizeImageLayer::compute_output_shape(const std::vector<Shape>& input_shapes) {
  Shape s = single_shape(input_shapes);
  check_rank(s);
  const auto h = static_cast<size_t>(height_axis(s.size()));
  s[h] = height_;
  s[h + 1] = width_;
  return {s};
}

json FixedSizeImageLayer::get_config() const {
  json c = ImagePreprocessingLayer::get_config();
  c["height"] = height_;
  c["width"] = width_;
  return c;
}

namespace detail {

ImageWindow aspect_crop_window(int64_t H, int64_t W, int64_t target_h, int64_t target_w) {
  // float32 products and truncation, as Keras's backends compute the box.
  const auto crop_h = static_cast<int64_t>(static_cast<float>(W * target_h) / static_cast<float>(target_w));
  const auto crop_w = static_cast<int64_t>(static_cast<float>(H * target_w) / static_cast<float>(target_h));
  ImageWindow w;
  w.height = std::max<int64_t>(std::min(H, crop_h), 1);
  w.width = std::max<int64_t>(std::min(W, crop_w), 1);
  w.top = static_cast<int64_t>(static_cast<float>(H - w.height) / 2);
  w.left = static_cast<int64_t>(static_cast<float>(W - w.width) / 2);
  return w;
}

ImageWindow aspect_pad_window(int64_t H, int64_t W, int64_t target_h, int64_t target_w) {
  const auto pad_h = std::max(H, static_cast<int64_t>(static_cast<float>(W * target_h) / static_cast<float>(target_w)));
  const auto pad_w = std::max(W, static_cast<int64_t>(static_cast<float>(H * target_w) / static_cast<float>(target_h)));
  const auto top = static_cast<int64_t>(static_cast<float>(pad_h - H) / 2);
  const auto left = static_cast<int64_t>(static_cast<float>(pad_w - W) / 2);
  // Keras concatenates `top` rows above and below (and `left` columns each
  // side), so an odd difference loses its last row or column.
  return ImageWindow{-top, -left, H + 2 * top, W + 2 * left};
}

Tensor window_planes(const Tensor& x, const ImageGeometry& g, const ImageWindow& win, float fill) {
  Tensor y(g.with_size(win.height, win.width));
  const int64_t pc = g.plane_channels();
  const int64_t in_size = g.plane_size(), out_size = win.height * win.width * pc;
  const float* src = x.data();
  float* dst = y.data();
  for (int64_t p = 0; p < g.planes(); ++p) {
    for (int64_t r = 0; r < win.height; ++r) {
      const int64_t sr = win.top + r;
      float* out = dst + p * out_size + r * win.width * pc;
      for (int64_t c = 0; c < win.width; ++c) {
        const int64_t sc = win.left + c;
        if (sr < 0 || sr >= g.height || sc < 0 || sc >= g.width) {
          std::fill(out + c * pc, out + (c + 1) * pc, fill);
          continue;
        }
        const float* in = src + p * in_size + (sr * g.width + sc) * pc;
        std::copy(in, in + pc, out + c * pc);
      }
    }
  }
  return y;
}

Tensor resize_planes(const Tensor& x, const ImageGeometry& g, int64_t oh, int64_t ow, ops::Interpolation interpolation) {
  Tensor y(g.with_size(oh, ow));
  const int64_t pc = g.plane_channels();
  const int64_t in_size = g.plane_size(), out_size = oh * ow * pc;
  const float* src = x.data();
  float* dst = y.data();
  parallel_for(
      g.planes(),
      [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p)
          ops::resize_image(src + p * in_size, g.height, g.width, pc, dst + p * out_size, oh, ow, interpolation);
      },
      ops::grain(ops::Cost::kCompute, out_size));
  return y;
}

ops::FillMode parse_fill_mode(const std::string& name, const std::string& owner) {
  if (name == "reflect") return ops::FillMode::Reflect;
  if (name == "wrap") return ops::FillMode::Wrap;
  if (name == "constant") return ops::FillMode::Constant;
  if (name == "nearest") return ops::FillMode::Nearest;
  raise<ValueError>("{}: Unknown `fill_mode` {}. Expected of one ('reflect', 'wrap', 'constant', 'nearest').", owner,
                    name);
}

ops::Interpolation parse_affine_interpolation(const std::string& name, const std::string& owner) {
  if (name == "nearest") return ops::Interpolation::Nearest;
  if (name == "bilinear") return ops::Interpolation::Bilinear;
  raise<ValueError>("{}: Unknown `interpolation` {}. Expected of one ('nearest', 'bilinear').", owner, name);
}

std::optional<int64_t> read_seed(const json& config, const std::string& owner) {
  if (!config.contains("seed") || config["seed"].is_null()) return std::nullopt;
  const json& s = config["seed"];
  if (!s.is_number_integer())
    raise<ValueError>("{}: config key 'seed' must be an integer or null, received {}", owner, s.dump());
  return s.get<int64_t>();
}

json seed_to_json(const std::optional<int64_t>& seed) { return seed ? json(*seed) : json(nullptr); }

std::string read_data_format(const json& config, const std::string& owner) {
  if (!config.contains("data_format") || config["data_format"].is_null()) return "";
  if (!config["data_format"].is_string())
    raise<ValueError>("{}: config key 'data_format' must be a string or null, received {}", owner,
                      config["data_format"].dump());
  return config["data_format"].get<std::string>();
}

void check_bounding_box_format(const json& config, const std::string& owner) {
  if (config.contains("bounding_box_format") && !config["bounding_box_format"].is_null())
    raise<ValueError>("{}: bounding boxes are not supported (config key 'bounding_box_format' is {})", owner,
                      config["bounding_box_format"].dump());
}

std::pair<double, double> base_factor(const ImageFactor& f, double bound_low, double bound_high,
                                      const std::string& owner) {
  const auto bad = [&]() {
    raise<ValueError>(
        "{}: The `factor` argument should be a number (or a list of two numbers) in the range [{}, {}]. "
        "Received: factor={}",
        owner, number_str(bound_low), number_str(bound_high), f.str());
  };
  if (f.is_none()) bad();
  if (f.pair) {
    if (f.values.size() != 2) bad();
    if (f.values[0] > bound_high || f.values[1] < bound_low) bad();
    return {std::min(f.values[0], f.values[1]), std::max(f.values[0], f.values[1])};
  }
  const double v = f.values.at(0);
  if (v < bound_low || v > bound_high) bad();
  return {std::max(-std::abs(v), bound_low), std::abs(v)};
}

}  // namespace detail

}  // namespace minidl
