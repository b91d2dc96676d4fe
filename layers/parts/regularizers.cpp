// layers/parts/regularizers.cpp — L1, L2 and L1L2, and the regularizer registry.
#include "layers/parts/regularizers.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "autograd/functions.h"
#include "core/errors.h"
#include "layers/parts/part_config.h"

namespace minidl {
namespace {

// Keras keeps factors as float32 (cast_to_floatx); doing the same makes a
// round trip through a Keras file exact.
float checked_factor(double x, const char* cls, const char* key) {
  MINIDL_CHECK(std::isfinite(x), ValueError,
               "{}: {}={} is not a valid regularization penalty number (a positive/negative infinity or NaN is not "
               "allowed)",
               cls, key, x);
  return static_cast<float>(x);
}

// sum over every axis, reshaped so the result is always a true scalar ().
Variable sum_all(const Variable& x) { return autograd::reshape(autograd::sum(x), Shape{}); }

Variable l1_term(const Variable& w, float l1) { return autograd::mul_scalar(sum_all(autograd::abs(w)), l1); }
Variable l2_term(const Variable& w, float l2) { return autograd::mul_scalar(sum_all(autograd::square(w)), l2); }

}  // namespace

L1L2::L1L2(double l1, double l2) : l1_(checked_factor(l1, "L1L2", "l1")), l2_(checked_factor(l2, "L1L2", "l2")) {}

json L1L2::get_config() const { return {{"l1", double(l1_)}, {"l2", double(l2_)}}; }

Variable L1L2::operator()(const Variable& w) const {
  // As in Keras, a zero factor contributes nothing (not even a graph edge).
  Variable total;
  if (l1_ != 0.f) total = l1_term(w, l1_);
  if (l2_ != 0.f) total = total.defined() ? autograd::add(total, l2_term(w, l2_)) : l2_term(w, l2_);
  return total.defined() ? total : Variable(Tensor::scalar(0.f));
}

L1::L1(double l1) : l1_(checked_factor(l1, "L1", "l1")) {}
json L1::get_config() const { return {{"l1", double(l1_)}}; }
Variable L1::operator()(const Variable& w) const { return l1_term(w, l1_); }

L2::L2(double l2) : l2_(checked_factor(l2, "L2", "l2")) {}
json L2::get_config() const { return {{"l2", double(l2_)}}; }
Variable L2::operator()(const Variable& w) const { return l2_term(w, l2_); }

// --- identifiers -------------------------------------------------------------

namespace {

// The factor of L1 or L2 from config, accepting tf.keras's backwards-compatible "l" key.
double single_factor(const json& c, const char* key, const std::string& owner) {
  return detail::config_number(c, !c.contains(key) && c.contains("l") ? "l" : key, 0.01, owner);
}

const std::vector<detail::PartEntry<Regularizer>>& regularizer_registry() {
  using detail::config_number;
  static const std::vector<detail::PartEntry<Regularizer>> entries = {
      {"L1", {}, {"l1", "l"},
       [](const json& c, const std::string& o) { return std::make_shared<L1>(single_factor(c, "l1", o)); }},
      {"L2", {}, {"l2", "l"},
       [](const json& c, const std::string& o) { return std::make_shared<L2>(single_factor(c, "l2", o)); }},
      // Keras 1 wrote WeightRegularizer / ActivityRegularizer with both factors.
      {"L1L2", {"l1_l2", "weightregularizer", "activityregularizer"}, {"l1", "l2"},
       [](const json& c, const std::string& o) {
         return std::make_shared<L1L2>(config_number(c, "l1", 0.0, o), config_number(c, "l2", 0.0, o));
       }},
  };
  return entries;
}

}  // namespace

std::shared_ptr<Regularizer> get_regularizer(const json& identifier) {
  if (identifier.is_null()) return nullptr;
  const detail::PartIdentifier id = detail::parse_part_identifier(identifier, "regularizer");
  // tf.keras: the string "l1_l2" means L1L2(0.01, 0.01), unlike the class defaults.
  if (id.from_string && detail::to_lower(id.class_name) == "l1_l2") return std::make_shared<L1L2>(0.01, 0.01);
  if (auto reg = detail::make_registered_part(regularizer_registry(), id, "regularizer")) return reg;
  detail::raise_unknown_part("regularizer", identifier, {"L1", "L2", "L1L2", "l1", "l2", "l1_l2"});
}

json serialize_regularizer(const std::shared_ptr<Regularizer>& reg) { return class_and_config(reg.get()); }

}  // namespace minidl
