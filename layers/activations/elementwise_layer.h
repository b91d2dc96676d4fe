// layers/activations/elementwise_layer.h — ElementwiseLayer, the base of the activation
// layers, and FloatArgumentLayer, the base of those with one float argument.
#pragma once

#include <string>
#include <vector>

#include "layers/base/layer.h"

namespace minidl {

// A layer applied element by element, as Keras's activation layers are: one
// input of any rank, an output of the same shape, masks passed through
// (supports_masking).
class ElementwiseLayer : public Layer {
 public:
  // The input shape. ValueError when the layer receives more than one input.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

 protected:
  ElementwiseLayer(LayerOptions options, const std::string& default_name_prefix);
};

// An ElementwiseLayer with one float argument (LeakyReLU's and ELU's alpha,
// ThresholdedReLU's theta), kept as float32 as Keras keeps it.
class FloatArgumentLayer : public ElementwiseLayer {
 public:
  json get_config() const override;  // {key: value}, the float32 widened to double (0.3 -> 0.30000001192092896)

 protected:
  FloatArgumentLayer(LayerOptions options, const std::string& default_name_prefix, const char* key, double value);

  float value_;

 private:
  const char* key_;
};

}  // namespace minidl
