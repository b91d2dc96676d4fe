// layers/activations/prelu.cpp — PReLU, declared in layers/activations/advanced_activations.h.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>
#include <vector>

#include "core/threads.h"
#include "layers/activations/advanced_activations.h"
#include "layers/conv/conv_layer_internal.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"
#include "ops/parallel_grain.h"

namespace minidl {

namespace {

// How a PReLU input [N, d1, ..., dk] walks alpha [a1, ..., ak] (aj = dj or 1):
// the input is `rows` rows of `inner` = dk elements; row r of a sample starts
// at alpha offset row_offset[r % rows_per_sample] and steps by inner_stride.
struct AlphaWalk {
  int64_t rows = 0, inner = 1, inner_stride = 0;
  std::vector<int64_t> row_offset;  // per row of one sample

  // Where row r's alpha values start.
  int64_t alpha_offset(int64_t r) const {
    return row_offset[static_cast<size_t>(r % static_cast<int64_t>(row_offset.size()))];
  }

  // f(r, a) for every row r, split over threads; a points at row r's alpha values.
  template <class F>
  void parallel_rows(const float* alpha, F f) const {
    ops::for_each_item(rows, ops::Cost::kMemory, inner, [&](int64_t r) { f(r, alpha + alpha_offset(r)); });
  }
};

AlphaWalk make_walk(const Shape& x, const Shape& alpha) {
  AlphaWalk w;
  const int k = static_cast<int>(alpha.size());  // x.size() == k + 1, k >= 1
  w.inner = x[k];
  w.inner_stride = alpha[k - 1] == 1 ? 0 : 1;
  const std::vector<int64_t> astr = strides_of(alpha);
  int64_t per_sample = 1;
  for (int j = 1; j < k; ++j) per_sample *= x[j];
  w.row_offset.assign(static_cast<size_t>(per_sample), 0);
  // Odometer over the sample's leading axes (x axes 1..k-1 = alpha axes 0..k-2).
  std::vector<int64_t> idx(static_cast<size_t>(std::max(k - 1, 0)), 0);
  for (int64_t r = 0; r < per_sample; ++r) {
    int64_t off = 0;
    for (int j = 0; j + 1 < k; ++j) off += alpha[j] == 1 ? 0 : idx[j] * astr[j];
    w.row_offset[static_cast<size_t>(r)] = off;
    for (int j = k - 2; j >= 0; --j) {
      if (++idx[j] < x[j + 1]) break;
      idx[j] = 0;
    }
  }
  w.rows = per_sample == 0 ? 0 : x[0] * per_sample;
  return w;
}

}  // namespace

PReLUImpl::PReLUImpl(PReLUOptions o) : Layer(common_options(o), "p_re_lu"), shared_axes_(std::move(o.shared_axes)) {
  for (size_t i = 0; i < shared_axes_.size(); ++i) {
    if (shared_axes_[i] < 1)
      fail("shared_axes are 1-based axes of the input (the batch axis 0 cannot be shared), received {}",
           shared_axes_[i]);
    for (size_t j = 0; j < i; ++j)
      if (shared_axes_[j] == shared_axes_[i]) fail("shared_axes repeats axis {}", shared_axes_[i]);
  }
  const std::string who = fmt::format("PReLU '{}'", name());
  alpha_initializer_ = detail::resolve_initializer(o.alpha_initializer, who);
  alpha_regularizer_ = detail::resolve_regularizer(o.alpha_regularizer, who);
  alpha_constraint_ = detail::resolve_constraint(o.alpha_constraint, who);
  set_supports_masking(true);
}

const Variable& PReLUImpl::alpha() const {
  MINIDL_CHECK(alpha_.defined(), RuntimeError, "PReLU '{}' has no alpha yet: it is built on its first call", name());
  return alpha_;
}

void PReLUImpl::check_shape(const Shape& s) const {
  if (s.size() < 2) fail("expected an input of rank >= 2 (batch, ...), received shape {}", shape_str(s));
  for (int64_t a : shared_axes_)
    if (a >= static_cast<int64_t>(s.size()))
      fail("shared axis {} is out of range for an input of rank {} (shape {})", a, s.size(), shape_str(s));
  if (!alpha_.defined()) return;
  const Shape& as = alpha_.shape();
  if (as.size() + 1 != s.size())
    fail("expected an input of rank {}, received shape {}", as.size() + 1, shape_str(s));
  for (size_t j = 1; j < s.size(); ++j) {
    const bool shared = std::find(shared_axes_.begin(), shared_axes_.end(), int64_t(j)) != shared_axes_.end();
    if (!shared && s[j] != as[j - 1])
      fail("expected axis {} of input shape to have value {}, received input with shape {}", j, as[j - 1],
           shape_str(s));
  }
}

std::vector<Shape> PReLUImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  check_shape(s);
  return {s};
}

