// layers/normalization/layer_scale.h — LayerScale, the per-channel learned scale of keras.applications ConvNeXt.
//
//   auto ls = LayerScale(1e-6, 96);
//   KerasTensor y = ls(Input({56, 56, 96}));   // weight gamma: (96,), every entry 1e-6
//
// y = x * gamma, gamma of shape (projection_dim,) broadcast over the last axis
// (NumPy rules: the last axis must be projection_dim or 1, or projection_dim 1),
// trainable, initialized to Constant(init_values). Keras defines it inside
// keras/src/applications/convnext.py, not as a public layer, so files carry it
// as a custom class: class_name "LayerScale" in `.h5` configs, and in `.keras`
// module "keras.src.applications.convnext", class_name and registered_name
// "LayerScale". The config adds "init_values" and "projection_dim" to the
// common keys. The weight is named gamma (tf.keras 2.13+; Keras 3 leaves it
// unnamed, and files match weights by position).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/base/layer.h"

namespace minidl {

struct LayerScaleOptions {
  MINIDL_COMMON_LAYER_OPTIONS;
};

class LayerScaleImpl : public Layer {
 public:
  // ValueError naming the layer when projection_dim < 1 or init_values is not finite.
  LayerScaleImpl(double init_values, int64_t projection_dim, LayerScaleOptions o = {});

  std::string class_name() const override { return "LayerScale"; }
  double init_values() const { return init_values_; }
  int64_t projection_dim() const { return projection_dim_; }

  json get_config() const override;
  // ValueError for unknown keys, a missing init_values or projection_dim, or wrong value types.
  static std::shared_ptr<LayerScaleImpl> from_config(const json& config);
  // The input shape with its last axis broadcast against projection_dim;
  // ValueError for a rank-0 input or a last axis that does not broadcast.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;

 protected:
  void build(const std::vector<Shape>& input_shapes) override;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  // The output shape for one input shape, checked as compute_output_shape describes.
  Shape output_shape(const Shape& input) const;

  double init_values_;
  int64_t projection_dim_;
  Variable gamma_;
};

class LayerScale : public LayerHolder<LayerScaleImpl> {
 public:
  LayerScale(double init_values, int64_t projection_dim, LayerScaleOptions o = {})
      : LayerHolder(std::make_shared<LayerScaleImpl>(init_values, projection_dim, std::move(o))) {}
  explicit LayerScale(std::shared_ptr<LayerScaleImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
