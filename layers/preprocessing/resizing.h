// layers/preprocessing/resizing.h — Resizing and CenterCrop: images to a fixed height and width.
//
//   KerasTensor y = Resizing(64, 64)(Input({128, 96, 3}));                    // (None, 64, 64, 3)
//   Resizing(224, 224, {.interpolation = "nearest", .crop_to_aspect_ratio = true})
//   Resizing(32, 64, {.pad_to_aspect_ratio = true, .fill_value = 0.5})
//   CenterCrop(24, 24)                                                       // the middle 24 x 24
//
// keras.layers.Resizing: ops/image_resize.h (tf.image.resize, antialias off)
// to (height, width). crop_to_aspect_ratio first cuts the largest centred
// window of the target's aspect ratio; pad_to_aspect_ratio first pads the
// short side evenly with fill_value (fill_mode must be "constant", the only
// one Keras offers). Both in training and inference.
//
// keras.layers.CenterCrop: the centred height x width window when the image
// is at least that large on both axes; otherwise Keras's smart_resize (the
// largest centred window of the target's aspect ratio, resized bilinearly).
// Both in training and inference.
//
// Arguments are checked at construction (Keras checks most when the layer is
// first called), with Keras's messages: a size that is not positive, an
// unknown interpolation, fill_mode other than "constant", both aspect-ratio
// options, antialias = true (minidl's resize has no antialias filter).
// Gradients: CenterCrop's plain crop passes the gradient back into the window
// (zeros elsewhere); a resizing path records no gradient (RuntimeError if asked).
#pragma once

#include <memory>
#include <string>

#include "layers/preprocessing/image_preprocessing_layer.h"

namespace minidl {

struct ResizingOptions {
  std::string interpolation = "bilinear";
  bool crop_to_aspect_ratio = false;
  bool pad_to_aspect_ratio = false;
  std::string fill_mode = "constant";
  double fill_value = 0.0;
  bool antialias = false;
  std::string data_format{};
  MINIDL_COMMON_LAYER_OPTIONS;
};

class ResizingImpl : public FixedSizeImageLayer {
 public:
  ResizingImpl(int64_t height, int64_t width, ResizingOptions o = {});
  std::string class_name() const override { return "Resizing"; }
  json get_config() const override;  // height, width, interpolation, ..., antialias, data_format
  static std::shared_ptr<ResizingImpl> from_config(const json& config);

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  std::string interpolation_name_;
  ops::Interpolation interpolation_;
  bool crop_to_aspect_ratio_, pad_to_aspect_ratio_;
  std::string fill_mode_;
  double fill_value_;
  bool antialias_;
};

struct CenterCropOptions {
  std::string data_format{};
  MINIDL_COMMON_LAYER_OPTIONS;
};

class CenterCropImpl : public FixedSizeImageLayer {
 public:
  CenterCropImpl(int64_t height, int64_t width, CenterCropOptions o = {});
  std::string class_name() const override { return "CenterCrop"; }
  // height, width, data_format (FixedSizeImageLayer's config).
  static std::shared_ptr<CenterCropImpl> from_config(const json& config);

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
};

class Resizing : public LayerHolder<ResizingImpl> {
 public:
  Resizing(int64_t height, int64_t width, ResizingOptions o = {})
      : LayerHolder(std::make_shared<ResizingImpl>(height, width, std::move(o))) {}
  explicit Resizing(std::shared_ptr<ResizingImpl> p) : LayerHolder(std::move(p)) {}
};

class CenterCrop : public LayerHolder<CenterCropImpl> {
 public:
  CenterCrop(int64_t height, int64_t width, CenterCropOptions o = {})
      : LayerHolder(std::make_shared<CenterCropImpl>(height, width, std::move(o))) {}
  explicit CenterCrop(std::shared_ptr<CenterCropImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
