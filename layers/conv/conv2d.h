// layers/conv/conv2d.h — Keras's Conv2D: a 2-D convolution with bias and activation.
//
//   auto conv = Conv2D(32, 3, {.strides = 2, .padding = "same", .activation = "relu"});
//   KerasTensor y = conv(Input({28, 28, 1}));        // (None, 14, 14, 32)
//   Conv2D(16, {3, 5}, {.kernel_regularizer = L2(1e-4)});
//
// Arguments, shapes and errors: the Conv base's (layers/conv/conv_base.h), with
// filters, groups and the kernel's parts. Weights: "kernel" (kh, kw,
// channels/groups, filters) and "bias" (filters,). One ops::conv2d_forward per
// call through layers/conv/conv2d_function.h; the method (im2col + GEMM,
// Winograd, the direct loop or the reference loops) is chosen there, or forced
// process-wide by ops/conv2d_algorithm.h.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "layers/base/kernel_bias_options.h"
#include "layers/conv/conv_base.h"

namespace minidl {

// Keras's Conv2D arguments after filters and kernel_size, in Keras's order and defaults.
struct Conv2DOptions {
  IntPair strides = 1;
  std::string padding = "valid";
  std::string data_format{};  // "" = image_data_format()
  IntPair dilation_rate = 1;
  int64_t groups = 1;
  MINIDL_KERNEL_BIAS_OPTIONS;
  MINIDL_COMMON_LAYER_OPTIONS;
};

class Conv2DImpl : public ConvBase {
 public:
  // Throws the construction-time ValueErrors of the Conv base.
  Conv2DImpl(int64_t filters, IntPair kernel_size, Conv2DOptions options = {});

  // Reads Keras 2/3 configs (missing keys take Keras defaults; "groups" absent in
  // Keras < 2.3 files means 1). ValueError for wrong types, unknown keys or values
  // the constructor rejects.
  static std::shared_ptr<Conv2DImpl> from_config(const json& config);

  int64_t filters() const { return *filters_or_none(); }
  using ConvBase::groups;

  // Keras's layer.kernel. RuntimeError before build.
  const Variable& kernel() const { return built_weight(kernel_, "kernel"); }

 protected:
  // Conv2DTranspose's constructor (a Conv2D in Keras too): its class name, its
  // options o (the kernel parts are read from them) and its arguments.
  template <class O>
  Conv2DImpl(std::string class_name, const O& o, ConvArgs args)
      : ConvBase(std::move(class_name), common_options(o), std::move(args)),
        kernel_parts_(resolve_parts("kernel", o.kernel_initializer, o.kernel_regularizer, o.kernel_constraint)) {}

  // The kernel's shape for `channels` input channels: (kh, kw, channels/groups, filters).
  virtual Shape kernel_shape(int64_t channels) const;
  void build_kernels(int64_t channels) final;
  Variable convolve(const Variable& x, const Shape& output_shape) override;

 private:
  detail::WeightParts kernel_parts_;
  Variable kernel_;
};

// The Keras-named handle: Conv2D(32, 3, {.padding = "same"}).
class Conv2D : public LayerHolder<Conv2DImpl> {
 public:
  Conv2D(int64_t filters, IntPair kernel_size, Conv2DOptions options = {})
      : LayerHolder(std::make_shared<Conv2DImpl>(filters, kernel_size, std::move(options))) {}
  explicit Conv2D(std::shared_ptr<Conv2DImpl> impl) : LayerHolder(std::move(impl)) {}
};

}  // namespace minidl
