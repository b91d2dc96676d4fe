// layers/reshaping/image_reshaping_layer.cpp — data_format, rank check and config of the image reshaping
// layers; the amounts of ZeroPadding2D and Cropping2D.
#include "layers/reshaping/image_reshaping_layer.h"

#include <nlohmann/json.hpp>

namespace minidl {

void ImageReshapingLayer::init_data_format(const std::string& value) {
  data_format_ = normalize_data_format(value, fmt::format("{} '{}'", class_name(), name()));
}

int ImageReshapingLayer::rows_axis(const Shape& s) const {
  const bool cf = data_format_ == "channels_first";
  if (s.size() != 4)
    fail("expected input of rank 4 ({}), received shape {}",
         cf ? "batch, channels, rows, cols" : "batch, rows, cols, channels", shape_str(s));
  return cf ? 2 : 1;
}

json ImageReshapingLayer::image_config() const {
  json c = base_config();
  c["data_format"] = data_format_;
  return c;
}

void Padding2DLayer::init(const std::string& data_format) {
  const Padding2D& p = amounts_;
  if (p.top < 0 || p.bottom < 0 || p.left < 0 || p.right < 0)
    fail("`{}` values must be >= 0, received (({}, {}), ({}, {}))", key_, p.top, p.bottom, p.left, p.right);
  init_data_format(data_format);
}

json Padding2DLayer::get_config() const {
  json c = image_config();
  c[key_] = amounts_.to_json();
  return c;
}

}  // namespace minidl
