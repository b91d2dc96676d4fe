// layers/normalization/batch_normalization.cpp — BatchNormalization: axes, weights, the call, moving averages, config.
#include "layers/normalization/batch_normalization.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "autograd/functions.h"
#include "layers/normalization/batch_norm_kernels.h"
#include "layers/base/config_utils.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/json_text.h"
#include "layers/base/registry.h"
#include "layers/reshaping/spatial_utils.h"
#include "ops/transpose.h"

namespace minidl {

BatchNormAxis BatchNormAxis::from_json(const json& j, const std::string& owner) {
  if (j.is_number_integer()) return BatchNormAxis(j.get<int>());
  if (j.is_array() && !j.empty()) {
    std::vector<int> axes;
    for (const auto& e : j) {
      if (!e.is_number_integer()) break;
      axes.push_back(e.get<int>());
    }
    if (axes.size() == j.size()) return BatchNormAxis(std::move(axes));
  }
  raise<ValueError>("{}: config key 'axis' should be an integer or a list of integers, received {}", owner,
                    json_preview(j));
}

BatchNormalizationImpl::BatchNormalizationImpl(BatchNormalizationOptions o)
    : Layer(common_options(o), "batch_normalization"),
      axis_given_(o.axis),
      momentum_(o.momentum),
      epsilon_(o.epsilon),
      gamma_beta_(o),
      moving_mean_init_(detail::initializer_or_default(o.moving_mean_initializer, "zeros")),
      moving_variance_init_(detail::initializer_or_default(o.moving_variance_initializer, "ones")) {
  if (axis_given_.axes().empty()) fail("`axis` must be an integer or a non-empty list of integers, received []");
  if (!std::isfinite(momentum_)) fail("`momentum` must be a finite number, received {}", momentum_);
  if (!(std::isfinite(epsilon_) && epsilon_ >= 0)) fail("`epsilon` must be >= 0, received {}", epsilon_);
  set_supports_masking(true);  // tf.keras 2 passes masks through (they do not affect the statistics)
}

std::vector<int> BatchNormalizationImpl::axis() const { return built() ? axes_ : axis_given_.axes(); }

std::vector<int> BatchNormalizationImpl::resolve_axes(const Shape& s) const {
  const int rank = static_cast<int>(s.size());
  if (built_rank_ >= 0 && rank != built_rank_)
    fail("expected input of rank {} (the rank it was built for), received shape {}", built_rank_, shape_str(s));
  std::vector<int> axes = axis_given_.axes();
  for (int& a : axes) {
    const int given = a;
    if (a < 0) a += rank;
    if (a < 0 || a >= rank) fail("Invalid axis: {} for input of shape {} (rank {})", given, shape_str(s), rank);
  }
  for (size_t i = 0; i < axes.size(); ++i)
    for (size_t j = i + 1; j < axes.size(); ++j)
      if (axes[i] == axes[j]) fail("Duplicate axis: {} in axis {}", axes[i], json_preview(axis_given_.to_json()));
  for (int a : axes)
    if (s[a] == kNone)
      fail("Input has undefined `axis` dimension. Received input with shape {}. Axis value: {}", shape_str(s),
           json_preview(axis_given_.to_json()));
  if (moving_mean_.defined()) {
    // Once built, the feature sizes are fixed by the weights.
    int64_t P = 1;
    for (int a : axes) P *= s[a];
    if (P != moving_mean_.value().numel())
      fail("input shape {} has {} features on axis {}, but the layer was built for {}", shape_str(s), P,
           json_preview(axis_given_.to_json()), moving_mean_.value().numel());
  }
  return axes;
}

std::vector<Shape> BatchNormalizationImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  resolve_axes(s);
  return {s};
}

void BatchNormalizationImpl::build(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  axes_ = resolve_axes(s);
  built_rank_ = static_cast<int>(s.size());
  Shape param;
  if (axes_.size() == 1) {
    param = {s[axes_[0]]};
  } else {  // Keras: the input rank with 1 on the axes not normalized
    param.assign(s.size(), 1);
    for (int a : axes_) param[a] = s[a];
  }
  if (gamma_beta_.scale()) gamma_ = gamma_beta_.add_gamma(*this, param);
  if (gamma_beta_.center()) beta_ = gamma_beta_.add_beta(*this, param);
  moving_mean_ = add_weight("moving_mean", param, moving_mean_init_, {}, false);
  moving_variance_ = add_weight("moving_variance", param, moving_variance_init_, {}, false);
  // add_weight marks trainable weights as needing gradients even when the
  // layer was constructed frozen; make the variables agree with the layer.
  if (!trainable()) set_trainable(false);
}

