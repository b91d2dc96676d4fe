// layers/preprocessing/normalization.cpp — Normalization: argument checks, build, the normalizing call,
// adapt, and its config.
#include "layers/preprocessing/normalization.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/json_text.h"
#include "layers/base/registry.h"
#include "ops/elementwise.h"

namespace minidl {
namespace {

// Keras's backend.epsilon(): the floor of the divisor sqrt(variance).
constexpr float kEpsilon = 1e-7f;

// Mean and population variance over the reduced axes, one pair per kept index, in double.
struct Moments {
  std::vector<double> mean, variance;
  int64_t count = 0;  // elements per kept index
};

// For each element of a tensor of shape `s` (row-major), the index of its kept
// position: the kept axes' indices read as one row-major number.
template <class F>
void for_each_kept_index(const Shape& s, const std::vector<int>& keep, F f) {
  const size_t rank = s.size();
  std::vector<int64_t> weight(rank, 0);
  int64_t w = 1;
  for (size_t k = keep.size(); k-- > 0;) {
    weight[static_cast<size_t>(keep[k])] = w;
    w *= s[static_cast<size_t>(keep[k])];
  }
  std::vector<int64_t> idx(rank, 0);
  const int64_t n = numel(s);
  int64_t kept = 0;
  for (int64_t flat = 0; flat < n; ++flat) {
    f(flat, kept);
    for (size_t k = rank; k-- > 0;) {
      kept += weight[k];
      if (++idx[k] < s[k]) break;
      kept -= weight[k] * s[k];
      idx[k] = 0;
    }
  }
}

Moments moments(const Tensor& x, const std::vector<int>& keep, int64_t kept_count) {
  Moments m;
  m.mean.assign(static_cast<size_t>(kept_count), 0.0);
  m.variance.assign(static_cast<size_t>(kept_count), 0.0);
  m.count = kept_count == 0 ? 0 : x.numel() / kept_count;
  const float* p = x.data();
  for_each_kept_index(x.shape(), keep, [&](int64_t i, int64_t k) { m.mean[static_cast<size_t>(k)] += p[i]; });
  for (double& v : m.mean) v /= static_cast<double>(m.count);
  for_each_kept_index(x.shape(), keep, [&](int64_t i, int64_t k) {
    const double d = p[i] - m.mean[static_cast<size_t>(k)];
    m.variance[static_cast<size_t>(k)] += d * d;
  });
  for (double& v : m.variance) v /= static_cast<double>(m.count);
  return m;
}

Tensor to_float(const std::vector<double>& v, const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  for (size_t i = 0; i < v.size(); ++i) t[static_cast<int64_t>(i)] = static_cast<float>(v[i]);
  return t;
}

// max(sqrt(v), epsilon) in float32, as Keras computes it.
Tensor divisor_of(const Tensor& variance) {
  Tensor d = Tensor::empty(variance.shape());
  const float* v = variance.data();
  float* o = d.data();
  for (int64_t i = 0; i < variance.numel(); ++i) o[i] = std::max(std::sqrt(v[i]), kEpsilon);
  return d;
}

}  // namespace

NormalizationImpl::NormalizationImpl(NormalizationOptions o)
    : Layer(common_options(o), "normalization"),
      axis_(std::move(o.axis.axes)),
      invert_(o.invert),
      mean_arg_(std::move(o.mean)),
      variance_arg_(std::move(o.variance)) {
  if (mean_arg_.is_none() != variance_arg_.is_none())
    fail("When setting values directly, both `mean` and `variance` must be set. Received: mean={} and variance={}",
         mean_arg_.repr(), variance_arg_.repr());
  if (!mean_arg_.is_none()) {
    if (mean_arg_.shape() != variance_arg_.shape())
      fail("When setting values directly, `mean` and `variance` must have the same shape. Received: mean shape {} "
           "and variance shape {}",
           python_tuple(mean_arg_.shape()), python_tuple(variance_arg_.shape()));
    if (mean_arg_.rank() > static_cast<int>(axis_.size()))
      fail("The rank of `mean` must be less than or equal to the number of axes ({}). Received: mean shape {} for "
           "axis {}",
           axis_.size(), python_tuple(mean_arg_.shape()), axis_str());
  }
  set_supports_masking(true);
}

std::string NormalizationImpl::axis_str() const {
  return python_tuple(std::vector<int64_t>(axis_.begin(), axis_.end()));
}

std::vector<int> NormalizationImpl::keep_axes(const Shape& s) const {
  const int ndim = static_cast<int>(s.size());
  std::vector<int> keep;
  for (int a : axis_) {
    if (a < -ndim || a >= ndim)
      fail("All `axis` values must be in the range [-ndim, ndim). Received inputs with ndim={}, while axis={}", ndim,
           axis_str());
    keep.push_back(a < 0 ? a + ndim : a);
  }
  std::sort(keep.begin(), keep.end());
  if (std::adjacent_find(keep.begin(), keep.end()) != keep.end())
    fail("`axis` names the same axis twice. Received inputs with ndim={}, while axis={}", ndim, axis_str());
  for (int d : keep)
    if (s[static_cast<size_t>(d)] == kNone)
      fail("All `axis` values to be kept must have a known shape. Received axis={}, inputs.shape={}, with unknown "
           "axis at index {}",
           axis_str(), shape_str(s), d);
  return keep;
}

void NormalizationImpl::check_broadcast(const Shape& x) const {
  if (!broadcasts_into(broadcast_shape_, x))
    fail("expected an input whose kept axes {} match the shape {} the layer was built with, received shape {}",
         axis_str(), shape_str(build_input_shape_), shape_str(x));
}

std::vector<Shape> NormalizationImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  if (built()) {
    check_broadcast(s);
  } else {
    keep_axes(s);
  }
  return {s};
}

