// core/tensor.cpp — Tensor's storage, views and element access (core/tensor.h).
#include "core/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/errors.h"
#include "core/memory.h"
#include "core/random.h"

namespace minidl {

Tensor::Tensor() : shape_{0}, numel_(0) {}

Tensor::Tensor(const Shape& shape) : shape_(shape), numel_(minidl::numel(shape)) {
  storage_ = aligned_floats(numel_);
}

Tensor Tensor::empty(const Shape& shape) { return Tensor(shape); }

Tensor Tensor::zeros(const Shape& shape) { return full(shape, 0.f); }
Tensor Tensor::ones(const Shape& shape) { return full(shape, 1.f); }

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t(shape);
  t.fill(value);
  return t;
}

Tensor Tensor::scalar(float value) { return full({}, value); }

Tensor Tensor::from_data(const Shape& shape, std::span<const float> data) {
  Tensor t(shape);
  MINIDL_CHECK(static_cast<int64_t>(data.size()) == t.numel_, ValueError,
               "Tensor::from_data: shape {} needs {} values, received {}", shape_str(shape), t.numel_,
               data.size());
  std::copy(data.begin(), data.end(), t.data());
  return t;
}

Tensor Tensor::from_data(const Shape& shape, std::initializer_list<float> data) {
  return from_data(shape, std::span<const float>(data.begin(), data.size()));
}

Tensor Tensor::uniform(const Shape& shape, float low, float high) {
  Tensor t(shape);
  random_uniform(t.span(), low, high);
  return t;
}

Tensor Tensor::normal(const Shape& shape, float mean, float stddev) {
  Tensor t(shape);
  random_normal(t.span(), mean, stddev);
  return t;
}

Tensor Tensor::arange(const Shape& shape) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel_; ++i) t[i] = static_cast<float>(i);
  return t;
}

int64_t Tensor::dim(int axis) const { return shape_[normalize_axis(axis, rank())]; }

int64_t Tensor::flat_index(std::initializer_list<int64_t> index) const {
  MINIDL_CHECK(static_cast<int>(index.size()) == rank(), ValueError,
               "Tensor::at: {} indices for a tensor of shape {}", index.size(), shape_str(shape_));
  int64_t flat = 0;
  size_t i = 0;
  for (int64_t v : index) {
    MINIDL_CHECK(v >= 0 && v < shape_[i], ValueError, "Tensor::at: index {} out of range for axis {} of shape {}", v,
                 i, shape_str(shape_));
    flat = flat * shape_[i] + v;
    ++i;
  }
  return flat;
}

float& Tensor::at(std::initializer_list<int64_t> index) { return data()[flat_index(index)]; }
float Tensor::at(std::initializer_list<int64_t> index) const { return data()[flat_index(index)]; }

float Tensor::item() const {
  MINIDL_CHECK(numel_ == 1, ValueError, "Tensor::item: tensor of shape {} has {} elements, expected 1",
               shape_str(shape_), numel_);
  return data()[0];
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape s = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      MINIDL_CHECK(infer < 0, ValueError, "reshape: more than one -1 in {}", shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      MINIDL_CHECK(s[i] >= 0, ValueError, "reshape: negative dimension in {}", shape_str(shape));
      known *= s[i];
    }
  }
  if (infer >= 0) {
    MINIDL_CHECK(known > 0 && numel_ % known == 0, ValueError, "reshape: cannot reshape {} into {}",
                 shape_str(shape_), shape_str(shape));
    s[infer] = numel_ / known;
    known = numel_;
  }
  MINIDL_CHECK(known == numel_, ValueError, "reshape: cannot reshape tensor of shape {} ({} elements) into {}",
               shape_str(shape_), numel_, shape_str(shape));
  Tensor t = *this;
  t.shape_ = s;
  return t;
}

Tensor Tensor::slice_rows(int64_t begin, int64_t end) const {
  MINIDL_CHECK(rank() >= 1 && begin >= 0 && begin <= end && end <= shape_[0], ValueError,
               "slice_rows: [{}, {}) out of range for shape {}", begin, end, shape_str(shape_));
  Tensor t = *this;
  const int64_t row = shape_[0] ? numel_ / shape_[0] : 0;
  t.offset_ = offset_ + begin * row;
  t.shape_[0] = end - begin;
  t.numel_ = (end - begin) * row;
  return t;
}

Tensor Tensor::clone() const {
  if (!defined()) return Tensor();
  Tensor t(shape_);
  std::memcpy(t.data(), data(), sizeof(float) * numel_);
  return t;
}

void Tensor::copy_from(const Tensor& other) {
  MINIDL_CHECK(other.numel_ == numel_, ValueError, "copy_from: source shape {} does not match destination {}",
               shape_str(other.shape_), shape_str(shape_));
  if (numel_ && other.data() != data()) std::memmove(data(), other.data(), sizeof(float) * numel_);
}

void Tensor::fill(float value) { std::fill_n(data(), numel_, value); }

namespace {
void print_rec(std::string& out, const float* p, const Shape& s, size_t axis, const std::vector<int64_t>& st) {
  if (axis == s.size()) {
    out += fmt::format("{:.6g}", *p);
    return;
  }
  out += "[";
  const int64_t n = s[axis];
  for (int64_t i = 0; i < n; ++i) {
    if (n > 6 && i == 3) {
      out += "..., ";
      i = n - 3;
    }
    print_rec(out, p + i * st[axis], s, axis + 1, st);
    if (i + 1 < n) out += ", ";
  }
  out += "]";
}
}  // namespace

std::string Tensor::to_string() const {
  if (!defined()) return "Tensor(undefined)";
  std::string out = fmt::format("Tensor(shape={}, ", shape_str(shape_));
  print_rec(out, data(), shape_, 0, strides_of(shape_));
  return out + ")";
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  MINIDL_CHECK(a.shape() == b.shape(), ValueError, "max_abs_diff: shapes {} and {} differ", shape_str(a.shape()),
               shape_str(b.shape()));
  float m = 0.f;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const float d = std::fabs(a[i] - b[i]);
    if (!(d <= m)) m = d;  // propagates NaN
  }
  return m;
}

}  // namespace minidl