VariableList BatchNormalizationImpl::call(const std::vector<Variable>& inputs, const CallArgs& args) {
  const Variable& x = single_input(inputs);
  const Shape& s = x.shape();
  const int rank = static_cast<int>(s.size());
  // The layer is built by now, so its axes are axes_. A shape of the built
  // rank and feature count needs no further check (and no list of axes);
  // anything else goes through resolve_axes for its error message.
  bool matches = rank == built_rank_;
  int64_t features = 1;
  for (int a : axes_) features *= matches ? s[a] : 1;
  if (!matches || features != moving_mean_.value().numel()) resolve_axes(s);
  const std::vector<int>& axes = axes_;

  // Bring the normalized axes together (a no-op for one axis) and read x as [A, P, B].
  // The axes are distinct, so they are contiguous when they span exactly their count.
  const auto [lo_axis, hi_axis] = std::minmax_element(axes.begin(), axes.end());
  int lo = *lo_axis, hi = *hi_axis;
  const bool contiguous = hi - lo + 1 == static_cast<int>(axes.size());
  std::vector<int> perm;
  Variable xin = x;
  if (!contiguous) {
    std::vector<int> sorted = axes;
    std::sort(sorted.begin(), sorted.end());
    for (int d = 0; d < rank; ++d)
      if (!std::binary_search(sorted.begin(), sorted.end(), d)) perm.push_back(d);
    perm.insert(perm.end(), sorted.begin(), sorted.end());
    xin = autograd::permute(x, perm);  // [others..., axes...]
    lo = rank - static_cast<int>(axes.size());
    hi = rank - 1;
  }
  detail::BatchNormLayout layout;
  const Shape& xs = xin.shape();
  for (int d = 0; d < rank; ++d) {
    if (d < lo) layout.A *= xs[d];
    else if (d <= hi) layout.P *= xs[d];
    else layout.B *= xs[d];
  }

  // tf.keras 2 runs TensorFlow's fused kernel for 4-D input normalized on axis
  // 1 or 3: it clamps epsilon to cuDNN's minimum and returns the unbiased variance.
  const bool fused = rank == 4 && axes.size() == 1 && (axes[0] == 1 || axes[0] == 3);
  const float eps = detail::batch_norm_epsilon(epsilon_, rank, axes);

  Variable y;
  if (args.training && trainable()) {
    detail::BatchMoments m;
    y = detail::batch_norm_training(xin, gamma_, beta_, layout, eps, &m);
    const int64_t n = m.count;  // over every replica's rows in data-parallel training
    if (n > 0) {
      Tensor var = m.variance;
      if (fused) {
        // TensorFlow's rest_size / max(rest_size - 1, 1).
        const float bessel = static_cast<float>(n) / static_cast<float>(std::max<int64_t>(n - 1, 1));
        for (float& v : var.span()) v *= bessel;
      }
      if (!has_pending_updates()) pending_.clear();  // the earlier ones have run
      const uint64_t id = next_update_id_++;
      pending_.push_back({id, m.mean, var, false});
      add_update([this, id] { apply_moving_average(id); }, &x);
    }
  } else {
    y = detail::batch_norm_inference(xin, gamma_, beta_, moving_mean_.value(), moving_variance_.value(), layout,
                                     eps);
  }
  if (!contiguous) y = autograd::permute(y, ops::inverse_permutation(perm));
  return {y};
}

void BatchNormalizationImpl::apply_moving_average(uint64_t id) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [id](const PendingStatistics& p) { return p.id == id; });
  if (it == pending_.end() || it->applied) return;  // a stale copy of an update (see updates()) that already ran
  it->applied = true;
  // tf.keras _assign_moving_average: var -= (var - value) * (1 - momentum), in float32.
  const float decay = static_cast<float>(1.0 - momentum_);
  for (auto [w, stat] : {std::pair{&moving_mean_, &it->mean}, std::pair{&moving_variance_, &it->variance}}) {
    float* d = w->mutable_value().data();
    const float* v = stat->data();
    for (int64_t k = 0; k < stat->numel(); ++k) d[k] -= (d[k] - v[k]) * decay;
  }
}

json BatchNormalizationImpl::get_config() const {
  json c = base_config();
  c["axis"] = built() ? json(axes_) : axis_given_.to_json();
  c["momentum"] = momentum_;
  c["epsilon"] = epsilon_;
  gamma_beta_.write_config(c);
  c["moving_mean_initializer"] = serialize_initializer(moving_mean_init_);
  c["moving_variance_initializer"] = serialize_initializer(moving_variance_init_);
  return c;
}

std::shared_ptr<BatchNormalizationImpl> BatchNormalizationImpl::from_config(const json& c) {
  const std::string owner = detail::layer_owner(c, "BatchNormalization");
  ConfigReader r(c, owner);
  r.check_keys({"axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
                "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer", "gamma_regularizer",
                "beta_constraint", "gamma_constraint", "renorm", "renorm_clipping", "renorm_momentum",
                "virtual_batch_size", "adjustment", "fused", "synchronized"});
  MINIDL_CHECK(!r.boolean("renorm", false), ValueError, "{}: renorm=True (batch renormalization) is not supported",
               owner);
  MINIDL_CHECK(!r.has("virtual_batch_size"), ValueError, "{}: virtual_batch_size is not supported, received {}",
               owner, c.contains("virtual_batch_size") ? json_preview(c["virtual_batch_size"]) : "");
  BatchNormalizationOptions o;
  detail::set_common_options(o, detail::naming_owner(owner, [&] { return common_options_from_config(r); }));
  if (r.has("axis")) o.axis = BatchNormAxis::from_json(r.raw("axis"), owner);
  o.momentum = r.number("momentum", 0.99);
  o.epsilon = r.number("epsilon", 1e-3);
  // The parts' own errors do not say which layer asked; naming_owner prefixes them.
  return detail::naming_owner(owner, [&] {
    detail::GammaBeta::read_config(r, o);
    if (r.has("moving_mean_initializer")) o.moving_mean_initializer = get_initializer(r.raw("moving_mean_initializer"));
    if (r.has("moving_variance_initializer"))
      o.moving_variance_initializer = get_initializer(r.raw("moving_variance_initializer"));
    return std::make_shared<BatchNormalizationImpl>(std::move(o));
  });
}

MINIDL_REGISTER_LAYER("BatchNormalization",
                      [](const json& c) -> LayerPtr { return BatchNormalizationImpl::from_config(c); });

json BatchNormAxis::to_json() const { return is_list_ ? json(axes_) : json(axes_.at(0)); }

}  // namespace minidl
