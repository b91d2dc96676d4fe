// layers/conv/conv_inference.cpp — the inference fusion rule of the convolutions: a Conv2D or
// DepthwiseConv2D, the BatchNormalization folded into its weights, and a ReLU-family activation
// applied in its output pass (layers/base/inference_plan.h runs it).
//
// A chain [conv, BatchNormalization?, activation?] is computed as
//   y = act(conv(x, k') + b'),  k' = k * s,  b' = (b - mean) * s + beta,  s = gamma / sqrt(var + eps)
// per output channel (the BatchNormalization's inference formula moved into the
// convolution), with act one of identity, relu, or a clamp to [0, max] (relu6,
// ReLU(max_value)). It applies when
//   - the conv is a Conv2D (groups allowed) or a DepthwiseConv2D, without an
//     activity regularizer; its own activation is linear when a
//     BatchNormalization follows, else linear, relu or relu6;
//   - the BatchNormalization normalizes the conv's channel axis alone (axis 3
//     for channels_last, 1 for channels_first), without an activity regularizer;
//   - the activation is a ReLU layer without negative_slope or threshold, or an
//     Activation layer of relu, relu6 or linear;
// and, from the plan: inference (training false), no tape, the chain's inner
// outputs read by nobody else. A chain of the conv alone is fused only when its
// activation is relu6 (relu is already fused into the conv's own pass).
//
// The folded k' and b' are kept and rebuilt when the version
// (autograd/variable_version.h) of any of the kernel, bias, gamma, beta,
// moving_mean or moving_variance changes: set_weights, an optimizer step, a
// training call's moving-average update and weight loading all give new versions.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "autograd/variable_version.h"
#include "core/threads.h"
#include "layers/activations/activation_layers.h"
#include "layers/base/inference_plan.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/normalization/batch_norm_kernels.h"
#include "layers/normalization/batch_normalization.h"
#include "ops/parallel_grain.h"
#include "ops/transpose.h"

namespace minidl {

namespace {

// The activation of the output pass: max(lo, min(v, hi)) with lo = 0, or none.
struct Clamp {
  bool on = false;
  float hi = std::numeric_limits<float>::infinity();
  bool plain_relu() const { return on && std::isinf(hi); }
};

// The clamp an activation function applies, if it is one.
std::optional<Clamp> clamp_of(const Activation& a) {
  if (a.name() == "linear") return Clamp{};
  if (a.name() == "relu") return Clamp{true};
  if (a.name() == "relu6") return Clamp{true, 6.f};
  return std::nullopt;
}

// The clamp an activation layer applies, if it is one.
std::optional<Clamp> clamp_of_layer(const Layer* l) {
  if (l->activity_regularizer()) return std::nullopt;
  if (const auto* relu = dynamic_cast<const ReLUImpl*>(l)) {
    if (relu->class_name() != "ReLU" || relu->negative_slope() != 0.f || relu->threshold() != 0.f) return std::nullopt;
    return Clamp{true, relu->max_value().value_or(std::numeric_limits<float>::infinity())};
  }
  if (const auto* act = dynamic_cast<const ActivationLayerImpl*>(l); act && act->class_name() == "Activation")
    return clamp_of(*act->activation());
  return std::nullopt;
}

class FoldedConvolution : public FusedInference {
 public:
  FoldedConvolution(ConvBase* conv, const Variable& kernel, int64_t groups, const BatchNormalizationImpl* bn,
                    Clamp clamp)
      : conv_(conv), kernel_(kernel), groups_(groups), depthwise_(conv->class_name() == "DepthwiseConv2D"), clamp_(clamp) {
    if (conv->use_bias()) bias_ = conv->bias();
    if (bn) {
      const std::vector<Variable> w = bn->weights();  // gamma?, beta?, moving_mean, moving_variance
      size_t i = 0;
      if (bn->scale()) gamma_ = w[i++];
      if (bn->center()) beta_ = w[i++];
      mean_ = w[i++];
      variance_ = w[i++];
      epsilon_ = detail::batch_norm_epsilon(bn->epsilon(), 4, bn->axis());
      folded_kernel_ = Variable(Tensor(kernel.shape()));
      folded_bias_ = Tensor({out_channels()});
    }
  }

