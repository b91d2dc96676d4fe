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
#include <atomic>
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

  // Safe from several threads at once (predict runs sub-batches in parallel,
  // train/predict_subbatch.h): the shape check and the refold happen under the
  // step's lock, and each concurrent call computes in a workspace of its own.
  Variable run(const Variable& x) override {
    LaneLease lane(*this);
    {
      std::lock_guard lk(mu_);
      if (x.shape() != checked_shape_) {
        conv_->compute_output_shape({x.shape()});  // the conv's own input errors
        checked_shape_ = x.shape();
      }
      if (mean_.defined()) refold();
    }
    const bool cf = conv_->data_format() == "channels_first";
    const Tensor xn = cf ? ops::nchw_to_nhwc(x.value()) : x.value();  // [N, H, W, C]
    const Tensor& k = kernel_.value();
    const int64_t OC = out_channels();
    const ops::Conv2DGeometry g = ops::make_conv_geometry(
        xn.dim(0), xn.dim(1), xn.dim(2), xn.dim(3), k.dim(0), k.dim(1), conv_->strides().first,
        conv_->strides().second, conv_->dilation_rate().first, conv_->dilation_rate().second,
        conv_->padding() == "same");
    Tensor y = Tensor::empty({g.N, g.OH, g.OW, OC});  // [N, OH, OW, OC], fully written by conv2d_forward
    const Variable& kernel = mean_.defined() ? folded_kernel_ : kernel_;
    const float* bias = mean_.defined() ? folded_bias_.data() : bias_.defined() ? bias_.value().data() : nullptr;
    // The bias and max(., 0) go into the convolution's own output pass; a
    // clamp to [0, hi] adds one sweep of min(., hi) over the contiguous output.
    ops::conv2d_forward(xn.data(), kernel.value().data(), bias, g, groups_, OC, y.data(), lane.workspace(), clamp_.on,
                        weight_version(kernel));
    if (clamp_.on && !clamp_.plain_relu()) clamp_above(y.data(), y.numel(), clamp_.hi);
    return Variable(cf ? ops::nhwc_to_nchw(y) : y);
  }

 private:
  // OC: a Conv2D kernel's last axis; C * DM for a depthwise kernel [KH, KW, C, DM].
  int64_t out_channels() const {
    const Shape& k = kernel_.shape();
    return depthwise_ ? k[2] * k[3] : k[3];
  }

  // y[i] = min(y[i], hi) over n floats.
  static void clamp_above(float* y, int64_t n, float hi) {
    parallel_for(
        n,
        [&](int64_t i0, int64_t i1) {
          for (int64_t i = i0; i < i1; ++i) y[i] = std::min(y[i], hi);
        },
        ops::kElementwiseGrain);
  }

  // A workspace held by one call. Each thread that runs steps has a number,
  // and takes the workspace of that number in every step: a workspace grows to
  // what its thread's calls need once, whatever the order in which threads
  // arrive, so a steady state allocates nothing. Another free one (or a new one)
  // serves a thread whose own is in use.
  struct Lane {
    ConvScratch scratch;  // its own lock is not needed: `busy` gives the lane to one call
    bool busy = false;
  };
  class LaneLease {
   public:
    explicit LaneLease(FoldedConvolution& step) : step_(step) {
      static std::atomic<size_t> threads_seen{0};
      thread_local const size_t mine = threads_seen++;
      std::lock_guard lk(step_.mu_);
      auto& lanes = step_.lanes_;
      while (lanes.size() <= mine) lanes.push_back(std::make_unique<Lane>());
      lane_ = lanes[mine].get();
      if (lane_->busy) {
        lane_ = nullptr;
        for (auto& l : lanes)
          if (!l->busy) {
            lane_ = l.get();
            break;
          }
        if (!lane_) lane_ = lanes.emplace_back(std::make_unique<Lane>()).get();
      }
      lane_->busy = true;
    }
    ~LaneLease() {
      std::lock_guard lk(step_.mu_);
      lane_->busy = false;
    }
    LaneLease(const LaneLease&) = delete;
    LaneLease& operator=(const LaneLease&) = delete;
    ops::Conv2DWorkspace& workspace() const { return lane_->scratch.workspace; }

   private:
    FoldedConvolution& step_;
    Lane* lane_ = nullptr;
  };

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
  std::mutex mu_;  // guards checked_shape_, the refold and the lanes' busy flags
  // The im2col buffers and Winograd transforms of the folded kernel, one per thread.
  std::vector<std::unique_ptr<Lane>> lanes_;
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
