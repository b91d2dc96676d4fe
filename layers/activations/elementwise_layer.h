// layers/activations/elementwise_layer.h — ElementwiseLayer, the base of the activation layers.
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

}  // namespace minidl
