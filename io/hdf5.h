// io/hdf5.h — a small RAII layer over the HDF5 C library, the ground floor of the
// Keras `.h5` / `.weights.h5` readers and writers.
//
//   h5::H5File f = h5::H5File::open_read("model.h5");
//   h5::Group mw = f.root().open_group("model_weights");
//   for (const std::string& layer : mw.read_string_array_attr("layer_names")) {
//     h5::Group g = mw.open_group(layer);
//     for (const std::string& w : g.read_string_array_attr("weight_names"))
//       Tensor t = g.open_dataset(w).read_tensor();   // "conv2d/kernel:0" -> nested groups
//   }
//
// Errors. Every failure (missing file, not HDF5, truncated, missing object, wrong type,
// wrong shape) is an IOError whose message names the file and the object path inside it,
// then what went wrong, then the descriptions HDF5 put on its error stack, e.g.
//   model.h5: /model_weights/conv2d/conv2d/kernel:0: expected float dataset of shape (3, 3, 1, 32), found (3, 3, 32)
//   bad.h5: /: cannot open as HDF5 (HDF5: unable to open file; file signature not found)
// HDF5's automatic error printing is switched off: nothing is written to stderr.
//
// Handles. Groups, datasets and attributes own one HDF5 id each and release it when the
// last copy goes away (copies share the id). An object keeps its file open, so handles may
// outlive the H5File they came from. This header does not include <hdf5.h>: ids are held
// as int64_t (HDF5's hid_t). Only io/hdf5_internal.h, private to io/hdf5*.cpp, includes <hdf5.h>.
//
// Strings are returned as raw bytes (ASCII or UTF-8 alike); fixed-length strings lose their
// padding (trailing NULs, or trailing spaces for space-padded types).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/shape.h"
#include "core/tensor.h"

namespace minidl::h5 {

// Refuse to allocate for datasets larger than this many elements (8 GiB of float32).
inline constexpr int64_t kMaxReadElements = int64_t{1} << 31;

// What kind of values a dataset or attribute holds.
enum class TypeClass { kFloat, kInteger, kString, kOther };

// Storage types the writers offer (little-endian IEEE floats, two's complement integers).
enum class DType { kFloat16, kFloat32, kFloat64, kInt8, kUInt8, kInt32, kInt64 };

// Listing order of a group's children.
enum class Order {
  kName,      // byte-wise alphabetical, as h5py and h5ls list them
  kCreation,  // creation order when the group tracks it (minidl-written files do), else kName
};

namespace detail {
// Owns one reference to an HDF5 id of any kind; copying adds a reference.
class Handle {
 public:
  Handle() = default;
  explicit Handle(int64_t id) : id_(id) {}
  Handle(const Handle& other);
  Handle& operator=(const Handle& other);
  Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  ~Handle() { reset(); }
  int64_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  int64_t id_ = -1;
};
}  // namespace detail

class Attribute;
class Group;
class Dataset;

// Something attributes hang on: a group or a dataset.
class Object {
 public:
  // Absolute path inside the file, "/" for the root.
  const std::string& path() const { return path_; }
  // The file's display name (the path it was opened with, or the in-memory name).
  const std::string& file_name() const { return *file_; }

  bool has_attr(const std::string& name) const;
  // Attribute names in name order.
  std::vector<std::string> attr_names() const;
  // IOError when the attribute does not exist.
  Attribute attr(const std::string& name) const;

  // Shorthands for attr(name).read_...(); see Attribute for what each accepts.
  std::string read_string_attr(const std::string& name) const;
  std::vector<std::string> read_string_array_attr(const std::string& name) const;
  double read_double_attr(const std::string& name) const;
  int64_t read_int_attr(const std::string& name) const;

