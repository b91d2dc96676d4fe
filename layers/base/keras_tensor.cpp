// layers/base/keras_tensor.cpp — KerasTensor: a spec plus its history (layer, node, output index).
#include "layers/base/keras_tensor.h"

#include "core/errors.h"

namespace minidl {

KerasTensor::KerasTensor(std::shared_ptr<const TensorSpec> spec, std::shared_ptr<Layer> layer, int node_index,
                         int tensor_index)
    : spec_(std::move(spec)), layer_(std::move(layer)), node_index_(node_index), tensor_index_(tensor_index) {}

KerasTensor::KerasTensor(std::shared_ptr<const TensorSpec> spec) : spec_(std::move(spec)) {}

KerasTensor KerasTensor::without_ownership() const {
  KerasTensor t = *this;
  if (t.layer_) {
    t.weak_layer_ = t.layer_;
    t.layer_.reset();
  }
  return t;
}

static const TensorSpec& spec_or_throw(const std::shared_ptr<const TensorSpec>& s) {
  MINIDL_CHECK(s != nullptr, ValueError, "use of an undefined KerasTensor");
  return *s;
}

const Shape& KerasTensor::shape() const { return spec_or_throw(spec_).shape; }
const std::string& KerasTensor::dtype() const { return spec_or_throw(spec_).dtype; }
const std::string& KerasTensor::name() const { return spec_or_throw(spec_).name; }

}  // namespace minidl
