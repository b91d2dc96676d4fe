// layers/preprocessing/resizing.cpp — Resizing and CenterCrop: checks, the crop/pad/resize paths, configs.
#include "layers/preprocessing/resizing.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>

#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"

namespace minidl {

namespace {

// The names Keras's TensorFlow backend accepts for resize.
constexpr std::array<const char*, 5> kResizeInterpolations = {"bilinear", "nearest", "lanczos3", "lanczos5", "bicubic"};

}  // namespace

ResizingImpl::ResizingImpl(int64_t height, int64_t width, ResizingOptions o)
    : FixedSizeImageLayer(common_options(o), "resizing", "Resizing", o.data_format, height, width),
      interpolation_name_(o.interpolation),
      interpolation_(ops::Interpolation::Bilinear),
      crop_to_aspect_ratio_(o.crop_to_aspect_ratio),
      pad_to_aspect_ratio_(o.pad_to_aspect_ratio),
      fill_mode_(o.fill_mode),
      fill_value_(o.fill_value),
      antialias_(o.antialias) {
  if (height <= 0 || width <= 0)
    fail("`size` must have positive height and width. Received: size=({}, {})", height, width);
  if (std::find_if(kResizeInterpolations.begin(), kResizeInterpolations.end(),
                   [&](const char* n) { return interpolation_name_ == n; }) == kResizeInterpolations.end())
    fail("Invalid value for argument `interpolation`. Expected of one ('bilinear', 'nearest', 'lanczos3', "
         "'lanczos5', 'bicubic'). Received: interpolation={}",
         interpolation_name_);
  interpolation_ = detail::naming_owner(class_name() + " '" + name() + "'",
                                        [&] { return ops::parse_interpolation(interpolation_name_); });
  if (fill_mode_ != "constant")
    fail("Invalid value for argument `fill_mode`. Only `'constant'` is supported. Received: fill_mode={}", fill_mode_);
  if (crop_to_aspect_ratio_ && pad_to_aspect_ratio_)
    fail("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.");
  if (antialias_) fail("antialias=True is not supported: minidl's resize has no antialiasing filter");
}

VariableList ResizingImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const ImageGeometry g = geometry(x.shape());
  Tensor src = x.value();
  ImageGeometry sg = g;
  if (crop_to_aspect_ratio_ || pad_to_aspect_ratio_) {
    const ImageWindow w = crop_to_aspect_ratio_ ? detail::aspect_crop_window(g.height, g.width, height_, width_)
                                                : detail::aspect_pad_window(g.height, g.width, height_, width_);
    src = detail::window_planes(src, g, w, static_cast<float>(fill_value_));
    sg.height = w.height;
    sg.width = w.width;
  }
  return {untaped_result(detail::resize_planes(src, sg, height_, width_, interpolation_), x)};
}

json ResizingImpl::get_config() const {
  json c = FixedSizeImageLayer::get_config();
  c["interpolation"] = interpolation_name_;
  c["crop_to_aspect_ratio"] = crop_to_aspect_ratio_;
  c["pad_to_aspect_ratio"] = pad_to_aspect_ratio_;
  c["fill_mode"] = fill_mode_;
  c["fill_value"] = fill_value_;
  c["antialias"] = antialias_;
  return c;
}

std::shared_ptr<ResizingImpl> ResizingImpl::from_config(const json& config) {
  const std::vector<std::string> keys = {"height",    "width",      "interpolation", "crop_to_aspect_ratio",
                                         "pad_to_aspect_ratio", "fill_mode", "fill_value", "antialias",
                                         "data_format", "bounding_box_format"};
  return detail::layer_from_config<ResizingOptions>(config, "Resizing", keys, [&](const ConfigReader& r, ResizingOptions o) {
    detail::check_bounding_box_format(config, r.owner());
    o.interpolation = r.str("interpolation", "bilinear");
    o.crop_to_aspect_ratio = r.boolean("crop_to_aspect_ratio", false);
    o.pad_to_aspect_ratio = r.boolean("pad_to_aspect_ratio", false);
    o.fill_mode = r.str("fill_mode", "constant");
    o.fill_value = r.number("fill_value", 0.0);
    o.antialias = r.boolean("antialias", false);
    o.data_format = detail::read_data_format(config, r.owner());
    return std::make_shared<ResizingImpl>(r.integer("height"), r.integer("width"), std::move(o));
  });
}

CenterCropImpl::CenterCropImpl(int64_t height, int64_t width, CenterCropOptions o)
    : FixedSizeImageLayer(common_options(o), "center_crop", "CenterCrop", o.data_format, height, width) {
  if (height <= 0 || width <= 0)
    fail("`height` and `width` must be positive integers. Received: height={}, width={}", height, width);
}

VariableList CenterCropImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const ImageGeometry g = geometry(x.shape());
  if (g.height >= height_ && g.width >= width_) {
    const ImageWindow w{(g.height - height_) / 2, (g.width - width_) / 2, height_, width_};
    Tensor y = detail::window_planes(x.value(), g, w, 0.f);
    ImageGeometry og = g;
    og.height = height_;
    og.width = width_;
    // The adjoint of a window is the window placed back: zeros around it.
    const ImageWindow back{-w.top, -w.left, g.height, g.width};
    return {make_result(std::move(y), {x}, "CenterCrop", [og, back](const Tensor& dy, const std::vector<bool>&) {
      return Grads{detail::window_planes(dy, og, back, 0.f)};
    })};
  }
  // Keras's smart_resize: the largest window of the target's aspect ratio, resized bilinearly.
  const ImageWindow w = detail::aspect_crop_window(g.height, g.width, height_, width_);
  ImageGeometry cg = g;
  cg.height = w.height;
  cg.width = w.width;
  Tensor cropped = detail::window_planes(x.value(), g, w, 0.f);
  return {untaped_result(detail::resize_planes(cropped, cg, height_, width_, ops::Interpolation::Bilinear), x)};
}

std::shared_ptr<CenterCropImpl> CenterCropImpl::from_config(const json& config) {
  const std::vector<std::string> keys = {"height", "width", "data_format", "bounding_box_format"};
  return detail::layer_from_config<CenterCropOptions>(config, "CenterCrop", keys, [&](const ConfigReader& r, CenterCropOptions o) {
    detail::check_bounding_box_format(config, r.owner());
    o.data_format = detail::read_data_format(config, r.owner());
    return std::make_shared<CenterCropImpl>(r.integer("height"), r.integer("width"), std::move(o));
  });
}

MINIDL_REGISTER_LAYER("Resizing", [](const json& c) -> LayerPtr { return ResizingImpl::from_config(c); });
MINIDL_REGISTER_LAYER("CenterCrop", [](const json& c) -> LayerPtr { return CenterCropImpl::from_config(c); });

}  // namespace minidl