  // Writers replace an existing attribute of the same name. IOError on HDF5 failure.
  // Scalar variable-length UTF-8 string (what h5py writes for a Python str).
  void write_string_attr(const std::string& name, const std::string& value) const;
  // Scalar fixed-length NULL-padded ASCII string (h5py's bytes / numpy.bytes_).
  void write_fixed_string_attr(const std::string& name, const std::string& value) const;
  // 1-D array of fixed-length NULL-padded strings S<maxlen> (Keras's layer_names and
  // weight_names). An empty list is written as the empty float64 array, as h5py does.
  void write_string_array_attr(const std::string& name, const std::vector<std::string>& values) const;
  // Float64 array of shape (0,) (h5py's empty list; Keras's weight_names of a weightless layer).
  void write_empty_array_attr(const std::string& name) const;
  // Scalar number; `stored` must be a float type for doubles (ValueError otherwise).
  void write_double_attr(const std::string& name, double value, DType stored = DType::kFloat64) const;
  void write_int_attr(const std::string& name, int64_t value) const;  // int64

 protected:
  Object(detail::Handle id, std::shared_ptr<const std::string> file, std::string path);
  // "<file>: <path>: <what>", plus HDF5's error stack when with_stack.
  [[noreturn]] void fail(const std::string& what, bool with_stack = true) const;
  // Absolute, normalised path of `rel` seen from this object.
  std::string child_path(const std::string& rel) const;
  // Creates (replacing) attribute `name` from HDF5 type/space ids and a buffer.
  void put_attr(const std::string& name, int64_t file_type, int64_t space, int64_t mem_type, const void* buf) const;

  detail::Handle id_;
  std::shared_ptr<const std::string> file_;
  std::string path_;

  friend class Attribute;
  friend class H5File;
};

// One attribute of a group or dataset.
class Attribute {
 public:
  const std::string& name() const { return name_; }
  // () for a scalar attribute.
  Shape shape() const;
  int64_t numel() const;
  TypeClass type_class() const;
  // "float64", "int32", "string (variable-length, UTF-8)", "string (fixed-length 15, ASCII)", ...
  std::string type_name() const;

  // A string, fixed- or variable-length, scalar or single-element array. IOError otherwise.
  std::string read_string() const;
  // All elements of a string attribute (any rank, flattened). An empty numeric array (the
  // empty float64 array h5py writes for []) reads as an empty list. IOError otherwise.
  std::vector<std::string> read_strings() const;
  // All elements of an int or float attribute, converted. IOError for other types.
  std::vector<double> read_doubles() const;
  // All elements of an integer attribute. IOError for floats and other types.
  std::vector<int64_t> read_ints() const;
  // The value of a scalar or single-element numeric attribute. IOError otherwise.
  double read_double() const;
  int64_t read_int() const;

 private:
  Attribute(const Object& owner, detail::Handle id, std::string name);
  [[noreturn]] void fail(const std::string& what, bool with_stack = true) const;
  void require_single(const char* kind) const;
  // Its HDF5 type; IOError when HDF5 cannot open it.
  detail::Handle type() const;

  detail::Handle id_;
  std::shared_ptr<const std::string> file_;
  std::string path_;  // of the owner
  std::string name_;

  friend class Object;
};

// A dataset: an n-dimensional array of numbers (or, rarely, strings).
class Dataset : public Object {
 public:
  // () for a scalar dataset; (0,) for one with a null dataspace.
  Shape shape() const;
  int64_t numel() const;
  TypeClass type_class() const;
  std::string type_name() const;  // as Attribute::type_name
  // True when the dataset carries HDF5's Fletcher-32 checksum filter (every non-empty,
  // non-scalar dataset minidl writes does); libhdf5 then verifies the data on every read
  // and a mismatch is an IOError naming the file and the dataset.
  bool has_checksum() const;

  // The values as float32, converted by HDF5 from any int or float storage (float16,
  // float64, int64 ...). IOError, before allocating, for non-numeric data, more than
  // max_elements elements, contiguous data that would end past the end of the file, or a
  // result or chunk larger than the read budget (core/memory.h max_read_bytes); IOError
  // when HDF5 cannot read the data.
  Tensor read_tensor(int64_t max_elements = kMaxReadElements) const;
  // As above, and IOError unless the dataset's shape equals `expected`.
  Tensor read_tensor(const Shape& expected, int64_t max_elements = kMaxReadElements) const;
  // The value of a scalar or single-element numeric dataset. IOError otherwise.
  double read_scalar() const;

