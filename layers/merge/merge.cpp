// layers/merge/merge.cpp — Add, Subtract, Multiply, Average, Maximum, Minimum: element-wise merges
// of several inputs of one shape (fused sums for Add and Average).
#include "layers/merge/merge.h"

#include <nlohmann/json.hpp>

#include <array>

#include "autograd/functions.h"
#include "core/threads.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"
#include "layers/merge/merge_internal.h"
#include "ops/elementwise.h"
#include "ops/parallel_grain.h"

namespace minidl {

std::string detail::shapes_str(const std::vector<Shape>& shapes) {
  std::string s = "[";
  for (size_t i = 0; i < shapes.size(); ++i) s += (i ? ", " : "") + shape_str(shapes[i]);
  return s + "]";
}

namespace {

using detail::shapes_str;

std::vector<Shape> shapes_of(const std::vector<Variable>& xs) {
  std::vector<Shape> s;
  for (const auto& x : xs) s.push_back(x.shape());
  return s;
}

// out[i] = scale * sum_k xs[k][i] for inputs of one shape, in one pass over memory.
Tensor fused_sum(const std::vector<Variable>& xs, float scale) {
  Tensor out(xs[0].shape());
  // The input pointers; on the stack for the usual handful of inputs.
  constexpr size_t kInline = 8;
  std::array<const float*, kInline> inline_src{};
  std::vector<const float*> many_src(xs.size() > kInline ? xs.size() : 0);
  const float** src = xs.size() > kInline ? many_src.data() : inline_src.data();
  const size_t count = xs.size();
  for (size_t k = 0; k < count; ++k) src[k] = xs[k].value().data();
  float* po = out.data();
  parallel_for(
      out.numel(),
      [&](int64_t b, int64_t e) {
        // One pass per input over the range, from locals, so that each loop
        // vectorizes; the sum keeps the inputs' order, then the scale.
        const float s = scale;
        float* o = po;
        const float* s0 = src[0];
        if (count == 1) {
          for (int64_t i = b; i < e; ++i) o[i] = s0[i] * s;
          return;
        }
        const float* s1 = src[1];
        for (int64_t i = b; i < e; ++i) o[i] = s0[i] + s1[i];
        for (size_t k = 2; k < count; ++k) {
          const float* sk = src[k];
          for (int64_t i = b; i < e; ++i) o[i] += sk[i];
        }
        if (s != 1.f)
          for (int64_t i = b; i < e; ++i) o[i] *= s;
      },
      ops::grain(ops::Cost::kMemory, static_cast<int64_t>(count)));
  return out;
}

// The fused sum as a differentiable result: every input receives scale * g.
Variable fused_sum_result(const std::vector<Variable>& xs, float scale, const char* name) {
  return make_result(fused_sum(xs, scale), xs, name, [scale](const Tensor& g, const std::vector<bool>& need) {
    // One gradient tensor serves every input (the engine never writes into it).
    const Tensor gi = scale == 1.f ? g : ops::scale(g, scale);
    Grads grads(need.size());
    for (size_t i = 0; i < need.size(); ++i)
      if (need[i]) grads[i] = gi;
    return grads;
  });
}

// True when every input has the first one's shape (the fused fast paths).
bool same_shapes(const std::vector<Variable>& inputs) {
  for (const auto& x : inputs)
    if (x.shape() != inputs[0].shape()) return false;
  return true;
}

const char* merge_class_name(MergeOp op) {
  switch (op) {
    case MergeOp::kAdd: return "Add";
    case MergeOp::kSubtract: return "Subtract";
    case MergeOp::kMultiply: return "Multiply";
    case MergeOp::kAverage: return "Average";
    case MergeOp::kMaximum: return "Maximum";
    case MergeOp::kMinimum: return "Minimum";
  }
  return "Merge";
}

}  // namespace

// ---------------------------------------------------------------------------
// MergeImpl

MergeImpl::MergeImpl(MergeOp op, MergeOptions o)
    : Layer(common_options(o), to_snake_case(merge_class_name(op))), op_(op) {
  set_supports_masking(true);
}

std::string MergeImpl::class_name() const { return merge_class_name(op_); }

std::shared_ptr<MergeImpl> MergeImpl::from_config(MergeOp op, const json& c) {
  // A merge layer takes no arguments of its own in any Keras.
  return detail::layer_from_config<MergeOptions>(
      c, merge_class_name(op), {}, [op](const ConfigReader&, MergeOptions o) {
        return std::make_shared<MergeImpl>(op, std::move(o));
      });
}

std::vector<Shape> MergeImpl::compute_output_shape(const std::vector<Shape>& shapes) {
  const size_t exact = exact_inputs();
  if (exact && shapes.size() != exact)
    fail("A `{}` layer should be called on exactly {} inputs. Received {} inputs: {}", class_name(), exact,
         shapes.size(), shapes_str(shapes));
  if (shapes.empty()) fail("A merge layer should be called on a list of at least 1 input. Got 0 inputs.");
  Shape out = shapes[0];
  int64_t batch = kNone;
  for (const Shape& s : shapes) {
    if (s.empty()) fail("merge inputs need a batch axis; received shapes {}", shapes_str(shapes));
    if (s[0] == kNone) continue;
    if (batch != kNone && batch != s[0])
      fail("Cannot merge tensors with different batch sizes. Got tensors with shapes {}", shapes_str(shapes));
    batch = s[0];
  }
  for (size_t k = 1; k < shapes.size(); ++k) {
    const Shape& s = shapes[k];
    bool ok = s.size() == out.size();
    for (size_t i = 1; ok && i < s.size(); ++i) {
      if (out[i] == kNone || s[i] == kNone) {
        out[i] = kNone;
      } else if (out[i] == 1) {
        out[i] = s[i];
      } else if (s[i] != 1 && s[i] != out[i]) {
        ok = false;
      }
    }
    if (!ok) fail("Inputs have incompatible shapes. Received shapes {} and {}", shape_str(shapes[0]), shape_str(s));
  }
  out[0] = batch;
  return {out};
}

VariableList MergeImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  // The checks of compute_output_shape, with the layer's name in the message.
  // Inputs of one shape (the usual case) pass them all; skipping the call then
  // saves the step its lists of shapes.
  const bool plainly_valid = !inputs.empty() && (!exact_inputs() || inputs.size() == exact_inputs()) &&
                             inputs[0].rank() > 0 && same_shapes(inputs);
  if (!plainly_valid) compute_output_shape(shapes_of(inputs));
  return {merge(inputs)};
}

