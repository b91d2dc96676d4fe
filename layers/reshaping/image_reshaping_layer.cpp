// layers/reshaping/image_reshaping_layer.cpp — data_format, rank check and config of the image reshaping layers.
#include "layers/reshaping/image_reshaping_layer.h"

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

}  // namespace minidl