 private:
  using Object::Object;
  // Its HDF5 type; IOError when HDF5 cannot open it.
  detail::Handle type() const;
  // IOError, naming the dataset, the declared shape and bytes and the limit, when the data
  // of a dataset of shape `s` (n elements) cannot be in the file or exceeds the read budget.
  void check_declared_size(const Shape& s, int64_t n) const;
  friend class Group;
};

// A group: a directory of groups and datasets. Paths given to its methods are relative
// to it ("conv2d/kernel:0" crosses one subgroup) or absolute ("/model_weights").
class Group : public Object {
 public:
  // Names of the direct children.
  std::vector<std::string> children(Order order = Order::kName) const;
  // False for missing objects and for paths whose intermediate components are missing.
  bool exists(const std::string& rel) const;
  bool is_group(const std::string& rel) const;
  bool is_dataset(const std::string& rel) const;

  // IOError when missing or of the other kind.
  Group open_group(const std::string& rel) const;
  Dataset open_dataset(const std::string& rel) const;

  // Creates a group and any missing intermediate groups (tracking creation order).
  // IOError when it already exists or an intermediate is a dataset.
  Group create_group(const std::string& rel) const;
  // Opens the group, creating it (and intermediates) when missing.
  Group require_group(const std::string& rel) const;

  // Writes a dataset holding the tensor (shape = tensor's shape, or `shape`, which must
  // have the same element count — ValueError otherwise), stored as `stored`. Non-empty
  // arrays are chunked (one chunk up to 1 GiB) with the Fletcher-32 checksum filter;
  // scalars and empty arrays, which HDF5 cannot chunk, are contiguous without a checksum.
  // Missing intermediate groups are created. IOError when the name already exists.
  Dataset write_tensor(const std::string& rel, const Tensor& value, DType stored = DType::kFloat32) const;
  Dataset write_tensor(const std::string& rel, const Tensor& value, const Shape& shape,
                       DType stored = DType::kFloat32) const;
  // A scalar (shape ()) numeric dataset.
  Dataset write_scalar(const std::string& rel, double value, DType stored = DType::kFloat64) const;
  // A scalar variable-length UTF-8 string dataset (tools and tests; Keras does not need it).
  Dataset write_string_dataset(const std::string& rel, const std::string& value) const;

 private:
  using Object::Object;
  Group create_child_group(const std::string& name) const;
  Group walk_create(const std::string& rel, bool must_be_new) const;
  Dataset make_dataset(const std::string& rel, int64_t file_type, int64_t space, int64_t mem_type,
                       const void* buf) const;
  friend class H5File;
};

// An open HDF5 file. Move-only; the destructor closes it (ignoring errors: call close()
// to see them when writing).
class H5File {
 public:
  // Opens an existing file read-only. IOError when missing, empty, not HDF5 or truncated.
  static H5File open_read(const std::string& path);
  // Creates (truncating) a file for writing. Groups track creation order.
  static H5File create(const std::string& path);
  // Opens a file image held in memory (e.g. `model.weights.h5` inside a `.keras` zip), read-only.
  // The bytes are copied; `display_name` is used in error messages only. Uses HDF5's core
  // driver with a file image (plain C API, no hdf5_hl). IOError as open_read.
  static H5File open_from_memory(std::span<const uint8_t> image, const std::string& display_name);
  // Creates an empty file that lives only in memory; get its bytes with image().
  static H5File create_in_memory(const std::string& display_name);

  H5File(H5File&&) noexcept = default;
  H5File& operator=(H5File&&) noexcept;
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;
  ~H5File();

  Group root() const;
  const std::string& name() const { return *file_; }
  // Flushes, then returns the whole file's bytes. IOError on failure or after close().
  std::vector<uint8_t> image() const;
  // Flushes and closes; idempotent. IOError when flushing fails (e.g. disk full).
  void close();

 private:
  H5File(detail::Handle id, std::shared_ptr<const std::string> file) : id_(std::move(id)), file_(std::move(file)) {}
  static H5File create_impl(const std::string& real_name, const std::string& display_name, bool in_memory);
  static H5File open_impl(const std::string& real_name, const std::string& display_name, int64_t fapl);
  detail::Handle id_;
  std::shared_ptr<const std::string> file_;
};

// "float32" etc. for a DType.
std::string dtype_name(DType t);

}  // namespace minidl::h5
