// core/shape.h — shapes as short lists of dimensions.
//
// A Shape is a list of int64 dimensions, row-major. Symbolic shapes (the shapes
// of Keras tensors before data flows) may hold kNone = -1 for an unknown
// dimension, usually the batch: (None, 28, 28, 1). Concrete tensors never do.
//
// Shape behaves like std::vector<int64_t> (brace-init, size(), [], iterators,
// push_back, insert, erase, comparisons, conversion to and from a vector), but
// keeps up to kInlineDims dimensions inside the object. Every Tensor holds a
// Shape and tensors are copied all the time (views, closures on the tape,
// gradients), so a heap-backed vector there made several allocations per
// operation; with the dimensions inline, copying a shape of rank <= 6 never
// allocates. Higher ranks still work: they spill to the heap.
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

namespace minidl {

class Shape {
 public:
  using value_type = int64_t;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = int64_t&;
  using const_reference = const int64_t&;
  using pointer = int64_t*;
  using const_pointer = const int64_t*;
  using iterator = int64_t*;
  using const_iterator = const int64_t*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  static constexpr size_type kInlineDims = 6;

  Shape() noexcept = default;
  explicit Shape(size_type n, int64_t value = 0) { assign(n, value); }
  Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), dims.end()); }
  template <class It, class = typename std::iterator_traits<It>::iterator_category>
  Shape(It first, It last) {
    assign(first, last);
  }
  Shape(const std::vector<int64_t>& dims) { assign(dims.begin(), dims.end()); }  // NOLINT: a vector is a shape
  Shape(const Shape& other) { assign(other.begin(), other.end()); }
  Shape(Shape&& other) noexcept { steal(other); }
  Shape& operator=(const Shape& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  Shape& operator=(Shape&& other) noexcept {
    if (this != &other) {
      release();
      steal(other);
    }
    return *this;
  }
  Shape& operator=(std::initializer_list<int64_t> dims) {
    assign(dims.begin(), dims.end());
    return *this;
  }
  ~Shape() { release(); }

  operator std::vector<int64_t>() const { return {begin(), end()}; }  // NOLINT: for vector-typed APIs

  // --- size and access -------------------------------------------------------
  size_type size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_type capacity() const noexcept { return cap_; }
  int64_t* data() noexcept { return data_; }
  const int64_t* data() const noexcept { return data_; }
  int64_t& operator[](size_type i) { return data_[i]; }
  const int64_t& operator[](size_type i) const { return data_[i]; }
  // Bounds-checked access: std::out_of_range past size(), as std::vector's.
  int64_t& at(size_type i) { return data_[checked(i)]; }
  const int64_t& at(size_type i) const { return data_[checked(i)]; }
  int64_t& front() { return data_[0]; }
  const int64_t& front() const { return data_[0]; }
  int64_t& back() { return data_[size_ - 1]; }
  const int64_t& back() const { return data_[size_ - 1]; }

  iterator begin() noexcept { return data_; }
  iterator end() noexcept { return data_ + size_; }
  const_iterator begin() const noexcept { return data_; }
  const_iterator end() const noexcept { return data_ + size_; }
  const_iterator cbegin() const noexcept { return data_; }
  const_iterator cend() const noexcept { return data_ + size_; }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }

  // --- modifiers (as std::vector's) --------------------------------------------
  void clear() noexcept { size_ = 0; }
  void reserve(size_type n);
  void resize(size_type n, int64_t value = 0);
  void assign(size_type n, int64_t value);
  template <class It, class = typename std::iterator_traits<It>::iterator_category>
  void assign(It first, It last) {
    const auto n = static_cast<size_type>(std::distance(first, last));
    size_ = 0;
    reserve(n);
    std::copy(first, last, data_);
    size_ = static_cast<uint32_t>(n);
  }
  void push_back(int64_t d) {
    if (size_ == cap_) reserve(size_ + size_ / 2 + 1);
    data_[size_++] = d;
  }
  void emplace_back(int64_t d) { push_back(d); }
  void pop_back() { --size_; }
  void swap(Shape& other) noexcept {
    Shape t = std::move(other);
    other = std::move(*this);
    *this = std::move(t);
  }
  iterator insert(const_iterator pos, int64_t d) { return insert(pos, &d, &d + 1); }
  template <class It, class = typename std::iterator_traits<It>::iterator_category>
  iterator insert(const_iterator pos, It first, It last) {
    // Copies the range first: it may point into this shape.
    const Shape items(first, last);
    const auto at = static_cast<size_type>(pos - data_);
    reserve(size_ + items.size());
    std::copy_backward(data_ + at, data_ + size_, data_ + size_ + items.size());
    std::copy(items.begin(), items.end(), data_ + at);
    size_ += items.size_;
    return data_ + at;
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last);

  friend bool operator==(const Shape& a, const Shape& b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend std::strong_ordering operator<=>(const Shape& a, const Shape& b) noexcept {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  size_type checked(size_type i) const;  // i, or std::out_of_range
  void release() noexcept;
  void steal(Shape& other) noexcept;

  int64_t* data_ = inline_;
  uint32_t size_ = 0;
  uint32_t cap_ = kInlineDims;
  int64_t inline_[kInlineDims] = {};
};

inline constexpr int64_t kNone = -1;  // Keras's None: an unknown dimension

// Number of elements; throws ValueError if any dimension is unknown or negative, or when
// the product does not fit in int64 (a Tensor of such a shape could never exist).
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