void NormalizationImpl::build(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  keep_ = keep_axes(s);
  build_input_shape_ = s;
  broadcast_shape_.assign(s.size(), 1);
  Shape kept_shape;
  for (int d : keep_) {
    broadcast_shape_[static_cast<size_t>(d)] = s[static_cast<size_t>(d)];
    kept_shape.push_back(s[static_cast<size_t>(d)]);
  }
  if (mean_arg_.is_none()) {
    adapt_mean_ = add_weight("mean", kept_shape, "zeros", {}, false);
    adapt_variance_ = add_weight("variance", kept_shape, "ones", {}, false);
    count_ = add_weight("count", {}, "zeros", {}, false);
    return;
  }
  // Given values: their axes meet the kept axes from the right, then broadcast over them.
  Shape expanded(s.size(), 1);
  const Shape& given = mean_arg_.shape();
  for (size_t i = 1; i <= given.size(); ++i) expanded[static_cast<size_t>(keep_[keep_.size() - i])] = given[given.size() - i];
  for (size_t d = 0; d < s.size(); ++d)
    if (expanded[d] != 1 && expanded[d] != broadcast_shape_[d])
      fail("`mean` and `variance` of shape {} cannot be broadcast to the kept axes {} of the input shape {}",
           python_tuple(given), axis_str(), shape_str(s));
  const Tensor ones = Tensor::ones(broadcast_shape_);
  given_mean_ = ops::mul(mean_arg_.to_tensor(expanded), ones);          // broadcast_shape_
  given_variance_ = ops::mul(variance_arg_.to_tensor(expanded), ones);  // broadcast_shape_
  given_denominator_ = divisor_of(given_variance_);
}

Tensor NormalizationImpl::mean() const {
  if (!built()) fail("the layer is not built yet: call it, build it or adapt it first");
  return adapt_mean_.defined() ? adapt_mean_.value().reshape(broadcast_shape_) : given_mean_;
}

Tensor NormalizationImpl::variance() const {
  if (!built()) fail("the layer is not built yet: call it, build it or adapt it first");
  return adapt_variance_.defined() ? adapt_variance_.value().reshape(broadcast_shape_) : given_variance_;
}

VariableList NormalizationImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  check_broadcast(x.shape());
  // The weights may have been loaded or adapted since the last call: read them now.
  const bool given = !mean_arg_.is_none();
  const Variable m(given ? given_mean_ : adapt_mean_.value().reshape(broadcast_shape_));
  const Variable d(given ? given_denominator_ : divisor_of(adapt_variance_.value()).reshape(broadcast_shape_));
  if (invert_) return {autograd::add(m, autograd::mul(x, d))};
  return {autograd::div(autograd::sub(x, m), d)};
}

void NormalizationImpl::check_adapt_shape(const Shape& data) const {
  bool ok = data.size() == build_input_shape_.size();
  for (size_t k = 0; ok && k < keep_.size(); ++k) {
    const size_t d = static_cast<size_t>(keep_[k]);
    ok = data[d] == build_input_shape_[d];
  }
  if (!ok)
    fail("The layer was built with input_shape={}, but adapt() is being called with data with an incompatible shape, "
         "data.shape={}",
         shape_str(build_input_shape_), shape_str(data));
}

void NormalizationImpl::adapt(const Tensor& data) {
  if (!data.defined()) fail("adapt() received an undefined Tensor");
  if (!mean_arg_.is_none()) fail("adapt() cannot change a `mean` and `variance` given at construction");
  if (built()) check_adapt_shape(data.shape());
  else maybe_build({data.shape()});
  if (data.numel() == 0) fail("adapt() received data with no elements, shape {}", shape_str(data.shape()));
  const Shape kept_shape = adapt_mean_.shape();
  const Moments m = moments(data, keep_, numel(kept_shape));
  adapt_mean_.assign(to_float(m.mean, kept_shape));
  adapt_variance_.assign(to_float(m.variance, kept_shape));
}

