// layers/preprocessing/array_arg.h — a layer argument that is a number, an array of numbers, or None.
//
// Keras preprocessing layers take plain Python values where other layers take
// weights: Rescaling's `scale` and `offset`, Normalization's `mean` and
// `variance` may each be a float, a (nested) list, or a NumPy array. ArrayArg
// holds such a value as its shape and its values in double precision, and
// reads and writes it in the forms Keras configs use:
//
//   0.5                                               a scalar, shape ()
//   [0.485, 0.456, 0.406]                             a list, shape (3,)
//   [[1, 2], [3, 4]]                                  nested lists, shape (2, 2)
//   {"class_name": "__numpy__", "config": {"value": [...], "dtype": "float32"}}
//   null                                              None
//
// and writes back the form it was read in (integers stay integers, a NumPy
// wrapper stays a wrapper), as Keras re-serializes the Python object it kept.
//
//   Rescaling(1.0 / 255)                      // ArrayArg from a double
//   Rescaling({0.5, 0.25, 2.0})               // from a braced list: shape (3,)
//   Normalization({.mean = 3.0, .variance = 2.0})
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <initializer_list>
#include <string>
#include <vector>

#include "core/shape.h"
#include "core/tensor.h"

namespace minidl {

class ArrayArg {
 public:
  ArrayArg() = default;                                 // None
  ArrayArg(double value);                               // NOLINT: implicit, a Keras float argument
  ArrayArg(int value);                                  // NOLINT: an int argument (written back as an int)
  ArrayArg(std::initializer_list<double> values);       // shape (n,)
  ArrayArg(std::vector<double> values);                 // NOLINT: shape (n,)
  ArrayArg(Shape shape, std::vector<double> values);    // ValueError unless the count matches the shape
  ArrayArg(const Tensor& value);                        // NOLINT: any shape, as a NumPy array

  // Reads a config value (the forms above). ValueError naming `owner` and `key`
  // for anything else: strings, ragged lists, non-numbers, too many elements.
  static ArrayArg from_json(const nlohmann::json& j, const std::string& owner, const std::string& key);
  nlohmann::json to_json() const;
  // The bare number or nested lists, without a NumPy wrapper (NumPy's tolist()).
  nlohmann::json to_plain_json() const;

  bool is_none() const { return !present_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  const std::vector<double>& values() const { return values_; }
  // The values as float32 (Keras casts them to the compute dtype), in `shape`
  // (ValueError when the element count differs); shape() when omitted.
  Tensor to_tensor() const;
  Tensor to_tensor(const Shape& shape) const;
  // Python's repr of the value: "None", "0.5", "[1.0, 2.0]".
  std::string repr() const;

 private:
  bool present_ = false;
  Shape shape_;
  std::vector<double> values_;
  bool integral_ = false;      // every value was written as an integer
  std::string wrapper_;        // "" or "__numpy__" / "__tensor__"
  std::string wrapper_dtype_;  // the wrapper's "dtype"
};

// NumPy shape or tuple of ints as Python prints it: "()", "(3,)", "(-1, 2)".
std::string python_tuple(const std::vector<int64_t>& values);

// True when a constant of shape `c` broadcasts against an input of shape `x`
// without changing x's shape (NumPy broadcasting, aligned on the right): c has
// no more axes than x and each of its axes is 1 or x's size. A None axis of x
// accepts any size; the check is repeated on the concrete shape at call time.
bool broadcasts_into(const Shape& c, const Shape& x);

}  // namespace minidl
