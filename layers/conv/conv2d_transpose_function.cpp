// layers/conv/conv2d_transpose_function.cpp — the Conv2DTranspose tape entry on ops/conv2d.h's
// kernels (ops/conv2d_bf16.h's under mixed_bfloat16), and Keras's output-length rule.
#include "layers/conv/conv2d_transpose_function.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "core/threads.h"
#include "layers/conv/conv2d_bf16_function.h"
#include "ops/conv2d.h"
#include "ops/conv2d_bf16.h"
#include "ops/gemm_bf16.h"
#include "ops/im2col.h"
#include "ops/parallel_grain.h"
#include "ops/transpose.h"

namespace minidl {

namespace {

// y[m, f] = max(y[m, f] + bias[f], 0) or y[m, f] + bias[f] over rows of F.
void add_bias_relu(Tensor& y, const float* bias, int64_t F, bool relu) {
  float* p = y.data();
  const int64_t rows = F > 0 ? y.numel() / F : 0;
  parallel_for(
      rows,
      [=](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          float* row = p + r * F;
          if (bias)
            for (int64_t f = 0; f < F; ++f) row[f] += bias[f];
          if (relu)
            for (int64_t f = 0; f < F; ++f) row[f] = std::max(row[f], 0.f);
        }
      },
      ops::grain(ops::Cost::kMemory, F));
}

// g where the relu output is positive, else 0 (relu'(0) = 0, as autograd::relu).
Tensor relu_mask(const Tensor& g, const Tensor& y) {
  Tensor out(g.shape());
  const float* pg = g.data();
  const float* py = y.data();
  float* po = out.data();
  parallel_for(
      g.numel(),
      [=](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) po[i] = py[i] > 0.f ? pg[i] : 0.f;
      },
      ops::kElementwiseGrain);
  return out;
}

// Sum of dy [M, F] over its rows, accumulated in double.
Tensor column_sums(const Tensor& dy, int64_t F) {
  std::vector<double> acc(static_cast<size_t>(F), 0.0);
  const float* p = dy.data();
  const int64_t rows = dy.numel() / F;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t f = 0; f < F; ++f) acc[static_cast<size_t>(f)] += p[r * F + f];
  Tensor out({F});
  for (int64_t f = 0; f < F; ++f) out[f] = static_cast<float>(acc[static_cast<size_t>(f)]);
  return out;
}

}  // namespace

int64_t deconv_output_length(int64_t in, int64_t k, bool same, std::optional<int64_t> output_padding, int64_t stride,
                             int64_t dilation) {
  MINIDL_CHECK(k >= 1 && stride >= 1 && dilation >= 1, ValueError,
               "deconv_output_length: expected kernel, stride and dilation >= 1, received {}, {}, {}", k, stride,
               dilation);
  MINIDL_CHECK(in >= -1, ValueError, "deconv_output_length: expected an input length >= 0 (or -1 for None), received {}",
               in);
  if (in == kNone) return kNone;
  const int64_t dk = (k - 1) * dilation + 1;
  if (!output_padding) return same ? in * stride : in * stride + std::max<int64_t>(dk - stride, 0);
  const int64_t pad = same ? dk / 2 : 0;
  return (in - 1) * stride + dk - 2 * pad + *output_padding;
}