std::vector<Tensor> MergeImpl::compute_mask(const std::vector<Variable>&, const std::vector<Tensor>& masks) {
  Tensor out;
  for (const Tensor& m : masks) {
    if (!m.defined()) continue;
    if (!out.defined()) {
      out = m;
      continue;
    }
    try {
      out = ops::mul(out, m);  // AND of 0/1 masks
    } catch (const ValueError&) {
      fail("cannot combine input masks of shapes {} and {}", shape_str(out.shape()), shape_str(m.shape()));
    }
  }
  if (!out.defined()) return {};  // no mask (the caller reads an empty list so)
  return {out};
}

std::vector<std::optional<Shape>> MergeImpl::compute_mask_shape(const std::vector<Shape>&,
                                                                const std::vector<std::optional<Shape>>& masks) {
  for (const auto& m : masks)
    if (m) return {m};
  return {std::nullopt};
}

// ---------------------------------------------------------------------------
// The element-wise computations

Variable MergeImpl::merge(const std::vector<Variable>& xs) const {
  Variable y = xs[0];
  switch (op_) {
    case MergeOp::kAdd:
      if (same_shapes(xs)) return fused_sum_result(xs, 1.f, "Add");
      for (size_t i = 1; i < xs.size(); ++i) y = autograd::add(y, xs[i]);
      return y;
    case MergeOp::kSubtract:
      return autograd::sub(xs[0], xs[1]);
    case MergeOp::kMultiply:
      for (size_t i = 1; i < xs.size(); ++i) y = autograd::mul(y, xs[i]);
      return y;
    case MergeOp::kAverage: {
      const float scale = 1.f / static_cast<float>(xs.size());
      if (same_shapes(xs)) return fused_sum_result(xs, scale, "Average");
      for (size_t i = 1; i < xs.size(); ++i) y = autograd::add(y, xs[i]);
      return autograd::mul_scalar(y, scale);
    }
    case MergeOp::kMaximum:
      for (size_t i = 1; i < xs.size(); ++i) y = autograd::maximum(y, xs[i]);
      return y;
    case MergeOp::kMinimum:
      for (size_t i = 1; i < xs.size(); ++i) y = autograd::minimum(y, xs[i]);
      return y;
  }
  return y;
}

MINIDL_REGISTER_LAYER("Add", [](const json& c) -> LayerPtr { return MergeImpl::from_config(MergeOp::kAdd, c); });
MINIDL_REGISTER_LAYER("Subtract",
                      [](const json& c) -> LayerPtr { return MergeImpl::from_config(MergeOp::kSubtract, c); });
MINIDL_REGISTER_LAYER("Multiply",
                      [](const json& c) -> LayerPtr { return MergeImpl::from_config(MergeOp::kMultiply, c); });
MINIDL_REGISTER_LAYER("Average", [](const json& c) -> LayerPtr { return MergeImpl::from_config(MergeOp::kAverage, c); });
MINIDL_REGISTER_LAYER("Maximum", [](const json& c) -> LayerPtr { return MergeImpl::from_config(MergeOp::kMaximum, c); });
MINIDL_REGISTER_LAYER("Minimum", [](const json& c) -> LayerPtr { return MergeImpl::from_config(MergeOp::kMinimum, c); });

}  // namespace minidl
