// layers/conv/conv2d.cpp — Conv2D's kernel, computation and config.
#include "layers/conv/conv2d.h"

#include <nlohmann/json.hpp>

#include <utility>

#include "layers/conv/conv2d_bf16_function.h"

namespace minidl {

Conv2DImpl::Conv2DImpl(int64_t filters, IntPair kernel_size, Conv2DOptions o)
    : Conv2DImpl("Conv2D", o, conv_args(o, filters, kernel_size, o.groups)) {}

Shape Conv2DImpl::kernel_shape(int64_t channels) const {
  return {kernel_size().first, kernel_size().second, channels / groups(), filters()};
}

void Conv2DImpl::build_kernels(int64_t channels) { kernel_ = add_weight_with("kernel", kernel_shape(channels), kernel_parts_); }

Variable Conv2DImpl::convolve(const Variable& x, const Shape&) {
  const Conv2DCall c{strides(), dilation_rate(), same_padding(), channels_first(), groups(), fuse_relu()};
  // Under mixed_bfloat16 the op rounds the input, the kernel and the bias to bfloat16 itself.
  if (computes_in_bfloat16()) return conv2d_variable_bf16(x, kernel_, bias_or_null(), c, scratch());
  return conv2d_variable(x, kernel_, bias_or_null(), c, scratch());
}

std::shared_ptr<Conv2DImpl> Conv2DImpl::from_config(const json& c) {
  ConfigReader r(c, detail::config_owner(c, "Conv2D"));
  r.check_keys(config_keys({"filters", "kernel_initializer", "kernel_regularizer", "kernel_constraint"}));
  Conv2DOptions o;
  read_shared_options(r, c, o);
  o.groups = r.integer("groups", 1);
  detail::read_parts(r, c, "kernel", o.kernel_initializer, o.kernel_regularizer, o.kernel_constraint);
  return std::make_shared<Conv2DImpl>(r.integer("filters"), r.int_pair("kernel_size"), std::move(o));
}

MINIDL_REGISTER_LAYER("Conv2D", [](const json& c) -> LayerPtr { return Conv2DImpl::from_config(c); },
                      {"Convolution2D"});

}  // namespace minidl
