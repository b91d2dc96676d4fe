// layers/pooling/global_pooling2d.cpp — GlobalAveragePooling2D and GlobalMaxPooling2D on ops/pooling.h.
#include "layers/pooling/global_pooling2d.h"

#include <nlohmann/json.hpp>

#include "layers/base/config_utils.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"
#include "ops/pooling.h"

namespace minidl {

GlobalPooling2DImpl::GlobalPooling2DImpl(Kind kind, GlobalPooling2DOptions o)
    : Layer(common_options(o),
            to_snake_case(kind == Kind::kMax ? "GlobalMaxPooling2D" : "GlobalAveragePooling2D")),
      kind_(kind),
      keepdims_(o.keepdims) {
  data_format_ = normalize_data_format(o.data_format, fmt::format("{} '{}'", class_name(), name()));
}

std::vector<Shape> GlobalPooling2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  return {output_shape_for(single_shape(input_shapes))};
}

Shape GlobalPooling2DImpl::output_shape_for(const Shape& s) const {
  const bool cf = data_format_ == "channels_first";
  if (s.size() != 4)
    fail("expected input of rank 4 ({}), received shape {}",
         cf ? "batch, channels, rows, cols" : "batch, rows, cols, channels", shape_str(s));
  const int rows_axis = cf ? 2 : 1;
  if (s[rows_axis] == 0 || s[rows_axis + 1] == 0)
    fail("cannot pool over an empty spatial dimension, received shape {}", shape_str(s));
  const int64_t C = cf ? s[1] : s[3];
  if (!keepdims_) return {s[0], C};
  return cf ? Shape{s[0], C, 1, 1} : Shape{s[0], 1, 1, C};
}

VariableList GlobalPooling2DImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const Shape out_shape = output_shape_for(x.shape());
  const ImageBlock b = image_block(x.shape(), data_format_ == "channels_first");
  const Shape x_shape = x.shape();
  Tensor y(out_shape);  // [B, C] values in either layout
  if (kind_ == Kind::kAverage) {
    ops::global_avg_pool2d(x.value().data(), b.B, b.H, b.W, b.C, y.data());
    // A literal tape name: class_name() builds a std::string, and names this
    // long do not fit its inline storage (a heap allocation per step).
    return {make_result(y, {x}, "global_avg_pool", [b, x_shape](const Tensor& dy, const std::vector<bool>&) {
      Tensor dx(x_shape);
      ops::global_avg_pool2d_backward(dy.data(), b.B, b.H, b.W, b.C, dx.data());
      return Grads{dx};
    })};
  }
  // The argmax routes the gradient; it is recorded only when a tape will be
  // kept, in a block from the tensor cache (two floats per int64 index), as
  // Pooling2D does.
  std::shared_ptr<float[]> argmax_block;
  if (grad_enabled() && x.requires_grad()) argmax_block = aligned_floats(2 * y.numel());
  auto* argmax = reinterpret_cast<int64_t*>(argmax_block.get());
  ops::global_max_pool2d(x.value().data(), b.B, b.H, b.W, b.C, y.data(), argmax);
  return {make_result(y, {x}, "global_max_pool", [b, x_shape, argmax_block](const Tensor& dy, const std::vector<bool>&) {
    Tensor dx(x_shape);
    ops::global_max_pool2d_backward(dy.data(), reinterpret_cast<const int64_t*>(argmax_block.get()), b.B, b.H, b.W,
                                    b.C, dx.data());
    return Grads{dx};
  })};
}

json GlobalPooling2DImpl::get_config() const {
  json c = base_config();
  c["data_format"] = data_format_;
  c["keepdims"] = keepdims_;
  return c;
}

GlobalPooling2DOptions GlobalPooling2DImpl::parse_config(const json& c, const std::string& class_name) {
  const std::string owner = detail::layer_owner(c, class_name);
  ConfigReader r(c, owner);
  r.check_keys({"data_format", "keepdims"});
  GlobalPooling2DOptions o;
  detail::set_common_options(o, detail::naming_owner(owner, [&] { return common_options_from_config(r); }));
  o.data_format = r.str("data_format", "");
  o.keepdims = r.boolean("keepdims", false);  // absent before tf.keras 2.6
  return o;
}

MINIDL_REGISTER_LAYER("GlobalAveragePooling2D",
                      [](const json& c) -> LayerPtr { return GlobalAveragePooling2DImpl::from_config(c); },
                      {"GlobalAvgPool2D"});
MINIDL_REGISTER_LAYER("GlobalMaxPooling2D",
                      [](const json& c) -> LayerPtr { return GlobalMaxPooling2DImpl::from_config(c); },
                      {"GlobalMaxPool2D"});

}  // namespace minidl
