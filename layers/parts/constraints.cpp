// layers/parts/constraints.cpp — MaxNorm, NonNeg, UnitNorm and MinMaxNorm, and the constraint registry.
#include "layers/parts/constraints.h"

#include <nlohmann/json.hpp>

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

// Aliases are the snake_case names and the lower-case spellings Keras also accepts.
const std::vector<detail::PartEntry<Constraint>>& constraint_registry() {
  using detail::config_number;
  static const std::vector<detail::PartEntry<Constraint>> entries = {
      {"MaxNorm", {"max_norm", "maxnorm"}, {"max_value", "axis", "m"},
       [](const json& c, const std::string& o) {
         // Keras 1 called max_value "m".
         const double max_value = config_number(c, "max_value", config_number(c, "m", 2.0, o), o);
         return std::make_shared<MaxNorm>(max_value, axis_from(c, o));
       }},
      {"NonNeg", {"non_neg", "nonneg"}, {}, [](const json&, const std::string&) { return std::make_shared<NonNeg>(); }},
      {"UnitNorm", {"unit_norm", "unitnorm"}, {"axis"},
       [](const json& c, const std::string& o) { return std::make_shared<UnitNorm>(axis_from(c, o)); }},
      {"MinMaxNorm", {"min_max_norm"}, {"min_value", "max_value", "rate", "axis"},
       [](const json& c, const std::string& o) {
         return std::make_shared<MinMaxNorm>(config_number(c, "min_value", 0.0, o), config_number(c, "max_value", 1.0, o),
                                             config_number(c, "rate", 1.0, o), axis_from(c, o));
       }},
  };
  return entries;
}

}  // namespace

std::shared_ptr<Constraint> get_constraint(const json& identifier) {
  if (identifier.is_null()) return nullptr;
  const detail::PartIdentifier id = detail::parse_part_identifier(identifier, "constraint");
  if (auto c = detail::make_registered_part(constraint_registry(), id, "constraint")) return c;
  detail::raise_unknown_part("constraint", identifier, detail::registered_names(constraint_registry()));
}

json serialize_constraint(const std::shared_ptr<Constraint>& c) { return class_and_config(c.get()); }

json MaxNorm::get_config() const { return {{"max_value", max_value_}, {"axis", axis_.to_json()}}; }

json NonNeg::get_config() const { return json::object(); }

json UnitNorm::get_config() const { return {{"axis", axis_.to_json()}}; }

json MinMaxNorm::get_config() const {
  return {{"min_value", min_value_}, {"max_value", max_value_}, {"rate", rate_}, {"axis", axis_.to_json()}};
}

}  // namespace minidl
