// layers/preprocessing/image_preprocessing_layer.h — what Keras's image preprocessing and
// augmentation layers share (BaseImagePreprocessingLayer): the image geometry of an input, the
// factor and seed arguments, the per-layer random stream, and the transform of a batch.
//
// Inputs are one image (rank 3) or a batch (rank 4), channels_last
// (..., height, width, channels) or channels_first (..., channels, height,
// width) by the layer's data_format ("" = image_data_format()). Any other rank
// is a ValueError with Keras's message ("Expected image tensor to have rank 3
// (single image) or 4 (batch of images). Received: data.shape=...").
//
// Randomness follows Keras's SeedGenerator: each layer owns a stream fixed at
// construction, from `seed` when given, else from the global generator
// (core/random.h, so set_random_seed makes unseeded layers repeat too). Every
// training call takes the next state of the stream, so successive calls draw
// different transforms and a new layer with the same seed draws the same
// sequence again. The numbers are minidl's own (Keras's backends draw
// differently), the distributions are Keras's.
//
// Augmentation runs only when CallArgs::training is true (minidl's calls
// default to inference; Keras's direct call defaults to training). Geometric
// and colour transforms record no gradient: asking the tape for the gradient
// of a training-mode output with respect to an input that requires one raises
// RuntimeError naming the layer. Inference is the identity (the input
// Variable itself) unless the layer says otherwise.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/random.h"
#include "layers/base/layer.h"
#include "ops/image_transform.h"

namespace minidl {

// Keras's factor argument: one number, or a list (a pair is required; the
// layer checks the length and range with its own message), or None where a
// layer allows it (RandomZoom's width_factor).
struct ImageFactor {
  ImageFactor(double v) : values{v}, pair(false) {}                          // NOLINT: implicit, as Keras takes a number
  ImageFactor(std::initializer_list<double> list) : values(list), pair(true) {}
  ImageFactor(std::vector<double> list) : values(std::move(list)), pair(true) {}  // NOLINT
  ImageFactor(std::nullopt_t) : pair(false) {}                                // NOLINT: None
  std::vector<double> values;
  bool pair;
  bool is_none() const { return !pair && values.empty(); }
  // A number or a list, as given (null for None).
  nlohmann::json to_json() const;
  // "0.2" -> 0.2; "[0.1, 0.3]" -> {0.1, 0.3}; null -> None. ValueError naming owner and key otherwise.
  static ImageFactor from_json(const nlohmann::json& j, const std::string& owner, const std::string& key);
  // "0.2", "[-0.1, 0.3]" or "None", for messages (Python's spelling of the argument).
  std::string str() const;
};

// Where the pixels of an input are. A channels_first input is seen as
// batch * channels planes of one channel, so a per-image kernel serves both layouts.
struct ImageGeometry {
  bool batched = true;
  bool channels_first = false;
  int64_t batch = 1, height = 0, width = 0, channels = 0;
  int64_t planes() const { return channels_first ? batch * channels : batch; }
  int64_t plane_channels() const { return channels_first ? 1 : channels; }
  int64_t plane_size() const { return height * width * plane_channels(); }
  int64_t image_of_plane(int64_t p) const { return channels_first ? p / channels : p; }
  // The shape of an input of this geometry with another height and width.
  Shape with_size(int64_t h, int64_t w) const;
};

// A layer's random stream (Keras's SeedGenerator).
class SeedStream {
 public:
  explicit SeedStream(std::optional<int64_t> seed);
  // The generator of the next call; the stream advances.
  Generator next();
  // U[low, high) from g, 53 random bits.
  static double uniform(Generator& g, double low, double high);

 private:
  uint64_t base_;
  std::atomic<uint64_t> calls_{0};
};

class ImagePreprocessingLayer : public Layer {
 public:
  // The input shape (a layer whose output differs overrides it). ValueError for a rank other than 3 or 4.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  // base config + "data_format".
  json get_config() const override;
  const std::string& data_format() const { return data_format_; }

