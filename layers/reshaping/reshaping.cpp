// layers/reshaping/reshaping.cpp — Flatten, Reshape and Permute.
#include "layers/reshaping/reshaping.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <numeric>

#include "autograd/functions.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"

namespace minidl {

namespace {

// "(2, 1)" / "(-1, 4)": raw integers, unlike shape_str which prints -1 as None.
template <class Dims>  // Shape or std::vector<int>
std::string dims_str(const Dims& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + (dims.size() == 1 ? ",)" : ")");
}

}  // namespace

// ---------------------------------------------------------------------------
// Flatten

FlattenImpl::FlattenImpl(FlattenOptions o) : Layer(common_options(o), "flatten"), data_format_(o.data_format) {
  if (data_format_ != "channels_last" && data_format_ != "channels_first")
    fail("The `data_format` argument must be one of \"channels_first\", \"channels_last\". Received: {}", data_format_);
}

std::vector<Shape> FlattenImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  if (s.empty()) fail("Input 0 is incompatible with the layer: expected min_ndim=1, found ndim=0");
  int64_t n = 1;
  for (size_t i = 1; i < s.size(); ++i) n = (s[i] == kNone || n == kNone) ? kNone : n * s[i];
  return {{s[0], n}};
}

VariableList FlattenImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  Variable x = single_input(inputs);
  if (x.rank() == 0) fail("Input 0 is incompatible with the layer: expected min_ndim=1, found ndim=0");
  const int64_t n = x.shape()[0];
  if (data_format_ == "channels_first" && x.rank() > 2) {
    // (N, C, d1, ..., dk) -> (N, d1, ..., dk, C): tf.keras moves channels last before flattening.
    std::vector<int> perm{0};
    for (int d = 2; d < x.rank(); ++d) perm.push_back(d);
    perm.push_back(1);
    x = autograd::permute(x, perm);
  }
  const int64_t per_sample = n == 0 ? compute_output_shape({x.shape()})[0][1] : x.value().numel() / n;
  return {autograd::reshape(x, {n, per_sample})};  // [N, prod(d)]
}

json FlattenImpl::get_config() const {
  json c = base_config();
  c["data_format"] = data_format_;
  return c;
}

std::shared_ptr<FlattenImpl> FlattenImpl::from_config(const json& c) {
  return detail::layer_from_config<FlattenOptions>(
      c, "Flatten", {"data_format"}, [](const ConfigReader& r, FlattenOptions o) {
        o.data_format = r.str("data_format", "channels_last");
        return std::make_shared<FlattenImpl>(std::move(o));
      });
}

// ---------------------------------------------------------------------------
// Reshape

ReshapeImpl::ReshapeImpl(Shape target_shape, ReshapeOptions o)
    : Layer(common_options(o), "reshape"), target_shape_(std::move(target_shape)) {
  int unknown = 0;
  int64_t known = 1;
  for (int64_t d : target_shape_) {
    if (d == -1) {
      ++unknown;
    } else if (d < 1) {
      fail("target_shape must hold positive dimensions and at most one -1, received {}", dims_str(target_shape_));
    } else if (d > kMaxConfigElements || (known *= d) > kMaxConfigElements) {
      // Bounded so that size arithmetic cannot overflow on a hostile config.
      fail("target_shape {} asks for more than 2^31 elements per sample", dims_str(target_shape_));
    }
  }
  if (unknown > 1) fail("Can only specify one unknown dimension. Received target_shape={}", dims_str(target_shape_));
}

Shape ReshapeImpl::resolve(const Shape& sample, const Shape& full) const {
  int64_t original = 1, known = 1;
  for (int64_t d : sample) original *= d;
  int unknown = -1;
  for (size_t i = 0; i < target_shape_.size(); ++i) {
    if (target_shape_[i] == -1)
      unknown = static_cast<int>(i);
    else
      known *= target_shape_[i];
  }
  Shape out = target_shape_;
  if (unknown >= 0 ? (original % known != 0) : (original != known))
    fail("total size of the new array must be unchanged, input_shape = {}, output_shape = {}", shape_str(full),
         dims_str(target_shape_));
  if (unknown >= 0) out[unknown] = original / known;
  return out;
}