  // Holds the step's scratch lock throughout: one model may be run from several threads.
  Variable run(const Variable& x) override {
    std::lock_guard lk(scratch_.mu);
    if (x.shape() != checked_shape_) {
      conv_->compute_output_shape({x.shape()});  // the conv's own input errors
      checked_shape_ = x.shape();
    }
    const bool cf = conv_->data_format() == "channels_first";
    const Tensor xn = cf ? ops::nchw_to_nhwc(x.value()) : x.value();  // [N, H, W, C]
    const Tensor& k = kernel_.value();
    const int64_t OC = out_channels();
    const ops::Conv2DGeometry g = ops::make_conv_geometry(
        xn.dim(0), xn.dim(1), xn.dim(2), xn.dim(3), k.dim(0), k.dim(1), conv_->strides().first,
        conv_->strides().second, conv_->dilation_rate().first, conv_->dilation_rate().second,
        conv_->padding() == "same");
    Tensor y({g.N, g.OH, g.OW, OC});  // [N, OH, OW, OC]
    if (mean_.defined()) refold();
    const Variable& kernel = mean_.defined() ? folded_kernel_ : kernel_;
    const float* bias = mean_.defined() ? folded_bias_.data() : bias_.defined() ? bias_.value().data() : nullptr;
    // relu goes into the convolution's own output pass; a clamp to [0, hi]
    // takes the bias with it into one sweep after the convolution.
    const bool clamp_after = clamp_.on && !clamp_.plain_relu();
    ops::conv2d_forward(xn.data(), kernel.value().data(), clamp_after ? nullptr : bias, g, groups_, OC, y.data(),
                        scratch_.workspace, clamp_.plain_relu(), weight_version(kernel));
    if (clamp_after) bias_and_clamp(y.data(), g.N * g.OH * g.OW, OC, bias, clamp_.hi);
    return Variable(cf ? ops::nhwc_to_nchw(y) : y);
  }

 private:
  // OC: a Conv2D kernel's last axis; C * DM for a depthwise kernel [KH, KW, C, DM].
  int64_t out_channels() const {
    const Shape& k = kernel_.shape();
    return depthwise_ ? k[2] * k[3] : k[3];
  }

  // y[r, c] = min(max(y[r, c] + bias[c], 0), hi) over [rows, OC]; bias may be null.
  static void bias_and_clamp(float* y, int64_t rows, int64_t OC, const float* bias, float hi) {
    parallel_for(
        rows,
        [&](int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) {
            float* row = y + r * OC;
            if (bias) {
              for (int64_t c = 0; c < OC; ++c) row[c] = std::min(std::max(row[c] + bias[c], 0.f), hi);
            } else {
              for (int64_t c = 0; c < OC; ++c) row[c] = std::min(std::max(row[c], 0.f), hi);
            }
          }
        },
        ops::grain(ops::Cost::kMemory, OC));
  }

