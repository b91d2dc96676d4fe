// layers/parts/regularizers.h — Keras weight regularizers (penalties added to the loss).
//
// A Regularizer maps a weight Variable to a scalar penalty Variable, built from
// autograd ops so its gradient flows into the weight with the rest of the loss:
//
//   auto reg = get_regularizer("l2");                    // L2(0.01)
//   Variable penalty = (*reg)(kernel);                   // 0.01 * sum(kernel^2), shape ()
//
// Keras formulas, with no factor 1/2:  l1 * sum(|w|) + l2 * sum(w^2).
// Factors are stored as float32, as Keras stores them, so L2(0.01) serializes
// as {"l2": 0.009999999776482582} exactly like a Keras file.
#pragma once

#include <memory>
#include <string>

#include "autograd/variable.h"
#include "layers/parts/keras_object.h"
#include "layers/parts/part_arg.h"

namespace minidl {

// class_name() is "L1", "L2" or "L1L2"; get_config(), e.g. {"l2": 0.01}.
class Regularizer : public KerasObject {
 public:
  // The penalty for `w` (any shape), a scalar (shape ()) Variable whose gradient
  // reaches w. A zero penalty is a constant 0 with no history.
  virtual Variable operator()(const Variable& w) const = 0;
  virtual std::shared_ptr<Regularizer> clone() const = 0;
};

// l1 * sum(|w|) + l2 * sum(w^2). Both factors must be finite (ValueError).
class L1L2 : public Regularizer {
 public:
  explicit L1L2(double l1 = 0.0, double l2 = 0.0);
  std::string class_name() const override { return "L1L2"; }
  json get_config() const override;
  Variable operator()(const Variable& w) const override;
  std::shared_ptr<Regularizer> clone() const override { return std::make_shared<L1L2>(*this); }
  float l1() const { return l1_; }
  float l2() const { return l2_; }

 private:
  float l1_, l2_;
};

// l1 * sum(|w|). ValueError when l1 is not finite.
class L1 : public Regularizer {
 public:
  explicit L1(double l1 = 0.01);
  std::string class_name() const override { return "L1"; }
  json get_config() const override;
  Variable operator()(const Variable& w) const override;
  std::shared_ptr<Regularizer> clone() const override { return std::make_shared<L1>(*this); }
  float l1() const { return l1_; }

 private:
  float l1_;
};

// l2 * sum(w^2). ValueError when l2 is not finite.
class L2 : public Regularizer {
 public:
  explicit L2(double l2 = 0.01);
  std::string class_name() const override { return "L2"; }
  json get_config() const override;
  Variable operator()(const Variable& w) const override;
  std::shared_ptr<Regularizer> clone() const override { return std::make_shared<L2>(*this); }
  float l2() const { return l2_; }

 private:
  float l2_;
};

// The regularizer an identifier names:
//   "l1" -> L1(0.01), "l2" -> L2(0.01), "l1_l2" -> L1L2(0.01, 0.01) (tf.keras's
//   string defaults), class names "L1", "L2", "L1L2" (case-insensitive);
//   {"class_name", "config"} objects (Keras 2/3 forms; a missing factor takes the
//   class default, "l" is read as the factor of L1/L2 as tf.keras does);
//   Keras 1 {"name": "WeightRegularizer", "l1": .., "l2": ..} -> L1L2;
//   null -> nullptr.
// Throws ValueError for an unknown name (listing the known ones), an unexpected
// config key, or a factor that is not a finite number.
std::shared_ptr<Regularizer> get_regularizer(const json& identifier);

// {"class_name": ..., "config": ...}, or null for nullptr.
json serialize_regularizer(const std::shared_ptr<Regularizer>& reg);

// An options-struct field: a name, a regularizer object or pointer, or unset
// (resolves to nullptr: no penalty).
using RegularizerArg = PartArg<Regularizer, get_regularizer>;

}  // namespace minidl
