// core/shape.cpp — shape arithmetic and printing (core/shape.h).
#include "core/shape.h"

#include <fmt/format.h>

#include <limits>
#include <stdexcept>

#include "core/errors.h"

namespace minidl {

// --- Shape storage -------------------------------------------------------------

Shape::size_type Shape::checked(size_type i) const {
  if (i >= size_) throw std::out_of_range(fmt::format("Shape::at: index {} out of range for rank {}", i, size_));
  return i;
}

void Shape::reserve(size_type n) {
  if (n <= cap_) return;
  auto* grown = new int64_t[n];  // rank > kInlineDims: rare, so plain new[]
  std::copy(data_, data_ + size_, grown);
  release();
  data_ = grown;
  cap_ = static_cast<uint32_t>(n);
}

void Shape::resize(size_type n, int64_t value) {
  reserve(n);
  if (n > size_) std::fill(data_ + size_, data_ + n, value);
  size_ = static_cast<uint32_t>(n);
}

void Shape::assign(size_type n, int64_t value) {
  size_ = 0;
  resize(n, value);
}

Shape::iterator Shape::erase(const_iterator first, const_iterator last) {
  auto* f = data_ + (first - data_);
  std::copy(last, cend(), f);
  size_ -= static_cast<uint32_t>(last - first);
  return f;
}

void Shape::release() noexcept {
  if (data_ != inline_) delete[] data_;
  data_ = inline_;
  cap_ = kInlineDims;
}

void Shape::steal(Shape& other) noexcept {
  if (other.data_ == other.inline_) {
    std::copy(other.inline_, other.inline_ + other.size_, inline_);
    data_ = inline_;
    cap_ = kInlineDims;
  } else {  // take the heap block
    data_ = other.data_;
    cap_ = other.cap_;
    other.data_ = other.inline_;
    other.cap_ = kInlineDims;
  }
  size_ = other.size_;
  other.size_ = 0;
}

// --- functions on shapes -------------------------------------------------------

int64_t numel(const Shape& shape) {
  bool empty = false;
  for (int64_t d : shape) {
    MINIDL_CHECK(d >= 0, ValueError, "numel: shape {} has an unknown or negative dimension", shape_str(shape));
    empty = empty || d == 0;
  }
  if (empty) return 0;  // whatever the other dimensions are
  int64_t n = 1;
  for (int64_t d : shape) {
    MINIDL_CHECK(n <= std::numeric_limits<int64_t>::max() / d, ValueError,
                 "numel: shape {} has more elements than a 64-bit count holds", shape_str(shape));
    n *= d;
  }
  return n;
}

bool is_fully_defined(const Shape& shape) {
  for (int64_t d : shape)
    if (d < 0) return false;
  return true;
}

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? std::string("None") : std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

int normalize_axis(int axis, int rank) {
  MINIDL_CHECK(axis >= -rank && axis < rank, ValueError, "axis {} is out of range for rank {}", axis, rank);
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> st(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else if (da == kNone || db == kNone) {
      out[i] = kNone;
    } else {
      raise<ValueError>("shapes {} and {} cannot be broadcast together", shape_str(a), shape_str(b));
    }
  }
  return out;
}

bool shapes_compatible(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i] && a[i] != kNone && b[i] != kNone) return false;
  return true;
}

}  // namespace minidl
