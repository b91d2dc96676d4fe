// layers/core/masking.h — Masking: skip timesteps whose features all equal mask_value.
//
//   KerasTensor x = Input({10, 8});                 // (None, 10, 8)
//   KerasTensor y = Masking({.mask_value = 0.0})(x);
//   Masking's output mask: (None, 10), 1 where any feature != mask_value
//
// The mask is any(x != mask_value) over the last axis; the output is x with the
// masked timesteps zeroed (x * mask), and the mask travels with it to the next
// layers (which must support masking, as in Keras). Masks are 0/1 floats.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layers/base/layer.h"

namespace minidl {

struct MaskingOptions {
  double mask_value = 0.0;
  MINIDL_COMMON_LAYER_OPTIONS;
};

class MaskingImpl : public Layer {
 public:
  using Layer::compute_mask;  // the public compute_mask(inputs, mask) forms, next to this class's hook
  explicit MaskingImpl(MaskingOptions o = {});
  std::string class_name() const override { return "Masking"; }

  // Same shape. ValueError for a rank-0 input.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  json get_config() const override;  // {"mask_value": 0.0}
  static std::shared_ptr<MaskingImpl> from_config(const json& config);

  double mask_value() const { return mask_value_; }

 protected:
  // What Masking is for, its output mask: any(x != mask_value) over the last
  // axis, of shape x.shape minus its last axis. Any incoming mask is replaced, as in Keras.
  std::vector<Tensor> compute_mask(const std::vector<Variable>& inputs, const std::vector<Tensor>& masks) override;
  std::vector<std::optional<Shape>> compute_mask_shape(const std::vector<Shape>& input_shapes,
                                                       const std::vector<std::optional<Shape>>& mask_shapes) override;
  // x * mask: the masked timesteps zeroed.
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  // The mask with the last axis kept as 1: [..., 1].
  Tensor timestep_mask(const Tensor& x) const;

  double mask_value_;
};

class Masking : public LayerHolder<MaskingImpl> {
 public:
  explicit Masking(MaskingOptions o = {}) : LayerHolder(std::make_shared<MaskingImpl>(std::move(o))) {}
  explicit Masking(std::shared_ptr<MaskingImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
