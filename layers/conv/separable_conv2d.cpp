// layers/conv/separable_conv2d.cpp — SeparableConv2D's kernels, computation and config.
#include "layers/conv/separable_conv2d.h"

#include <nlohmann/json.hpp>

#include <utility>

#include "autograd/functions.h"
#include "layers/conv/conv2d_bf16_function.h"

namespace minidl {

SeparableConv2DImpl::SeparableConv2DImpl(int64_t filters, IntPair kernel_size, SeparableConv2DOptions o)
    : ConvBase("SeparableConv2D", common_options(o),
               conv_args(o, filters, kernel_size, /*groups=*/1, o.depth_multiplier)),
      depthwise_parts_(
          resolve_parts("depthwise", o.depthwise_initializer, o.depthwise_regularizer, o.depthwise_constraint)),
      pointwise_parts_(
          resolve_parts("pointwise", o.pointwise_initializer, o.pointwise_regularizer, o.pointwise_constraint)) {}

void SeparableConv2DImpl::build_kernels(int64_t channels) {
  depthwise_kernel_ = add_weight_with(
      "depthwise_kernel", {kernel_size().first, kernel_size().second, channels, depth_multiplier()}, depthwise_parts_);
  pointwise_kernel_ =
      add_weight_with("pointwise_kernel", {1, 1, channels * depth_multiplier(), filters()}, pointwise_parts_);
}

Variable SeparableConv2DImpl::convolve(const Variable& x, const Shape&) {
  // Both steps run in NHWC: one transpose each way instead of one per step.
  const Variable xn = channels_first() ? autograd::permute(x, {0, 2, 3, 1}) : x;  // [N, H, W, C]
  const int64_t c = depthwise_kernel_.shape()[2];
  const Conv2DCall depthwise{strides(), dilation_rate(), same_padding(), false, c, false};
  // Under mixed_bfloat16 both steps multiply bfloat16 operands (the ops round them),
  // so the depthwise step's output is rounded on its way into the pointwise one.
  const auto conv = computes_in_bfloat16() ? &conv2d_variable_bf16 : &conv2d_variable;
  const Variable mid =
      conv(xn, depthwise_as_grouped(depthwise_kernel_), nullptr, depthwise, scratch());  // [N, OH, OW, C*DM]
  const Conv2DCall pointwise{1, 1, false, false, 1, fuse_relu()};
  Variable y = conv(mid, pointwise_kernel_, bias_or_null(), pointwise, scratch());
  if (channels_first()) y = autograd::permute(y, {0, 3, 1, 2});  // [N, F, OH, OW]
  return y;
}

std::shared_ptr<SeparableConv2DImpl> SeparableConv2DImpl::from_config(const json& c) {
  ConfigReader r(c, detail::config_owner(c, "SeparableConv2D"));
  r.check_keys(config_keys({"filters", "depth_multiplier", "kernel_initializer", "kernel_regularizer",
                            "kernel_constraint", "depthwise_initializer", "pointwise_initializer",
                            "depthwise_regularizer", "pointwise_regularizer", "depthwise_constraint",
                            "pointwise_constraint"}));
  SeparableConv2DOptions o;
  read_shared_options(r, c, o);
  o.depth_multiplier = r.integer("depth_multiplier", 1);
  if (const int64_t groups = r.integer("groups", 1); groups != 1)
    raise<ValueError>("{}: a separable convolution has no groups; expected groups=1, received groups={}", r.owner(),
                      groups);
  detail::read_parts(r, c, "depthwise", o.depthwise_initializer, o.depthwise_regularizer, o.depthwise_constraint);
  detail::read_parts(r, c, "pointwise", o.pointwise_initializer, o.pointwise_regularizer, o.pointwise_constraint);
  // tf.keras 2.x writes its Conv base's kernel parts, which a separable convolution never
  // uses; they are checked (read_parts resolves them) and dropped: Keras 3 rejects them,
  // so they are not written.
  InitializerArg initializer;
  RegularizerArg regularizer;
  ConstraintArg constraint;
  detail::read_parts(r, c, "kernel", initializer, regularizer, constraint);
  return std::make_shared<SeparableConv2DImpl>(r.integer("filters"), r.int_pair("kernel_size"), std::move(o));
}

MINIDL_REGISTER_LAYER("SeparableConv2D", [](const json& c) -> LayerPtr { return SeparableConv2DImpl::from_config(c); },
                      {"SeparableConvolution2D"});

}  // namespace minidl
