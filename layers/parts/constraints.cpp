#include "layers/parts/constraints.h"

#include <algorithm>
#include <set>

#include "core/errors.h"
#include "layers/base/json_text.h"
#include "layers/parts/part_config.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace minidl {
namespace {

constexpr float kEpsilon = 1e-7f;  // Keras backend.epsilon()

// Normalized, duplicate-free reduction axes for w, with errors naming the constraint.
std::vector<int> resolve_axes(const ConstraintAxis& axis, const Tensor& w, const char* owner) {
  MINIDL_CHECK(!axis.axes().empty(), ValueError, "{}: axis list must not be empty", owner);
  std::vector<int> out;
  for (int a : axis.axes()) {
    MINIDL_CHECK(a >= -w.rank() && a < w.rank(), ValueError, "{}: axis {} is out of range for a weight of shape {}",
                 owner, a, shape_str(w.shape()));
    out.push_back(a < 0 ? a + w.rank() : a);
  }
  MINIDL_CHECK(std::set<int>(out.begin(), out.end()).size() == out.size(), ValueError, "{}: repeated axis in {}",
               owner, json_preview(axis.to_json()));
  return out;
}

// sqrt(sum(w^2 over axes)), keepdims so it broadcasts against w. Computed in
// float32 like Keras, so results match Keras bit for bit in the common case.
Tensor norms_of(const Tensor& w, const std::vector<int>& axes) {
  return ops::sqrt(ops::sum(ops::square(w), axes, /*keepdims=*/true));
}

// w *= factor (broadcast), writing into w's own storage so views of it see the update.
void scale_in_place(Tensor& w, const Tensor& factor) { w.copy_from(ops::mul(w, factor)); }

}  // namespace

json ConstraintAxis::to_json() const { return is_list_ ? json(axes_) : json(axes_.front()); }

ConstraintAxis ConstraintAxis::from_json(const json& j, const std::string& owner) {
  if (j.is_number_integer()) return ConstraintAxis(j.get<int>());
  MINIDL_CHECK(j.is_array(), ValueError, "{}: axis must be an int or a list of ints, received {}", owner,
               json_preview(j));
  std::vector<int> axes;
  for (const json& a : j) {
    MINIDL_CHECK(a.is_number_integer(), ValueError, "{}: axis must be an int or a list of ints, received {}", owner,
                 json_preview(j));
    axes.push_back(a.get<int>());
  }
  return ConstraintAxis(std::move(axes));
}

void MaxNorm::apply(Tensor& w) const {
  const Tensor norms = norms_of(w, resolve_axes(axis_, w, "MaxNorm"));
  const Tensor desired = ops::clip(norms, 0.f, static_cast<float>(max_value_));
  scale_in_place(w, ops::div(desired, ops::add_scalar(norms, kEpsilon)));
}

void NonNeg::apply(Tensor& w) const {
  // Multiplying (rather than assigning 0) keeps NaN as NaN, as Keras does.
  for (float& v : w.span()) v *= v >= 0.f ? 1.f : 0.f;
}

void UnitNorm::apply(Tensor& w) const {
  const Tensor norms = norms_of(w, resolve_axes(axis_, w, "UnitNorm"));
  w.copy_from(ops::div(w, ops::add_scalar(norms, kEpsilon)));
}

void MinMaxNorm::apply(Tensor& w) const {
  const Tensor norms = norms_of(w, resolve_axes(axis_, w, "MinMaxNorm"));
  const Tensor clipped = ops::clip(norms, static_cast<float>(min_value_), static_cast<float>(max_value_));
  const float rate = static_cast<float>(rate_);
  const Tensor desired = ops::add(ops::scale(clipped, rate), ops::scale(norms, 1.f - rate));
  scale_in_place(w, ops::div(desired, ops::add_scalar(norms, kEpsilon)));
}

// --- identifiers -------------------------------------------------------------

namespace {

ConstraintAxis axis_from(const json& c, const std::string& owner) {
  return c.contains("axis") && !c["axis"].is_null() ? ConstraintAxis::from_json(c["axis"], owner) : ConstraintAxis(0);
}

}  // namespace

std::shared_ptr<Constraint> get_constraint(const json& identifier) {
  if (identifier.is_null()) return nullptr;
  const detail::PartIdentifier id = detail::parse_part_identifier(identifier, "constraint");
  const std::string key = detail::to_lower(id.class_name);
  const json& c = id.config;
  using detail::config_number;
  if (key == "maxnorm" || key == "max_norm") {
    const std::string owner = "MaxNorm constraint";
    detail::check_config_keys(c, {"max_value", "axis", "m"}, owner);
    // Keras 1 called max_value "m".
    const double max_value = config_number(c, "max_value", config_number(c, "m", 2.0, owner), owner);
    return std::make_shared<MaxNorm>(max_value, axis_from(c, owner));
  }
  if (key == "nonneg" || key == "non_neg") {
    detail::check_config_keys(c, {}, "NonNeg constraint");
    return std::make_shared<NonNeg>();
  }
  if (key == "unitnorm" || key == "unit_norm") {
    detail::check_config_keys(c, {"axis"}, "UnitNorm constraint");
    return std::make_shared<UnitNorm>(axis_from(c, "UnitNorm constraint"));
  }
  if (key == "minmaxnorm" || key == "min_max_norm") {
    const std::string owner = "MinMaxNorm constraint";
    detail::check_config_keys(c, {"min_value", "max_value", "rate", "axis"}, owner);
    return std::make_shared<MinMaxNorm>(config_number(c, "min_value", 0.0, owner),
                                        config_number(c, "max_value", 1.0, owner),
                                        config_number(c, "rate", 1.0, owner), axis_from(c, owner));
  }
  detail::raise_unknown_part("constraint", identifier,
                             {"MaxNorm", "max_norm", "maxnorm", "NonNeg", "non_neg", "nonneg", "UnitNorm", "unit_norm",
                              "unitnorm", "MinMaxNorm", "min_max_norm"});
}

json serialize_constraint(const std::shared_ptr<Constraint>& c) {
  if (!c) return nullptr;
  return {{"class_name", c->class_name()}, {"config", c->get_config()}};
}

}  // namespace minidl
