// layers/normalization/layer_normalization.cpp — LayerNormalization: axes, weights, config, and the call.
#include "layers/normalization/layer_normalization.h"

#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "autograd/functions_norm.h"
#include "layers/base/config_utils.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"
#include "ops/transpose.h"

namespace minidl {

namespace {

template <class T>
std::shared_ptr<T> or_default(std::shared_ptr<T> p, std::shared_ptr<T> fallback) {
  return p ? p : fallback;
}

}  // namespace

LayerNormalizationImpl::LayerNormalizationImpl(LayerNormalizationOptions o)
    : Layer(common_options(o), "layer_normalization"),
      axis_given_(o.axis),
      epsilon_(o.epsilon),
      center_(o.center),
      scale_(o.scale),
      rms_scaling_(o.rms_scaling),
      // A null initializer (e.g. from a config) means the Keras default.
      beta_init_(or_default(o.beta_initializer.resolve(), get_initializer("zeros"))),
      gamma_init_(or_default(o.gamma_initializer.resolve(), get_initializer("ones"))),
      beta_reg_(o.beta_regularizer.resolve()),
      gamma_reg_(o.gamma_regularizer.resolve()),
      beta_constraint_(o.beta_constraint.resolve()),
      gamma_constraint_(o.gamma_constraint.resolve()) {
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
  if (scale_ || rms_scaling_)
    gamma_ = add_weight("gamma", param_shape_, gamma_init_, gamma_reg_, true, gamma_constraint_);
  if (center_ && !rms_scaling_)
    beta_ = add_weight("beta", param_shape_, beta_init_, beta_reg_, true, beta_constraint_);
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
  c["center"] = center_;
  c["scale"] = scale_;
  // tf.keras 2 rejects the keyword it does not know, and Keras 3 reads its absence as false.
  if (rms_scaling_) c["rms_scaling"] = true;
  c["beta_initializer"] = serialize_initializer(beta_init_);
  c["gamma_initializer"] = serialize_initializer(gamma_init_);
  c["beta_regularizer"] = serialize_regularizer(beta_reg_);
  c["gamma_regularizer"] = serialize_regularizer(gamma_reg_);
  c["beta_constraint"] = serialize_constraint(beta_constraint_);
  c["gamma_constraint"] = serialize_constraint(gamma_constraint_);
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
  o.center = r.boolean("center", true);
  o.scale = r.boolean("scale", true);
  o.rms_scaling = r.boolean("rms_scaling", false);
  auto init = [&](const char* key, const char* fallback) -> InitializerArg {
    return c.contains(key) ? InitializerArg(get_initializer(c[key])) : InitializerArg(fallback);
  };
  o.beta_initializer = init("beta_initializer", "zeros");
  o.gamma_initializer = init("gamma_initializer", "ones");
  if (r.has("beta_regularizer")) o.beta_regularizer = get_regularizer(r.raw("beta_regularizer"));
  if (r.has("gamma_regularizer")) o.gamma_regularizer = get_regularizer(r.raw("gamma_regularizer"));
  if (r.has("beta_constraint")) o.beta_constraint = get_constraint(r.raw("beta_constraint"));
  if (r.has("gamma_constraint")) o.gamma_constraint = get_constraint(r.raw("gamma_constraint"));
  return detail::with_activity_regularizer(std::make_shared<LayerNormalizationImpl>(std::move(o)), common);
}

MINIDL_REGISTER_LAYER("LayerNormalization",
                      [](const json& c) -> LayerPtr { return LayerNormalizationImpl::from_config(c); });

}  // namespace minidl
