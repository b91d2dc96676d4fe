// applications/imagenet_utils.cpp — preprocessing, input shapes, padding and argument checks
// shared by the keras.applications architectures.
#include "applications/imagenet_utils.h"

#include <nlohmann/json.hpp>

#include <array>

#include "core/errors.h"
#include "layers/base/input_layer.h"
#include "layers/base/layer.h"
#include "layers/pooling/global_pooling2d.h"

namespace minidl::applications::imagenet_utils {

std::string python_tuple(const Shape& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += shape[i] == kNone ? std::string("None") : std::to_string(shape[i]);
  }
  return out + (shape.size() == 1 ? ",)" : ")");
}

Tensor preprocess_input(const Tensor& x, const std::string& data_format, const std::string& mode) {
  if (mode != "caffe" && mode != "tf" && mode != "torch")
    raise<ValueError>("Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={}", mode);
  std::string format = data_format.empty() ? image_data_format() : data_format;
  if (format != "channels_first" && format != "channels_last")
    raise<ValueError>(
        "Expected data_format to be one of `channels_first` or `channels_last`. Received: data_format={}",
        data_format);
  Tensor out = x.clone();
  if (mode == "tf") {
    for (float& v : out.span()) v = v / 127.5f - 1.0f;
    return out;
  }
  // caffe and torch work per colour channel: a batch [N, H, W, 3] / [N, 3, H, W] or one image.
  if (x.rank() != 3 && x.rank() != 4)
    raise<ValueError>("preprocess_input (mode={}): expected images of rank 3 or 4, received shape {}", mode,
                      shape_str(x.shape()));
  const bool first = format == "channels_first";
  const int channel_axis = first ? x.rank() - 3 : x.rank() - 1;
  if (x.dim(channel_axis) != 3)
    raise<ValueError>("preprocess_input (mode={}, data_format={}): expected 3 colour channels on axis {}, received "
                      "shape {}",
                      mode, format, channel_axis, shape_str(x.shape()));
  // Elements per channel block: channels_last [outer, 3]; channels_first [outer, 3, inner].
  int64_t inner = 1;
  for (int a = channel_axis + 1; a < x.rank(); ++a) inner *= x.dim(a);
  const int64_t outer = x.numel() / (3 * inner);
  const bool caffe = mode == "caffe";
  const std::array<float, 3> mean = caffe ? std::array<float, 3>{103.939f, 116.779f, 123.68f}
                                          : std::array<float, 3>{0.485f, 0.456f, 0.406f};
  const std::array<float, 3> stddev = {0.229f, 0.224f, 0.225f};
  const float* src = x.data();
  float* dst = out.data();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < 3; ++c) {
      // caffe reads the channels in reverse order (RGB -> BGR), then subtracts the BGR mean.
      const int64_t from = caffe ? 2 - c : c;
      const float* s = src + (o * 3 + from) * inner;
      float* d = dst + (o * 3 + c) * inner;
      for (int64_t i = 0; i < inner; ++i)
        d[i] = caffe ? s[i] - mean[c] : (s[i] / 255.0f - mean[c]) / stddev[c];
    }
  }
  return out;
}

Shape obtain_input_shape(const std::optional<Shape>& input_shape, int64_t default_size, int64_t min_size,
                         bool require_flatten) {
  Shape shape;
  if (input_shape && !input_shape->empty()) {
    if (input_shape->size() != 3) raise<ValueError>("`input_shape` must be a tuple of three integers.");
    const Shape& s = *input_shape;
    if ((s[0] != kNone && s[0] < min_size) || (s[1] != kNone && s[1] < min_size))
      raise<ValueError>("Input size must be at least {}x{}; Received: input_shape={}", min_size, min_size,
                        python_tuple(s));
    shape = s;
  } else {
    shape = require_flatten ? Shape{default_size, default_size, 3} : Shape{kNone, kNone, 3};
  }
  if (require_flatten) {
    for (int64_t d : shape)
      if (d == kNone)
        raise<ValueError>(
            "If `include_top` is True, you should specify a static `input_shape`. Received: input_shape={}",
            python_tuple(shape));
  }
  return shape;
}

Padding2D correct_pad(const KerasTensor& x, int64_t kernel_size) {
  const Shape& s = x.shape();  // (batch, rows, cols, channels)
  const int64_t adjust_rows = s[1] == kNone ? 1 : 1 - s[1] % 2;
  const int64_t adjust_cols = s[1] == kNone ? 1 : 1 - s[2] % 2;
  const int64_t correct = kernel_size / 2;
  return Padding2D({correct - adjust_rows, correct}, {correct - adjust_cols, correct});
}

void check_arguments(const ApplicationOptions& options, const std::string& architecture) {
  if (!options.weights.empty())
    raise<ValueError>(
        "{}: the `weights` argument must be None (\"\", random initialization): minidl downloads nothing, so "
        "'imagenet' and weight files are not loaded here; build the model, then call "
        "model->load_weights(path). Received: weights={}",
        architecture, options.weights);
  if (image_data_format() != "channels_last")
    raise<ValueError>(
        "{}: minidl builds keras.applications models channels_last only; image_data_format() is {}. Switch to "
        "`channels_last` by editing your local config file at ~/.keras/keras.json",
        architecture, image_data_format());
}

KerasTensor image_input(const Shape& shape) {
  return Input(shape, {.name = unique_layer_name("input_layer")});
}

KerasTensor pool_features(const KerasTensor& x, const std::string& pooling, const std::string& avg_name,
                          const std::string& max_name) {
  if (pooling == "avg") return GlobalAveragePooling2D({.name = avg_name})(x);
  if (pooling == "max") return GlobalMaxPooling2D({.name = max_name})(x);
  return x;
}

}  // namespace minidl::applications::imagenet_utils