void PReLUImpl::build(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  check_shape(s);
  Shape param(s.begin() + 1, s.end());
  for (int64_t a : shared_axes_) param[static_cast<size_t>(a - 1)] = 1;
  for (size_t j = 0; j < param.size(); ++j)
    if (param[j] == kNone)
      fail("axis {} of the input is None and not shared, so alpha cannot be sized (input shape {}); share it with "
           "shared_axes",
           j + 1, shape_str(s));
  alpha_ = add_weight("alpha", param, alpha_initializer_, alpha_regularizer_, /*trainable=*/true, alpha_constraint_);
}

VariableList PReLUImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  check_shape(x.shape());
  const AlphaWalk w = make_walk(x.shape(), alpha_.shape());
  const Tensor& xv = x.value();
  const Tensor& av = alpha_.value();
  Tensor y(xv.shape());
  {
    const float* px = xv.data();
    float* py = y.data();
    w.parallel_rows(av.data(), [&](int64_t r, const float* a) {
      for (int64_t i = 0; i < w.inner; ++i) {
        const float v = px[r * w.inner + i];
        py[r * w.inner + i] = v > 0.f ? v : a[i * w.inner_stride] * v;
      }
    });
  }
  return {make_result(
      std::move(y), {x, alpha_}, "PReLU",
      [xv, av, w](const Tensor& g, const std::vector<bool>& needs) -> std::vector<Tensor> {
        const float* px = xv.data();
        const float* pg = g.data();
        Tensor dx, da;
        if (needs[0]) {
          dx = Tensor(xv.shape());
          float* pd = dx.data();
          w.parallel_rows(av.data(), [&](int64_t r, const float* a) {
            for (int64_t i = 0; i < w.inner; ++i) {
              const int64_t at = r * w.inner + i;
              // TensorFlow's relu(x) - alpha * relu(-x) has slope 0 at x == 0.
              pd[at] = px[at] > 0.f ? pg[at] : px[at] < 0.f ? a[i * w.inner_stride] * pg[at] : 0.f;
            }
          });
        }
        if (needs[1]) {
          // Many input elements share one alpha: accumulate in double, in order.
          std::vector<double> acc(static_cast<size_t>(av.numel()), 0.0);
          for (int64_t r = 0; r < w.rows; ++r) {
            const int64_t base = w.alpha_offset(r);
            for (int64_t i = 0; i < w.inner; ++i) {
              const int64_t at = r * w.inner + i;
              if (px[at] < 0.f) acc[static_cast<size_t>(base + i * w.inner_stride)] += double(pg[at]) * px[at];
            }
          }
          da = Tensor(av.shape());
          for (int64_t j = 0; j < da.numel(); ++j) da[j] = static_cast<float>(acc[static_cast<size_t>(j)]);
        }
        return {dx, da};
      })};
}

json PReLUImpl::get_config() const {
  json c = base_config();
  c["alpha_initializer"] = serialize_initializer(alpha_initializer_);
  c["alpha_regularizer"] = serialize_regularizer(alpha_regularizer_);
  c["alpha_constraint"] = serialize_constraint(alpha_constraint_);
  c["shared_axes"] = shared_axes_.empty() ? json(nullptr) : json(shared_axes_);
  return c;
}

std::shared_ptr<PReLUImpl> PReLUImpl::from_config(const json& c) {
  const std::string who = detail::config_owner(c, "PReLU");
  ConfigReader r(c, who);
  r.check_keys({"alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"});
  const LayerOptions lo = detail::naming_owner(who, [&] { return common_options_from_config(r); });
  PReLUOptions o;
  detail::set_common_options(o, lo);
  detail::read_initializer(r, c, "alpha_initializer", o.alpha_initializer);
  detail::read_regularizer(r, "alpha_regularizer", o.alpha_regularizer);
  detail::read_constraint(r, "alpha_constraint", o.alpha_constraint);
  if (r.has("shared_axes")) o.shared_axes = r.int_list("shared_axes");
  return detail::with_activity_regularizer(std::make_shared<PReLUImpl>(std::move(o)), lo);
}

MINIDL_REGISTER_LAYER("PReLU", [](const json& c) -> LayerPtr { return PReLUImpl::from_config(c); });

}  // namespace minidl
