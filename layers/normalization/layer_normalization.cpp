// layers/normalization/layer_normalization.cpp — LayerNormalization: axes, weights, config, and the call.
#include "layers/normalization/layer_normalization.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "autograd/functions_norm.h"
#include "layers/base/config_utils.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"
#include "ops/transpose.h"

namespace minidl {

LayerNormalizationImpl::LayerNormalizationImpl(LayerNormalizationOptions o)
    : Layer(common_options(o), "layer_normalization"),
      axis_given_(o.axis),
      epsilon_(o.epsilon),
      rms_scaling_(o.rms_scaling),
      gamma_beta_(o) {
  if (axis_given_.axes().empty()) fail("`axis` must be an integer or a non-empty list of integers, received []");
  if (!(std::isfinite(epsilon_) && epsilon_ >= 0)) fail("`epsilon` must be >= 0, received {}", epsilon_);
  set_supports_masking(true);  // Keras: the mask passes through unchanged
}

std::vector<int> LayerNormalizationImpl::axis() const { return built() ? axes_ : axis_given_.axes(); }

std::string LayerNormalizationImpl::axis_text() const {
  const std::vector<int>& a = axis_given_.axes();
  if (!axis_given_.is_list()) return std::to_string(a.at(0));
  std::string s = "[";
  for (size_t i = 0; i < a.size(); ++i) s += (i ? ", " : "") + std::to_string(a[i]);
  return s + "]";
}

std::vector<int> LayerNormalizationImpl::resolve_axes(const Shape& s) const {
  const int rank = static_cast<int>(s.size());
  if (built_rank_ >= 0 && rank != built_rank_)
    fail("expected input of rank {} (the rank it was built for), received shape {}", built_rank_, shape_str(s));
  std::vector<int> axes = axis_given_.axes();
  for (int& a : axes) {
    if (a >= rank || a < -rank)
      fail("Axis {} is out of bounds for input shape {}. Received: axis={}", a, shape_str(s), axis_text());
    if (a < 0) a += rank;
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    fail("Duplicate axes are not allowed. Received: axis={}", axis_text());
  for (int a : axes)
    if (s[a] == kNone)
      fail("the normalized axes must have a defined size, received input of shape {} with axis={}", shape_str(s),
           axis_text());
  if (built_rank_ >= 0) {
    // Once built, the normalized sizes are fixed by the weights.
    for (size_t i = 0; i < axes.size(); ++i)
      if (s[axes[i]] != param_shape_[i])
        fail("input shape {} has size {} on axis {}, but the layer was built for {}", shape_str(s), s[axes[i]],
             axes[i], param_shape_[i]);
  }
  return axes;
}

std::vector<Shape> LayerNormalizationImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  resolve_axes(s);
  return {s};
}

void LayerNormalizationImpl::build(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  axes_ = resolve_axes(s);
  param_shape_.clear();
  for (int a : axes_) param_shape_.push_back(s[a]);  // Keras: (d_a for a in the sorted axes)
  built_rank_ = static_cast<int>(s.size());
  if (gamma_beta_.scale() || rms_scaling_) gamma_ = gamma_beta_.add_gamma(*this, param_shape_);
  if (gamma_beta_.center() && !rms_scaling_) beta_ = gamma_beta_.add_beta(*this, param_shape_);
  // add_weight marks trainable weights as needing gradients even when the
  // layer was constructed frozen; make the variables agree with the layer.
  if (!trainable()) set_trainable(false);
}

VariableList LayerNormalizationImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const Shape& s = x.shape();
  const int rank = static_cast<int>(s.size());
  // A shape of the built rank and sizes needs no further check (and no list of
  // axes); anything else goes through resolve_axes for its error message.
  bool matches = rank == built_rank_;
  for (size_t i = 0; matches && i < axes_.size(); ++i) matches = s[axes_[i]] == param_shape_[i];
  if (!matches) resolve_axes(s);

  int64_t features = 1;
  for (int64_t d : param_shape_) features *= d;
  const float eps = static_cast<float>(epsilon_);
  // The usual case: the normalized axes are the trailing ones, so each example's
  // entries are contiguous rows. Otherwise they are brought last (in sorted
  // order, which is gamma's layout), normalized, and put back.
  const int k = static_cast<int>(axes_.size());
  const bool trailing = axes_.front() == rank - k && axes_.back() == rank - 1;
  if (trailing) return {autograd::layer_norm(x, gamma_, beta_, features, eps, rms_scaling_)};
  std::vector<int> perm;
  for (int d = 0; d < rank; ++d)
    if (!std::binary_search(axes_.begin(), axes_.end(), d)) perm.push_back(d);
  perm.insert(perm.end(), axes_.begin(), axes_.end());
  const Variable xt = autograd::permute(x, perm);  // [others..., axes...]
  const Variable yt = autograd::layer_norm(xt, gamma_, beta_, features, eps, rms_scaling_);
  return {autograd::permute(yt, ops::inverse_permutation(perm))};
}

json LayerNormalizationImpl::get_config() const {
  json c = base_config();
  c["axis"] = built() ? json(axis()) : axis_given_.to_json();
  c["epsilon"] = epsilon_;
  // tf.keras 2 rejects the keyword it does not know, and Keras 3 reads its absence as false.
  if (rms_scaling_) c["rms_scaling"] = true;
  gamma_beta_.write_config(c);
  return c;
}

std::shared_ptr<LayerNormalizationImpl> LayerNormalizationImpl::from_config(const json& c) {
  const std::string owner = "LayerNormalization";
  ConfigReader r(c, owner);
  r.check_keys({"axis", "epsilon", "center", "scale", "rms_scaling", "beta_initializer", "gamma_initializer",
                "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"});
  LayerNormalizationOptions o;
  const LayerOptions common = common_options_from_config(r);
  detail::set_common_options(o, common);
  if (r.has("axis")) o.axis = LayerNormAxis::from_json(r.raw("axis"), owner);
  o.epsilon = r.number("epsilon", 1e-3);
  o.rms_scaling = r.boolean("rms_scaling", false);
  detail::GammaBeta::read_config(r, o);
  return detail::with_activity_regularizer(std::make_shared<LayerNormalizationImpl>(std::move(o)), common);
}

MINIDL_REGISTER_LAYER("LayerNormalization",
                      [](const json& c) -> LayerPtr { return LayerNormalizationImpl::from_config(c); });

}  // namespace minidl
