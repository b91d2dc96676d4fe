// layers/conv/conv2d_transpose.h — Keras's Conv2DTranspose (a.k.a. deconvolution):
// the adjoint of a Conv2D, which upsamples by its strides.
//
//   auto up = Conv2DTranspose(16, 3, {.strides = 2, .padding = "same"});
//   KerasTensor y = up(Input({8, 8, 32}));                  // (None, 16, 16, 16)
//   Conv2DTranspose(8, 3, {.strides = 2, .output_padding = IntPair{1, 0}});
//
// Arguments and errors: the Conv base's (layers/conv/conv_base.h), with filters,
// the kernel's parts and output_padding (unset = Keras's None; each value below
// the stride on its axis: "Stride (2, 2) must be greater than output padding (2, 2)").
// Per spatial axis (Keras's deconv_output_length, k' = (k - 1) * dilation + 1):
//   output_padding unset: valid  in*s + max(k' - s, 0)     same  in*s
//   output_padding p:     (in - 1)*s + k' - 2*pad + p,  pad = k'/2 (same), 0 (valid)
// so a "valid" input may be smaller than the kernel; "same" with output_padding
// and an even dilated kernel is a ValueError when the "same" convolution of the
// output does not give back the input size. Weights: "kernel" (kh, kw, filters,
// C) — filters BEFORE the input channels — and "bias" (filters,). The values are
// tf.nn.conv2d_transpose's (see layers/conv/conv2d_transpose_function.h).
//
// As in Keras, Conv2DTranspose is a Conv2D: it keeps Conv2D's filters, kernel
// and kernel parts, and changes the kernel's layout, the output lengths and the
// computation.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "layers/base/kernel_bias_options.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/conv2d_transpose_function.h"

namespace minidl {

// Keras's Conv2DTranspose arguments after filters and kernel_size, in Keras's order and defaults.
struct Conv2DTransposeOptions {
  IntPair strides = 1;
  std::string padding = "valid";
  std::optional<IntPair> output_padding{};  // Keras's None; write IntPair{1, 0} for a pair
  std::string data_format{};                // "" = image_data_format()
  IntPair dilation_rate = 1;
  MINIDL_KERNEL_BIAS_OPTIONS;
  MINIDL_COMMON_LAYER_OPTIONS;
};

class Conv2DTransposeImpl : public Conv2DImpl {
 public:
  // Throws the construction-time ValueErrors listed above.
  Conv2DTransposeImpl(int64_t filters, IntPair kernel_size, Conv2DTransposeOptions options = {});

  // Keys: Conv2D's without groups (Keras 3's Conv2DTranspose rejects it; tf.keras
  // 2.x defaults it to 1), plus output_padding (null or [a, b]).
  json get_config() const override;
  // Reads Keras 1 (after the io loader's key renaming), 2 and 3 configs; missing
  // keys take Keras defaults; a Keras 1 Deconvolution2D "output_shape" is ignored,
  // as Keras 2 ignores it. ValueError for wrong types, unknown keys, groups
  // other than 1, or values the constructor rejects.
  static std::shared_ptr<Conv2DTransposeImpl> from_config(const json& config);

  const std::optional<IntPair>& output_padding() const { return output_padding_; }

 protected:
  // (kh, kw, filters, channels): filters before the input channels.
  Shape kernel_shape(int64_t channels) const override;
  Variable convolve(const Variable& x, const Shape& output_shape) override;
  // The deconv_output_length rule above.
  std::pair<int64_t, int64_t> output_rows_cols(const Shape& s, int64_t rows, int64_t cols) const override;

 private:
  std::optional<IntPair> output_padding_;
};

// The Keras-named handle: Conv2DTranspose(16, 3, {.strides = 2, .padding = "same"}).
class Conv2DTranspose : public LayerHolder<Conv2DTransposeImpl> {
 public:
  Conv2DTranspose(int64_t filters, IntPair kernel_size, Conv2DTransposeOptions options = {})
      : LayerHolder(std::make_shared<Conv2DTransposeImpl>(filters, kernel_size, std::move(options))) {}
  explicit Conv2DTranspose(std::shared_ptr<Conv2DTransposeImpl> impl) : LayerHolder(std::move(impl)) {}
};

}  // namespace minidl
