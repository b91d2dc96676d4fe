// layers/conv/depthwise_conv2d.cpp — DepthwiseConv2D's kernel, computation and config.
#include "layers/conv/depthwise_conv2d.h"

#include <nlohmann/json.hpp>

#include <utility>

#include "layers/conv/conv2d_bf16_function.h"

namespace minidl {

DepthwiseConv2DImpl::DepthwiseConv2DImpl(IntPair kernel_size, DepthwiseConv2DOptions o)
    : ConvBase("DepthwiseConv2D", common_options(o),
               conv_args(o, std::nullopt, kernel_size, /*groups=*/1, o.depth_multiplier)),
      depthwise_parts_(
          resolve_parts("depthwise", o.depthwise_initializer, o.depthwise_regularizer, o.depthwise_constraint)) {}

void DepthwiseConv2DImpl::build_kernels(int64_t channels) {
  depthwise_kernel_ = add_weight_with(
      "depthwise_kernel", {kernel_size().first, kernel_size().second, channels, depth_multiplier()}, depthwise_parts_);
}

Variable DepthwiseConv2DImpl::convolve(const Variable& x, const Shape&) {
  const int64_t c = depthwise_kernel_.shape()[2];
  const Conv2DCall conv{strides(), dilation_rate(), same_padding(), channels_first(), c, fuse_relu()};
  const Variable kernel = depthwise_as_grouped(depthwise_kernel_);
  // Under mixed_bfloat16 the op rounds the input, the kernel and the bias to bfloat16 itself.
  if (computes_in_bfloat16()) return conv2d_variable_bf16(x, kernel, bias_or_null(), conv, scratch());
  return conv2d_variable(x, kernel, bias_or_null(), conv, scratch());
}

std::shared_ptr<DepthwiseConv2DImpl> DepthwiseConv2DImpl::from_config(const json& c) {
  ConfigReader r(c, detail::config_owner(c, "DepthwiseConv2D"));
  r.check_keys(config_keys({"depth_multiplier", "depthwise_initializer", "depthwise_regularizer",
                            "depthwise_constraint"}));
  DepthwiseConv2DOptions o;
  read_shared_options(r, c, o);
  o.depth_multiplier = r.integer("depth_multiplier", 1);
  r.integer("groups", 1);  // type-checked, otherwise meaningless for a depthwise conv
  detail::read_parts(r, c, "depthwise", o.depthwise_initializer, o.depthwise_regularizer, o.depthwise_constraint);
  return std::make_shared<DepthwiseConv2DImpl>(r.int_pair("kernel_size"), std::move(o));
}

MINIDL_REGISTER_LAYER("DepthwiseConv2D", [](const json& c) -> LayerPtr { return DepthwiseConv2DImpl::from_config(c); });

}  // namespace minidl
