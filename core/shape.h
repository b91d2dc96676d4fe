// core/shape.h — shapes as vectors of dimensions.
//
// A Shape is a list of int64 dimensions, row-major. Symbolic shapes (the shapes
// of Keras tensors before data flows) may hold kNone = -1 for an unknown
// dimension, usually the batch: (None, 28, 28, 1). Concrete tensors never do.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace minidl {

using Shape = std::vector<int64_t>;

inline constexpr int64_t kNone = -1;  // Keras's None: an unknown dimension

// Number of elements; throws ValueError if any dimension is unknown or negative.
int64_t numel(const Shape& shape);

// True when every dimension is known (>= 0).
bool is_fully_defined(const Shape& shape);

// "(None, 28, 28, 1)" — Keras/Python tuple style, "(3,)" for rank 1.
std::string shape_str(const Shape& shape);

// Normalises a possibly negative axis against rank; throws ValueError when out of range.
int normalize_axis(int axis, int rank);

// Row-major strides in elements.
std::vector<int64_t> strides_of(const Shape& shape);

// NumPy broadcasting of two shapes; throws ValueError naming both when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b);

// Dimension-wise compatibility where kNone matches anything.
bool shapes_compatible(const Shape& a, const Shape& b);

}  // namespace minidl