  // Recomputes k' and b' when a source weight has a new version.
  void refold() {
    const uint64_t now[6] = {weight_version(kernel_),
                             bias_.defined() ? weight_version(bias_) : 0,
                             gamma_.defined() ? weight_version(gamma_) : 0,
                             beta_.defined() ? weight_version(beta_) : 0,
                             weight_version(mean_),
                             weight_version(variance_)};
    bool same = true;
    for (int i = 0; i < 6; ++i) same = same && now[i] == versions_[i];
    if (same) return;
    const int64_t OC = out_channels();
    const float* gamma = gamma_.defined() ? gamma_.value().data() : nullptr;
    const float* beta = beta_.defined() ? beta_.value().data() : nullptr;
    const float* bias = bias_.defined() ? bias_.value().data() : nullptr;
    const float* mean = mean_.value().data();
    const float* var = variance_.value().data();
    std::vector<double> s(static_cast<size_t>(OC));
    float* fb = folded_bias_.data();
    for (int64_t c = 0; c < OC; ++c) {
      // As BatchNormalization's inference: a = gamma / sqrt(var + eps), y = x * a + (beta - mean * a).
      s[c] = (gamma ? gamma[c] : 1.0) / std::sqrt(static_cast<double>(var[c]) + static_cast<double>(epsilon_));
      fb[c] = static_cast<float>(((bias ? bias[c] : 0.0) - mean[c]) * s[c] + (beta ? beta[c] : 0.0));
    }
    // The kernel's last axis is the output channel: [KH, KW, C/G, OC], and a
    // depthwise [KH, KW, C, DM] is [KH, KW, 1, C*DM] in memory.
    const Tensor& k = kernel_.value();
    float* fk = folded_kernel_.mutable_value().data();  // a new version: the Winograd cache sees it
    const float* kd = k.data();
    for (int64_t i = 0; i < k.numel(); ++i) fk[i] = static_cast<float>(kd[i] * s[i % OC]);
    for (int i = 0; i < 6; ++i) versions_[i] = now[i];
  }

  ConvBase* conv_;
  Variable kernel_, bias_;
  int64_t groups_;
  bool depthwise_;
  Clamp clamp_;
  Variable gamma_, beta_, mean_, variance_;  // undefined without a BatchNormalization (or without gamma/beta)
  float epsilon_ = 0.f;
  Variable folded_kernel_;
  Tensor folded_bias_;
  uint64_t versions_[6] = {0, 0, 0, 0, 0, 0};
  Shape checked_shape_;
  ConvScratch scratch_;  // the im2col buffer and Winograd transform of the folded kernel, and the step's lock
};

std::unique_ptr<FusedInference> fuse_convolution(const std::vector<Layer*>& chain, size_t* taken) {
  auto* conv = dynamic_cast<ConvBase*>(chain[0]);
  if (!conv || conv->activity_regularizer()) return nullptr;
  // Under mixed_bfloat16 each layer rounds its inputs and outputs (Layer's
  // call does it); a fused step would skip those roundings. A chain is at
  // most conv, BatchNormalization, activation.
  for (size_t i = 0; i < chain.size() && i < 3; ++i)
    if (chain[i]->computes_in_bfloat16()) return nullptr;
  Variable kernel;
  int64_t groups = 1;
  if (auto* c = dynamic_cast<Conv2DImpl*>(conv); c && c->class_name() == "Conv2D") {
    kernel = c->kernel();
    groups = c->groups();
  } else if (auto* d = dynamic_cast<DepthwiseConv2DImpl*>(conv); d && d->class_name() == "DepthwiseConv2D") {
    kernel = d->depthwise_kernel();
    groups = kernel.shape()[2];
  } else {
    return nullptr;
  }
  const std::optional<Clamp> own = clamp_of(*conv->activation());
  if (!own) return nullptr;
  size_t next = 1;
  const BatchNormalizationImpl* bn = nullptr;
  if (!own->on && next < chain.size()) {
    const auto* b = dynamic_cast<const BatchNormalizationImpl*>(chain[next]);
    const int channel_axis = conv->data_format() == "channels_first" ? 1 : 3;
    if (b && b->class_name() == "BatchNormalization" && !b->activity_regularizer() &&
        b->axis() == std::vector<int>{channel_axis}) {
      bn = b;
      ++next;
    }
  }
  Clamp clamp = *own;
  if (!clamp.on && next < chain.size())
    if (const std::optional<Clamp> after = clamp_of_layer(chain[next])) {
      clamp = *after;
      ++next;
    }
  // The conv alone with relu or no activation is what its own call computes.
  if (next == 1 && (!clamp.on || clamp.plain_relu())) return nullptr;
  *taken = next;
  return std::make_unique<FoldedConvolution>(conv, kernel, groups, bn, clamp);
}

const bool registered = register_inference_fusion_rule(fuse_convolution);

}  // namespace

}  // namespace minidl
