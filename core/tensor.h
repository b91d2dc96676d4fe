// core/tensor.h — the n-dimensional float32 array everything else is built on.
//
// A Tensor is a shape plus a pointer into shared, 64-byte-aligned storage.
// Copying a Tensor is cheap and shares the storage (like a NumPy view or a
// torch::Tensor); clone() makes a deep copy. Storage is always contiguous and
// row-major (C order), so a Tensor is fully described by (storage, offset, shape).
// reshape() and slice_rows() return views sharing storage.
//
//   Tensor x = Tensor::zeros({2, 3});     // [[0,0,0],[0,0,0]]
//   x.at({1, 2}) = 5.f;
//   Tensor y = x.reshape({3, 2});         // same storage
//   Tensor z = x.clone();                 // independent copy
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/memory.h"  // aligned_floats: tensor storage and workspaces
#include "core/shape.h"

namespace minidl {

class Tensor {
 public:
  // An empty tensor: shape (0,), no storage. defined() is false.
  Tensor();

  // Uninitialised storage of the given (fully defined) shape.
  explicit Tensor(const Shape& shape);

  // --- factories -----------------------------------------------------------
  static Tensor empty(const Shape& shape);  // uninitialised
  static Tensor zeros(const Shape& shape);
  static Tensor ones(const Shape& shape);
  static Tensor full(const Shape& shape, float value);
  static Tensor scalar(float value);  // shape ()
  // Copies data; throws ValueError if data.size() != numel(shape).
  static Tensor from_data(const Shape& shape, std::span<const float> data);
  static Tensor from_data(const Shape& shape, std::initializer_list<float> data);
  // Random factories draw from the global generator (core/random.h).
  static Tensor uniform(const Shape& shape, float low = 0.f, float high = 1.f);
  static Tensor normal(const Shape& shape, float mean = 0.f, float stddev = 1.f);
  // 0, 1, 2, ... n-1 as floats.
  static Tensor arange(const Shape& shape);

  // --- shape ---------------------------------------------------------------
  bool defined() const { return static_cast<bool>(storage_); }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int axis) const;  // negative axes count from the end
  int64_t numel() const { return numel_; }

  // --- data ----------------------------------------------------------------
  float* data() { return storage_.get() + offset_; }
  const float* data() const { return storage_.get() + offset_; }
  std::span<float> span() { return {data(), static_cast<size_t>(numel_)}; }
  std::span<const float> span() const { return {data(), static_cast<size_t>(numel_)}; }
  std::vector<float> to_vector() const { return {data(), data() + numel_}; }

  float& operator[](int64_t flat) { return data()[flat]; }
  float operator[](int64_t flat) const { return data()[flat]; }
  // Multi-index access with bounds checks (ValueError).
  float& at(std::initializer_list<int64_t> index);
  float at(std::initializer_list<int64_t> index) const;
  // The single value of a one-element tensor (ValueError otherwise).
  float item() const;

  // --- views and copies ----------------------------------------------------
  // Same storage, new shape; one dimension may be -1 (inferred). ValueError on size mismatch.
  Tensor reshape(const Shape& shape) const;
  // Rows [begin, end) of the first axis, sharing storage.
  Tensor slice_rows(int64_t begin, int64_t end) const;
  Tensor clone() const;
  // Copies other's values into this tensor's storage (shapes must have equal numel).
  void copy_from(const Tensor& other);
  void fill(float value);
  // True when both tensors view the same storage.
  bool shares_storage(const Tensor& other) const { return storage_ == other.storage_; }

  // Debug printing: "Tensor(shape=(2, 3), [[0, 1, 2], [3, 4, 5]])", elided past 6 per axis.
  std::string to_string() const;

 private:
  int64_t flat_index(std::initializer_list<int64_t> index) const;

  std::shared_ptr<float[]> storage_;
  int64_t offset_ = 0;
  Shape shape_;
  int64_t numel_ = 0;
};

// Maximum absolute elementwise difference; ValueError on shape mismatch.
float max_abs_diff(const Tensor& a, const Tensor& b);


}  // namespace minidl

template <>
struct fmt::formatter<minidl::Tensor> : fmt::formatter<std::string> {
  auto format(const minidl::Tensor& t, format_context& ctx) const {
    return fmt::formatter<std::string>::format(t.to_string(), ctx);
  }
};
