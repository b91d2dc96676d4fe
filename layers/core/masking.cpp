// layers/core/masking.cpp — Masking: the timestep mask and the masked output.
#include "layers/core/masking.h"

#include <nlohmann/json.hpp>

#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"
#include "ops/elementwise.h"

namespace minidl {

MaskingImpl::MaskingImpl(MaskingOptions o) : Layer(common_options(o), "masking"), mask_value_(o.mask_value) {
  set_supports_masking(true);
}

Tensor MaskingImpl::timestep_mask(const Tensor& x) const {
  if (x.rank() == 0) fail("expected an input of rank >= 1, received a scalar");
  Shape s = x.shape();
  const int64_t features = s.back();
  s.back() = 1;
  Tensor m(s);  // [..., 1]
  // Keras compares the float32 input with the value cast to float32.
  const float v = static_cast<float>(mask_value_);
  const float* px = x.data();
  for (int64_t r = 0; r < m.numel(); ++r) {
    bool any = false;
    for (int64_t f = 0; f < features && !any; ++f) any = px[r * features + f] != v;  // NaN != v counts as data
    m[r] = any ? 1.f : 0.f;
  }
  return m;
}

std::vector<Shape> MaskingImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  if (s.empty()) fail("expected an input of rank >= 1, received a scalar");
  return {s};
}

VariableList MaskingImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const Tensor m = timestep_mask(x.value());
  return {make_result(ops::mul(x.value(), m), {x}, "Masking",
                      [m](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{ops::mul(g, m)}; })};
}

std::vector<Tensor> MaskingImpl::compute_mask(const std::vector<Variable>& inputs, const std::vector<Tensor>&) {
  const Variable& x = single_input(inputs);
  Tensor m = timestep_mask(x.value());
  Shape s = x.shape();
  s.pop_back();
  return {m.reshape(s)};  // [...]: the last axis reduced away
}

std::vector<std::optional<Shape>> MaskingImpl::compute_mask_shape(const std::vector<Shape>& input_shapes,
                                                                  const std::vector<std::optional<Shape>>&) {
  Shape s = single_shape(input_shapes);
  if (s.empty()) fail("expected an input of rank >= 1, received a scalar");
  s.pop_back();
  return {s};
}

json MaskingImpl::get_config() const {
  json c = base_config();
  c["mask_value"] = mask_value_;
  return c;
}

std::shared_ptr<MaskingImpl> MaskingImpl::from_config(const json& c) {
  return detail::layer_from_config<MaskingOptions>(
      c, "Masking", {"mask_value"}, [](const ConfigReader& r, MaskingOptions o) {
        o.mask_value = r.number("mask_value", 0.0);
        return std::make_shared<MaskingImpl>(std::move(o));
      });
}

MINIDL_REGISTER_LAYER("Masking", [](const json& c) -> LayerPtr { return MaskingImpl::from_config(c); });

}  // namespace minidl
