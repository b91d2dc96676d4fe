// layers/merge/concatenate.cpp — Concatenate (declared in layers/merge/merge.h): inputs joined
// along one axis, and their masks joined the way tf.keras joins them.
#include <nlohmann/json.hpp>

#include "autograd/functions.h"
#include "layers/base/core_layers_internal.h"
#include "layers/merge/merge.h"
#include "layers/base/registry.h"
#include "layers/merge/merge_internal.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/spatial.h"

namespace minidl {

using detail::shapes_str;

ConcatenateImpl::ConcatenateImpl(ConcatenateOptions o) : Layer(common_options(o), "concatenate"), axis_(o.axis) {
  set_supports_masking(true);
}

std::vector<Shape> ConcatenateImpl::compute_output_shape(const std::vector<Shape>& shapes) {
  if (shapes.empty()) fail("A `Concatenate` layer should be called on a list of at least 1 input.");
  const auto mismatch = [&] {
    fail(
        "A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis. "
        "Received: input_shape={}",
        shapes_str(shapes));
  };
  const int rank = static_cast<int>(shapes[0].size());
  for (const Shape& s : shapes)
    if (static_cast<int>(s.size()) != rank) mismatch();
  if (rank == 0 || axis_ < -rank || axis_ >= rank)
    fail("axis {} is out of range for inputs of rank {} (shapes {})", axis_, rank, shapes_str(shapes));
  const int ax = axis_ < 0 ? axis_ + rank : axis_;
  Shape out(rank, kNone);
  int64_t total = 0;
  for (const Shape& s : shapes) total = (total == kNone || s[ax] == kNone) ? kNone : total + s[ax];
  out[ax] = total;
  for (int d = 0; d < rank; ++d) {
    if (d == ax) continue;
    for (const Shape& s : shapes) {
      if (s[d] == kNone) continue;
      if (out[d] != kNone && out[d] != s[d]) mismatch();
      out[d] = s[d];
    }
  }
  return {out};
}

VariableList ConcatenateImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  std::vector<Shape> shapes;
  for (const auto& x : inputs) shapes.push_back(x.shape());
  compute_output_shape(shapes);  // the checks, with the layer's name in the message
  return {autograd::concat(inputs, axis_)};
}

std::vector<Tensor> ConcatenateImpl::compute_mask(const std::vector<Variable>& inputs,
                                                  const std::vector<Tensor>& masks) {
  bool any = false;
  for (const Tensor& m : masks) any = any || m.defined();
  if (!any) return {Tensor()};
  const int rank = inputs[0].rank();
  const int ax = axis_ < 0 ? axis_ + rank : axis_;
  // Every mask is brought to the input's shape minus its last axis: tf.keras
  // concatenates [..., 1]-expanded masks (ones for inputs without one) and
  // then reduces the last axis with `all`, which comes to the same thing.
  std::vector<Tensor> parts;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Shape s = inputs[i].shape();
    s.pop_back();
    Tensor m = i < masks.size() ? masks[i] : Tensor();
    if (!m.defined()) {
      m = Tensor::ones(s);
    } else if (m.rank() == rank) {
      m = ops::min(m, {-1});  // a full-rank mask: all() over the last axis
    }
    if (m.shape() != s)
      fail("input {} has shape {} but its mask has shape {}", i, shape_str(inputs[i].shape()),
           shape_str(masks[i].shape()));
    parts.push_back(std::move(m));
  }
  if (ax == rank - 1) {
    // Concatenating features: a timestep survives only if every input keeps it.
    Tensor out = parts[0];
    for (size_t i = 1; i < parts.size(); ++i) out = ops::mul(out, parts[i]);
    return {out};
  }
  return {ops::concat(parts, ax)};
}

std::vector<std::optional<Shape>> ConcatenateImpl::compute_mask_shape(
    const std::vector<Shape>& input_shapes, const std::vector<std::optional<Shape>>& mask_shapes) {
  bool any = false;
  for (const auto& m : mask_shapes) any = any || m.has_value();
  if (!any) return {std::nullopt};
  Shape s = compute_output_shape(input_shapes)[0];
  s.pop_back();
  return {s};
}

json ConcatenateImpl::get_config() const {
  json c = base_config();
  c["axis"] = axis_;
  return c;
}

std::shared_ptr<ConcatenateImpl> ConcatenateImpl::from_config(const json& c) {
  return detail::layer_from_config<ConcatenateOptions>(
      c, "Concatenate", {"axis"}, [](const ConfigReader& r, ConcatenateOptions o) {
        const int64_t axis = r.integer("axis", -1);
        if (axis < -64 || axis > 64) raise<ValueError>("{}: config key 'axis' is out of range: {}", r.owner(), axis);
        o.axis = static_cast<int>(axis);
        return std::make_shared<ConcatenateImpl>(std::move(o));
      });
}

MINIDL_REGISTER_LAYER("Concatenate", [](const json& c) -> LayerPtr { return ConcatenateImpl::from_config(c); });

}  // namespace minidl