std::vector<Shape> ReshapeImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  if (s.empty()) fail("expected an input with a batch axis, received shape ()");
  Shape out{s[0]};
  const Shape sample(s.begin() + 1, s.end());
  if (!is_fully_defined(sample)) {
    // A partially unknown input leaves the -1 unknown (None) too.
    for (int64_t d : target_shape_) out.push_back(d == -1 ? kNone : d);
    return {out};
  }
  const Shape t = resolve(sample, s);
  out.insert(out.end(), t.begin(), t.end());
  return {out};
}

VariableList ReshapeImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  if (x.rank() == 0) fail("expected an input with a batch axis, received shape ()");
  const Shape sample(x.shape().begin() + 1, x.shape().end());
  Shape out{x.shape()[0]};
  const Shape t = resolve(sample, x.shape());
  out.insert(out.end(), t.begin(), t.end());
  return {autograd::reshape(x, out)};
}

json ReshapeImpl::get_config() const {
  json c = base_config();
  c["target_shape"] = target_shape_;  // raw integers: the -1 stays -1, as Keras writes it
  return c;
}

std::shared_ptr<ReshapeImpl> ReshapeImpl::from_config(const json& c) {
  return detail::layer_from_config<ReshapeOptions>(
      c, "Reshape", {"target_shape"}, [](const ConfigReader& r, ReshapeOptions o) {
        Shape t;
        for (int64_t d : r.int_list("target_shape")) t.push_back(d);
        return std::make_shared<ReshapeImpl>(std::move(t), std::move(o));
      });
}

// ---------------------------------------------------------------------------
// Permute

PermuteImpl::PermuteImpl(std::vector<int> dims, PermuteOptions o)
    : Layer(common_options(o), "permute"), dims_(std::move(dims)) {
  std::vector<int> sorted = dims_, want(dims_.size());
  std::sort(sorted.begin(), sorted.end());
  std::iota(want.begin(), want.end(), 1);
  if (sorted != want)
    fail(
        "Invalid permutation `dims` for Permute Layer: {}. The set of indices in `dims` must be consecutive and "
        "start from 1.",
        dims_str(dims_));
}

void PermuteImpl::check_rank(const Shape& s) const {
  if (s.size() != dims_.size() + 1)
    fail("Input 0 is incompatible with the layer: expected ndim={}, found ndim={}. Full shape received: {}",
         dims_.size() + 1, s.size(), shape_str(s));
}

std::vector<Shape> PermuteImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  check_rank(s);
  Shape out = s;
  for (size_t i = 0; i < dims_.size(); ++i) out[i + 1] = s[dims_[i]];
  return {out};
}

VariableList PermuteImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  check_rank(x.shape());
  std::vector<int> perm{0};
  perm.insert(perm.end(), dims_.begin(), dims_.end());
  return {autograd::permute(x, perm)};
}

json PermuteImpl::get_config() const {
  json c = base_config();
  c["dims"] = dims_;
  return c;
}

std::shared_ptr<PermuteImpl> PermuteImpl::from_config(const json& c) {
  return detail::layer_from_config<PermuteOptions>(c, "Permute", {"dims"}, [](const ConfigReader& r, PermuteOptions o) {
    std::vector<int> dims;
    for (int64_t d : r.int_list("dims")) {
      if (d < 0 || d > 64) raise<ValueError>("{}: config key 'dims' holds an invalid axis {}", r.owner(), d);
      dims.push_back(static_cast<int>(d));
    }
    return std::make_shared<PermuteImpl>(std::move(dims), std::move(o));
  });
}

MINIDL_REGISTER_LAYER("Flatten", [](const json& c) -> LayerPtr { return FlattenImpl::from_config(c); });
MINIDL_REGISTER_LAYER("Reshape", [](const json& c) -> LayerPtr { return ReshapeImpl::from_config(c); });
MINIDL_REGISTER_LAYER("Permute", [](const json& c) -> LayerPtr { return PermuteImpl::from_config(c); });

}  // namespace minidl
