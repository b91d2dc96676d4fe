// layers/conv/conv2d_function.cpp — the Conv2D tape entry: forward through ops::conv2d_forward,
// backward through ops::conv2d_backward, for conv2d_variable; through ops/conv2d_bf16.h's
// bfloat16 kernels for conv2d_variable_bf16.
#include "layers/conv/conv2d_function.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "autograd/variable_version.h"
#include "core/errors.h"
#include "core/threads.h"
#include "layers/conv/conv2d_bf16_function.h"
#include "ops/conv2d_bf16.h"
#include "ops/im2col.h"
#include "ops/transpose.h"

namespace minidl {
namespace {

// Both entries; bf16 selects the bfloat16 kernels.
Variable conv2d_tape_entry(const Variable& x, const Variable& kernel, const Variable* bias, const Conv2DCall& call,
                           const std::shared_ptr<ConvScratch>& scratch, bool bf16) {
  MINIDL_CHECK(scratch != nullptr, ValueError, "conv2d: scratch must not be null");
  const Tensor& kv = kernel.value();
  MINIDL_CHECK(x.rank() == 4 && kv.rank() == 4, ValueError,
               "conv2d: expected a rank-4 input and a rank-4 kernel, received shapes {} and {}", shape_str(x.shape()),
               shape_str(kv.shape()));
  const bool cf = call.channels_first;
  // The kernels compute in NHWC only; channels_first pays one transpose each way.
  const Tensor xn = cf ? ops::nchw_to_nhwc(x.value()) : x.value();  // [N, H, W, C]
  const int64_t N = xn.dim(0), H = xn.dim(1), W = xn.dim(2), C = xn.dim(3);
  const int64_t G = call.groups, OC = kv.dim(3);
  // ops reads the kernel through a pointer, so its shape is checked here.
  MINIDL_CHECK(G >= 1 && kv.dim(2) * G == C, ValueError,
               "conv2d: kernel {} with groups={} does not match an input with {} channels (input shape {})",
               shape_str(kv.shape()), G, C, shape_str(x.shape()));
  MINIDL_CHECK(bias == nullptr || bias->shape() == Shape{OC}, ValueError,
               "conv2d: expected a bias of shape ({},), received {}", OC,
               bias ? shape_str(bias->shape()) : std::string("none"));
  const ops::Conv2DGeometry g =
      ops::make_conv_geometry(N, H, W, C, kv.dim(0), kv.dim(1), call.strides.first, call.strides.second,
                              call.dilation_rate.first, call.dilation_rate.second, call.same_padding);

  Tensor y({N, g.OH, g.OW, OC});  // [N, OH, OW, OC]
  {
    std::lock_guard lk(scratch->mu);
    // The kernel's version lets a Winograd forward reuse its kernel transform
    // while the weights are unchanged (autograd/variable_version.h).
    const float* b = bias ? bias->value().data() : nullptr;
    if (bf16)
      ops::conv2d_forward_bf16(xn.data(), kv.data(), b, g, G, OC, y.data(), scratch->workspace, call.fuse_relu);
    else
      ops::conv2d_forward(xn.data(), kv.data(), b, g, G, OC, y.data(), scratch->workspace, call.fuse_relu,
                          weight_version(kernel));
  }
  Tensor out = cf ? ops::nhwc_to_nchw(y) : y;  // the caller's layout

  const Variable inputs[] = {x, kernel, bias ? *bias : Variable()};
  const bool has_bias = bias != nullptr, relu = call.fuse_relu;
  // The NHWC output is captured only for the fused relu's gradient mask.
  Tensor y_saved = relu ? y : Tensor();
  return make_result(
      std::move(out), std::span<const Variable>(inputs, has_bias ? 3 : 2), "conv2d",
      [xn, kv, y_saved, g, G, OC, cf, relu, has_bias, scratch, bf16](const Tensor& grad,
                                                                     const std::vector<bool>& needs) -> Grads {
        const Tensor dy = cf ? ops::nchw_to_nhwc(grad) : grad;  // [N, OH, OW, OC], before the relu mask
        Tensor dx, dk, db;
        if (needs[0]) dx = Tensor({g.N, g.H, g.W, g.C});     // NHWC
        if (needs[1]) dk = Tensor(kv.shape());               // [KH, KW, C/G, OC]
        if (has_bias && needs[2]) db = Tensor({OC});
        if (dx.defined() || dk.defined() || db.defined()) {
          std::lock_guard lk(scratch->mu);
          float* dxp = dx.defined() ? dx.data() : nullptr;
          float* dkp = dk.defined() ? dk.data() : nullptr;
          float* dbp = db.defined() ? db.data() : nullptr;
          const float* mask = relu ? y_saved.data() : nullptr;
          if (bf16)
            ops::conv2d_backward_bf16(xn.data(), kv.data(), dy.data(), g, G, OC, dxp, dkp, dbp, scratch->workspace,
                                      mask);
          else
            ops::conv2d_backward(xn.data(), kv.data(), dy.data(), g, G, OC, dxp, dkp, dbp, scratch->workspace, mask);
        }
        if (cf && dx.defined()) dx = ops::nhwc_to_nchw(dx);
        Grads grads{dx, dk};
        if (has_bias) grads.push_back(db);
        return grads;
      });
}

}  // namespace

Variable conv2d_variable(const Variable& x, const Variable& kernel, const Variable* bias, const Conv2DCall& call,
                         const std::shared_ptr<ConvScratch>& scratch) {
  return conv2d_tape_entry(x, kernel, bias, call, scratch, /*bf16=*/false);
}

Variable conv2d_variable_bf16(const Variable& x, const Variable& kernel, const Variable* bias, const Conv2DCall& call,
                              const std::shared_ptr<ConvScratch>& scratch) {
  return conv2d_tape_entry(x, kernel, bias, call, scratch, /*bf16=*/true);
}

}  // namespace minidl