 protected:
  // data_format normalized; ValueError naming the layer (class_name, as the
  // virtual is not yet callable) for an unknown one.
  ImagePreprocessingLayer(LayerOptions o, const std::string& prefix, const std::string& class_name,
                          const std::string& data_format);
  void check_input(const std::vector<Shape>& input_shapes) const override;

  // The geometry of a concrete input (Keras's rank message otherwise).
  ImageGeometry geometry(const Shape& s) const;
  void check_rank(const Shape& s) const;
  // Indices of the height and width axes for a shape of this rank.
  int height_axis(size_t rank) const;
  int width_axis(size_t rank) const;

  // Wraps an output computed outside the tape: a backward pass through it raises RuntimeError.
  Variable untaped_result(Tensor y, const Variable& x) const;
  // Applies transforms[image] to every plane of x (same shape).
  Tensor transform_planes(const Tensor& x, const ImageGeometry& g, const std::vector<ops::ProjectiveTransform>& transforms,
                          ops::Interpolation interpolation, ops::FillMode fill_mode, float fill_value) const;

  std::string data_format_;
};

// A layer whose output has a fixed height and width (Resizing, CenterCrop, RandomCrop).
class FixedSizeImageLayer : public ImagePreprocessingLayer {
 public:
  // The input shape with height and width replaced.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  json get_config() const override;  // + height, width
  int64_t height() const { return height_; }
  int64_t width() const { return width_; }

 protected:
  FixedSizeImageLayer(LayerOptions o, const std::string& prefix, const std::string& class_name,
                      const std::string& data_format, int64_t height, int64_t width);

  int64_t height_, width_;
};

// The image part of a crop box: rows [top, top + height), columns [left, left + width).
struct ImageWindow {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

namespace detail {

// The largest centred window of an H x W image with the target's aspect ratio
// (Keras's crop_to_aspect_ratio, smart_resize and RandomCrop's fallback, with their integer rounding).
ImageWindow aspect_crop_window(int64_t H, int64_t W, int64_t target_h, int64_t target_w);
// The padded canvas of pad_to_aspect_ratio: the image inside a frame of
// fill_value rows above and below, columns left and right, as Keras pads it
// (top and left negative, equal margins on both sides).
ImageWindow aspect_pad_window(int64_t H, int64_t W, int64_t target_h, int64_t target_w);
// The window of every plane of x (shape g.with_size(window.height, window.width));
// pixels of the window outside the image read fill.
Tensor window_planes(const Tensor& x, const ImageGeometry& g, const ImageWindow& window, float fill);
// Every plane of x resized to oh x ow (ops::resize_image).
Tensor resize_planes(const Tensor& x, const ImageGeometry& g, int64_t oh, int64_t ow,
                     ops::Interpolation interpolation);

}  // namespace detail

namespace detail {

// Keras's fill_mode and interpolation checks of the geometric augmentation
// layers, with their messages ("Unknown `fill_mode` x. Expected of one
// ('reflect', 'wrap', 'constant', 'nearest')."), as ValueError naming owner.
ops::FillMode parse_fill_mode(const std::string& name, const std::string& owner);
ops::Interpolation parse_affine_interpolation(const std::string& name, const std::string& owner);
// Config helpers: the seed (null or an int) and the data_format (null = "").
std::optional<int64_t> read_seed(const json& config, const std::string& owner);
json seed_to_json(const std::optional<int64_t>& seed);
std::string read_data_format(const json& config, const std::string& owner);
// Bounding boxes are not supported: a config whose bounding_box_format is not null is a ValueError.
void check_bounding_box_format(const json& config, const std::string& owner);
// Keras's (lower, upper) of the base layer's _set_factor within [bound_low, bound_high]
// (RandomRotation, RandomContrast, RandomBrightness), its message on a bad factor.
std::pair<double, double> base_factor(const ImageFactor& f, double bound_low, double bound_high, const std::string& owner);

}  // namespace detail

}  // namespace minidl