namespace {

// Both entries; bf16 selects the bfloat16 kernels (and the bias rounded to bfloat16).
Variable transpose_tape_entry(const Variable& x, const Variable& kernel, const Variable* bias,
                              const Conv2DTransposeCall& call, const std::shared_ptr<ConvScratch>& scratch, bool bf16) {
  MINIDL_CHECK(scratch != nullptr, ValueError, "conv2d_transpose: scratch must not be null");
  const Tensor& kv = kernel.value();
  MINIDL_CHECK(x.rank() == 4 && kv.rank() == 4, ValueError,
               "conv2d_transpose: expected a rank-4 input and a rank-4 kernel, received shapes {} and {}",
               shape_str(x.shape()), shape_str(kv.shape()));
  const bool cf = call.channels_first;
  const Tensor xn = cf ? ops::nchw_to_nhwc(x.value()) : x.value();  // [N, H, W, IC]
  const int64_t N = xn.dim(0), H = xn.dim(1), W = xn.dim(2), IC = xn.dim(3);
  const int64_t F = kv.dim(2);
  MINIDL_CHECK(kv.dim(3) == IC && F >= 1, ValueError,
               "conv2d_transpose: kernel {} (kh, kw, filters, in_channels) does not match an input with {} channels "
               "(input shape {})",
               shape_str(kv.shape()), IC, shape_str(x.shape()));
  MINIDL_CHECK(bias == nullptr || bias->shape() == Shape{F}, ValueError,
               "conv2d_transpose: expected a bias of shape ({},), received {}", F,
               bias ? shape_str(bias->shape()) : std::string("none"));
  // The forward conv this op is the adjoint of: [N, out_rows, out_cols, F] -> [N, H, W, IC].
  const ops::Conv2DGeometry g = ops::make_conv_geometry(
      N, call.out_rows, call.out_cols, F, kv.dim(0), kv.dim(1), call.strides.first, call.strides.second,
      call.dilation_rate.first, call.dilation_rate.second, call.same_padding);
  MINIDL_CHECK(g.OH == H && g.OW == W, ValueError,
               "conv2d_transpose: an output of {} x {} convolves back to {} x {}, not to the input's {} x {} "
               "(TensorFlow's conv2d_transpose refuses such an output size too)",
               call.out_rows, call.out_cols, g.OH, g.OW, H, W);

  Tensor y({N, g.H, g.W, F});  // [N, OH', OW', F]: the forward conv's input size
  {
    std::lock_guard lk(scratch->mu);
    if (bf16)
      ops::conv2d_backward_bf16(nullptr, kv.data(), xn.data(), g, 1, IC, y.data(), nullptr, nullptr,
                                scratch->workspace);
    else
      ops::conv2d_backward(nullptr, kv.data(), xn.data(), g, 1, IC, y.data(), nullptr, nullptr, scratch->workspace);
  }
  Tensor bias_used = bias ? bias->value() : Tensor();
  if (bias && bf16) {
    bias_used = Tensor({F});
    ops::round_to_bfloat16(bias->value().data(), bias_used.data(), F);
  }
  if (bias || call.fuse_relu) add_bias_relu(y, bias ? bias_used.data() : nullptr, F, call.fuse_relu);
  Tensor out = cf ? ops::nhwc_to_nchw(y) : y;  // the caller's layout

  std::vector<Variable> inputs{x, kernel};
  if (bias) inputs.push_back(*bias);
  const bool has_bias = bias != nullptr, relu = call.fuse_relu;
  Tensor y_saved = relu ? out : Tensor();  // only the relu mask needs the output
  return make_result(
      std::move(out), std::move(inputs), "conv2d_transpose",
      [xn, kv, y_saved, g, F, IC, cf, relu, has_bias, scratch, bf16](
          const Tensor& grad, const std::vector<bool>& needs) -> std::vector<Tensor> {
        const Tensor gy = relu ? relu_mask(grad, y_saved) : grad;  // caller's layout
        const Tensor dy = cf ? ops::nchw_to_nhwc(gy) : gy;         // [N, OH', OW', F]
        Tensor dx, dk, db;
        if (needs[0]) dx = Tensor({g.N, g.OH, g.OW, IC});  // NHWC, the input's size
        if (needs[1]) dk = Tensor(kv.shape());             // [KH, KW, F, IC]
        if (dx.defined() || dk.defined()) {
          std::lock_guard lk(scratch->mu);
          // dL/dx is the forward conv of the output gradient.
          if (dx.defined() && bf16)
            ops::conv2d_forward_bf16(dy.data(), kv.data(), nullptr, g, 1, IC, dx.data(), scratch->workspace);
          else if (dx.defined())
            ops::conv2d_forward(dy.data(), kv.data(), nullptr, g, 1, IC, dx.data(), scratch->workspace);
          // dL/dK: the forward conv's kernel gradient with input dy and output gradient x.
          if (dk.defined() && bf16)
            ops::conv2d_backward_bf16(dy.data(), nullptr, xn.data(), g, 1, IC, nullptr, dk.data(), nullptr,
                                      scratch->workspace);
          else if (dk.defined())
            ops::conv2d_backward(dy.data(), nullptr, xn.data(), g, 1, IC, nullptr, dk.data(), nullptr,
                                 scratch->workspace);
        }
        if (has_bias && needs[2]) db = column_sums(dy, F);
        if (cf && dx.defined()) dx = ops::nhwc_to_nchw(dx);
        std::vector<Tensor> grads{dx, dk};
        if (has_bias) grads.push_back(db);
        return grads;
      });
}

}  // namespace

Variable conv2d_transpose_variable(const Variable& x, const Variable& kernel, const Variable* bias,
                                   const Conv2DTransposeCall& call, const std::shared_ptr<ConvScratch>& scratch) {
  return transpose_tape_entry(x, kernel, bias, call, scratch, /*bf16=*/false);
}

Variable conv2d_transpose_variable_bf16(const Variable& x, const Variable& kernel, const Variable* bias,
                                        const Conv2DTransposeCall& call, const std::shared_ptr<ConvScratch>& scratch) {
  return transpose_tape_entry(x, kernel, bias, call, scratch, /*bf16=*/true);
}

}  // namespace minidl
