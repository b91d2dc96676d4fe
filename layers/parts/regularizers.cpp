#include "layers/parts/regularizers.h"

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

// A factor from config, accepting tf.keras's backwards-compatible "l" key.
double factor(const json& c, const char* key, double fallback, const std::string& owner, bool accept_l) {
  if (accept_l && !c.contains(key) && c.contains("l")) return detail::config_number(c, "l", fallback, owner);
  return detail::config_number(c, key, fallback, owner);
}

}  // namespace

std::shared_ptr<Regularizer> get_regularizer(const json& identifier) {
  if (identifier.is_null()) return nullptr;
  const detail::PartIdentifier id = detail::parse_part_identifier(identifier, "regularizer");
  const std::string key = detail::to_lower(id.class_name);
  const json& c = id.config;
  // tf.keras: the string "l1_l2" means L1L2(0.01, 0.01), unlike the class defaults.
  if (id.from_string && key == "l1_l2") return std::make_shared<L1L2>(0.01, 0.01);
  if (key == "l1") {
    detail::check_config_keys(c, {"l1", "l"}, "L1 regularizer");
    return std::make_shared<L1>(factor(c, "l1", 0.01, "L1 regularizer", true));
  }
  if (key == "l2") {
    detail::check_config_keys(c, {"l2", "l"}, "L2 regularizer");
    return std::make_shared<L2>(factor(c, "l2", 0.01, "L2 regularizer", true));
  }
  // Keras 1 wrote WeightRegularizer / ActivityRegularizer with both factors.
  if (key == "l1l2" || key == "l1_l2" || key == "weightregularizer" || key == "activityregularizer") {
    detail::check_config_keys(c, {"l1", "l2"}, "L1L2 regularizer");
    return std::make_shared<L1L2>(factor(c, "l1", 0.0, "L1L2 regularizer", false),
                                  factor(c, "l2", 0.0, "L1L2 regularizer", false));
  }
  detail::raise_unknown_part("regularizer", identifier, {"L1", "L2", "L1L2", "l1", "l2", "l1_l2"});
}

json serialize_regularizer(const std::shared_ptr<Regularizer>& reg) {
  if (!reg) return nullptr;
  return {{"class_name", reg->class_name()}, {"config", reg->get_config()}};
}

}  // namespace minidl