void NormalizationImpl::adapt(const std::vector<Tensor>& batches) {
  if (batches.empty())
    fail("adapt() received an empty iterable (no batches). Expected at least one batch. Pass a non-empty list of "
         "batches.");
  if (!mean_arg_.is_none()) fail("adapt() cannot change a `mean` and `variance` given at construction");
  for (const Tensor& b : batches)
    if (!b.defined()) fail("adapt() received an undefined Tensor among its batches");
  if (built()) check_adapt_shape(batches.front().shape());
  else maybe_build({batches.front().shape()});
  const Shape kept_shape = adapt_mean_.shape();
  const int64_t kept = numel(kept_shape);
  std::vector<double> mean(static_cast<size_t>(kept), 0.0), var(static_cast<size_t>(kept), 0.0);
  int64_t total = 0;
  for (const Tensor& b : batches) {
    bool ok = b.rank() == static_cast<int>(build_input_shape_.size());
    for (size_t k = 0; ok && k < keep_.size(); ++k)
      ok = b.shape()[static_cast<size_t>(keep_[k])] == build_input_shape_[static_cast<size_t>(keep_[k])];
    if (!ok)
      fail("adapt() yielded a batch with incompatible shape. Expected {}, got {}.", shape_str(build_input_shape_),
           shape_str(b.shape()));
    if (b.numel() == 0) continue;
    const Moments bm = moments(b, keep_, kept);
    // Keras's running combination (lack-of-fit sum of squares), weighting by element counts.
    total += bm.count;
    const double bw = static_cast<double>(bm.count) / static_cast<double>(total), ew = 1.0 - bw;
    for (size_t i = 0; i < mean.size(); ++i) {
      const double new_mean = mean[i] * ew + bm.mean[i] * bw;
      const double dm = mean[i] - new_mean, db = bm.mean[i] - new_mean;
      var[i] = (var[i] + dm * dm) * ew + (bm.variance[i] + db * db) * bw;
      mean[i] = new_mean;
    }
  }
  if (total == 0) fail("adapt() received batches with no elements");
  adapt_mean_.assign(to_float(mean, kept_shape));
  adapt_variance_.assign(to_float(var, kept_shape));
}

json NormalizationImpl::get_config() const {
  json c = base_config();
  c["axis"] = axis_;
  // Keys at their defaults are left out: tf.keras 2.3-2.9 reject `invert`, and 2.3 also
  // `mean`/`variance`; every Keras reads a missing key as its default.
  if (invert_) c["invert"] = true;
  if (const json mean = mean_arg_.to_plain_json(); !mean.is_null()) c["mean"] = mean;
  if (const json variance = variance_arg_.to_plain_json(); !variance.is_null()) c["variance"] = variance;
  return c;
}

std::shared_ptr<NormalizationImpl> NormalizationImpl::from_config(const json& config) {
  const std::string owner = "Normalization";
  return detail::layer_from_config<NormalizationOptions>(
      config, owner, [&](const ConfigReader& r, NormalizationOptions o) {
        r.check_keys({"axis", "mean", "variance", "invert"});
        if (config.contains("axis")) {
          const json& a = config.at("axis");
          std::vector<int> axes;
          const bool list = a.is_array();
          bool ok = a.is_null() || a.is_number_integer() || list;
          for (const auto& e : list ? a : json::array()) {
            ok = ok && e.is_number_integer() && std::abs(e.get<int64_t>()) < (int64_t(1) << 30);
            if (ok) axes.push_back(e.get<int>());
          }
          if (a.is_number_integer()) {
            ok = ok && std::abs(a.get<int64_t>()) < (int64_t(1) << 30);
            if (ok) axes.push_back(a.get<int>());
          }
          if (!ok)
            raise<ValueError>("{}: config key 'axis' should be an integer, a list of integers or null, received {}",
                              owner, json_preview(a));
          o.axis = NormalizationAxis(std::move(axes));
        }
        if (config.contains("mean")) o.mean = ArrayArg::from_json(config.at("mean"), owner, "mean");
        if (config.contains("variance")) o.variance = ArrayArg::from_json(config.at("variance"), owner, "variance");
        o.invert = r.boolean("invert", false);
        return std::make_shared<NormalizationImpl>(std::move(o));
      });
}

MINIDL_REGISTER_LAYER("Normalization", [](const json& c) -> LayerPtr { return NormalizationImpl::from_config(c); });

}  // namespace minidl
