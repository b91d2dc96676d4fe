// layers/parts/constraints.h — Keras weight constraints, applied after each optimizer step.
//
// A Constraint rewrites a weight tensor in place (no autograd: the optimizer
// calls it on the updated values, as Keras does after apply_gradients):
//
//   auto c = get_constraint({{"class_name", "MaxNorm"}, {"config", {{"max_value", 2}, {"axis", {0, 1, 2}}}}});
//   c->apply(kernel.mutable_value());    // each output filter's norm clipped to <= 2
//
// Norm-based constraints reduce over `axis` (an int or a list of ints,
// negative allowed) with keepdims, so each slice along the remaining axes is
// scaled by its own factor. Keras formulas with epsilon = 1e-7:
//   MaxNorm:    w *= clip(norm, 0, max_value) / (eps + norm)
//   NonNeg:     w *= (w >= 0)
//   UnitNorm:   w /= (eps + norm)
//   MinMaxNorm: w *= (rate * clip(norm, min_value, max_value) + (1 - rate) * norm) / (eps + norm)
// where norm = sqrt(sum(w^2 over axis)).
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "layers/parts/keras_object.h"
#include "layers/parts/part_arg.h"

namespace minidl {

// The `axis` argument of a norm constraint: one int or a list, remembered in
// the form given so get_config writes it back the same way.
class ConstraintAxis {
 public:
  ConstraintAxis(int axis) : axes_{axis}, is_list_(false) {}
  ConstraintAxis(std::initializer_list<int> axes) : axes_(axes), is_list_(true) {}
  ConstraintAxis(std::vector<int> axes) : axes_(std::move(axes)), is_list_(true) {}

  const std::vector<int>& axes() const { return axes_; }
  bool is_list() const { return is_list_; }
  json to_json() const;
  // An int or a list of ints (ValueError otherwise; `owner` names the caller in messages).
  static ConstraintAxis from_json(const json& j, const std::string& owner);

 private:
  std::vector<int> axes_;
  bool is_list_;
};

// class_name() is e.g. "MaxNorm"; get_config(), e.g. {"max_value": 2, "axis": 0}.
class Constraint : public KerasObject {
 public:
  // Projects `w` in place. ValueError when an axis is out of range for w's rank.
  virtual void apply(Tensor& w) const = 0;
  virtual std::shared_ptr<Constraint> clone() const = 0;
};

class MaxNorm : public Constraint {
 public:
  explicit MaxNorm(double max_value = 2.0, ConstraintAxis axis = 0) : max_value_(max_value), axis_(std::move(axis)) {}
  std::string class_name() const override { return "MaxNorm"; }
  json get_config() const override;
  void apply(Tensor& w) const override;
  std::shared_ptr<Constraint> clone() const override { return std::make_shared<MaxNorm>(*this); }

 private:
  double max_value_;
  ConstraintAxis axis_;
};

class NonNeg : public Constraint {
 public:
  std::string class_name() const override { return "NonNeg"; }
  json get_config() const override;
  void apply(Tensor& w) const override;
  std::shared_ptr<Constraint> clone() const override { return std::make_shared<NonNeg>(*this); }
};

class UnitNorm : public Constraint {
 public:
  explicit UnitNorm(ConstraintAxis axis = 0) : axis_(std::move(axis)) {}
  // UnitNorm({0}) would otherwise be ambiguous with the copy constructor.
  explicit UnitNorm(std::initializer_list<int> axes) : axis_(axes) {}
  std::string class_name() const override { return "UnitNorm"; }
  json get_config() const override;
  void apply(Tensor& w) const override;
  std::shared_ptr<Constraint> clone() const override { return std::make_shared<UnitNorm>(*this); }

 private:
  ConstraintAxis axis_;
};

class MinMaxNorm : public Constraint {
 public:
  explicit MinMaxNorm(double min_value = 0.0, double max_value = 1.0, double rate = 1.0, ConstraintAxis axis = 0)
      : min_value_(min_value), max_value_(max_value), rate_(rate), axis_(std::move(axis)) {}
  std::string class_name() const override { return "MinMaxNorm"; }
  json get_config() const override;
  void apply(Tensor& w) const override;
  std::shared_ptr<Constraint> clone() const override { return std::make_shared<MinMaxNorm>(*this); }

 private:
  double min_value_, max_value_, rate_;
  ConstraintAxis axis_;
};

// The constraint an identifier names: "max_norm"/"maxnorm"/"MaxNorm",
// "non_neg"/"nonneg"/"NonNeg", "unit_norm"/"unitnorm"/"UnitNorm",
// "min_max_norm"/"MinMaxNorm" (case-insensitive; names give the class
// defaults), {"class_name", "config"} objects (Keras 2/3 forms), Keras 1
// {"name": "MaxNorm", "m": 2, "axis": 0}, or null (-> nullptr).
// Throws ValueError for an unknown name (listing the known ones), an unexpected
// config key, or a value of the wrong type.
std::shared_ptr<Constraint> get_constraint(const json& identifier);

// {"class_name": ..., "config": ...}, or null for nullptr.
json serialize_constraint(const std::shared_ptr<Constraint>& c);

// An options-struct field: a name, a constraint object or pointer, or unset (nullptr).
using ConstraintArg = PartArg<Constraint, get_constraint>;

}  // namespace minidl
