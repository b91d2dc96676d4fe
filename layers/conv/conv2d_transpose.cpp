// layers/conv/conv2d_transpose.cpp — Conv2DTranspose's kernel, output lengths, computation and config.
#include "layers/conv/conv2d_transpose.h"

#include <nlohmann/json.hpp>

#include <utility>

#include "layers/conv/conv2d_bf16_function.h"
#include "ops/im2col.h"

namespace minidl {

Conv2DTransposeImpl::Conv2DTransposeImpl(int64_t filters, IntPair kernel_size, Conv2DTransposeOptions o)
    : Conv2DImpl("Conv2DTranspose", o, conv_args(o, filters, kernel_size)), output_padding_(o.output_padding) {
  if (output_padding_) {
    if (output_padding_->first < 0 || output_padding_->second < 0)
      fail("`output_padding` must be non-negative integers, received output_padding={}", pair_str(*output_padding_));
    if (output_padding_->first >= strides().first || output_padding_->second >= strides().second)
      fail("Stride {} must be greater than output padding {}", pair_str(strides()), pair_str(*output_padding_));
  }
}

Shape Conv2DTransposeImpl::kernel_shape(int64_t channels) const {
  return {kernel_size().first, kernel_size().second, filters(), channels};
}

std::pair<int64_t, int64_t> Conv2DTransposeImpl::output_rows_cols(const Shape& s, int64_t rows, int64_t cols) const {
  const IntPair& k = kernel_size();
  const IntPair& st = strides();
  const IntPair& d = dilation_rate();
  std::optional<int64_t> pad_rows, pad_cols;
  if (output_padding_) pad_rows = output_padding_->first, pad_cols = output_padding_->second;
  const int64_t oh = deconv_output_length(rows, k.first, same_padding(), pad_rows, st.first, d.first);
  const int64_t ow = deconv_output_length(cols, k.second, same_padding(), pad_cols, st.second, d.second);
  // Only "same" with an explicit output_padding and an even dilated kernel can
  // give an output whose forward convolution misses the input size.
  const int64_t back_rows = ops::conv_output_length(oh, k.first, same_padding(), st.first, d.first);
  const int64_t back_cols = ops::conv_output_length(ow, k.second, same_padding(), st.second, d.second);
  if ((rows != kNone && back_rows != rows) || (cols != kNone && back_cols != cols))
    fail("output_padding={} with padding \"same\", kernel_size={} and strides={} gives an output of {} x {}, whose "
         "\"same\" convolution is {} x {}, not the input's {} x {} (TensorFlow refuses this too); received input "
         "shape {}",
         pair_str(*output_padding_), pair_str(k), pair_str(st), oh, ow, back_rows, back_cols, rows, cols,
         shape_str(s));
  return {oh, ow};
}

Variable Conv2DTransposeImpl::convolve(const Variable& x, const Shape& output_shape) {
  const Conv2DTransposeCall c{.strides = strides(), .dilation_rate = dilation_rate(), .same_padding = same_padding(),
                              .channels_first = channels_first(), .out_rows = output_shape[channels_first() ? 2 : 1],
                              .out_cols = output_shape[channels_first() ? 3 : 2], .fuse_relu = fuse_relu()};
  // Under mixed_bfloat16 the ops round the input, the kernel and the gradient to bfloat16 (the bias too).
  if (computes_in_bfloat16()) return conv2d_transpose_variable_bf16(x, kernel(), bias_or_null(), c, scratch());
  return conv2d_transpose_variable(x, kernel(), bias_or_null(), c, scratch());
}

json Conv2DTransposeImpl::get_config() const {
  json c = Conv2DImpl::get_config();
  c.erase("groups");  // Keras 3's Conv2DTranspose has no groups argument and rejects the key
  c["output_padding"] = output_padding_ ? pair_to_json(output_padding_->as_pair()) : json(nullptr);
  return c;
}

std::shared_ptr<Conv2DTransposeImpl> Conv2DTransposeImpl::from_config(const json& c) {
  ConfigReader r(c, detail::config_owner(c, "Conv2DTranspose"));
  // Keras 1 Deconvolution2D required an "output_shape"; Keras 2 drops it when
  // converting such a layer (the size follows from the other arguments), and so do we.
  r.check_keys(config_keys({"filters", "output_padding", "kernel_initializer", "kernel_regularizer",
                            "kernel_constraint", "output_shape"}));
  Conv2DTransposeOptions o;
  read_shared_options(r, c, o);
  if (r.has("output_padding")) o.output_padding = IntPair(r.int_pair("output_padding"));
  if (const int64_t groups = r.integer("groups", 1); groups != 1)
    raise<ValueError>("{}: Conv2DTranspose does not support groups; expected groups=1, received groups={}", r.owner(),
                      groups);
  detail::read_parts(r, c, "kernel", o.kernel_initializer, o.kernel_regularizer, o.kernel_constraint);
  return std::make_shared<Conv2DTransposeImpl>(r.integer("filters"), r.int_pair("kernel_size"), std::move(o));
}

MINIDL_REGISTER_LAYER("Conv2DTranspose", [](const json& c) -> LayerPtr { return Conv2DTransposeImpl::from_config(c); },
                      {"Deconvolution2D"});

}  // namespace minidl
