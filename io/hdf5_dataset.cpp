// io/hdf5_dataset.cpp — Dataset of the RAII layer over HDF5 (io/hdf5.h): shape, type,
// checksum filter, and reading values as float32 after checking that the declared size
// can be in the file and fits the read budget.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/errors.h"
#include "core/memory.h"
#include "io/hdf5.h"
#include "io/hdf5_internal.h"

namespace minidl::h5 {

using namespace detail;  // the shared helpers of io/hdf5_internal.h

Shape Dataset::shape() const {
  Shape s;
  if (!space_shape(H5Dget_space, id_.get(), &s)) fail("cannot read the dataset's dataspace");
  return s;
}

int64_t Dataset::numel() const {
  const Shape s = shape();
  const int64_t n = checked_numel(s);
  if (n < 0) fail(fmt::format("absurd dataset shape {}", shape_str(s)), false);
  return n;
}

Handle Dataset::type() const {
  quiet();
  Handle type(H5Dget_type(id_.get()));
  if (!type.valid()) fail("cannot read the dataset's type");
  return type;
}

TypeClass Dataset::type_class() const { return class_of(type().get()); }

std::string Dataset::type_name() const { return name_of(type().get()); }

bool Dataset::has_checksum() const {
  quiet();
  Handle dcpl(H5Dget_create_plist(id_.get()));
  if (!dcpl.valid()) fail("cannot read the dataset's creation properties");
  unsigned flags = 0;
  size_t nvalues = 0;
  const bool found = H5Pget_filter_by_id2(dcpl.get(), H5Z_FILTER_FLETCHER32, &flags, &nvalues, nullptr, 0, nullptr,
                                          nullptr) >= 0;
  H5Eclear2(H5E_DEFAULT);  // an absent filter is reported as an error
  return found;
}

// A dataset's header declares its shape in a few bytes; before anything is allocated for
// it the declaration must be possible. Contiguous data is stored raw at one offset, so it
// must end inside the file (a data address of HADDR_UNDEF means never written: HDF5 returns
// fill values). Chunked data may be compressed, so its size is not bounded by the file's;
// one chunk is what HDF5 allocates per read step. The float32 result and a chunk must each
// fit the read budget (core/memory.h max_read_bytes).
void Dataset::check_declared_size(const Shape& s, int64_t n) const {
  quiet();
  const int64_t budget = max_read_bytes();
  const int64_t bytes = n > std::numeric_limits<int64_t>::max() / 4 ? std::numeric_limits<int64_t>::max() : n * 4;
  if (bytes > budget)
    fail(fmt::format("dataset of shape {} needs {} bytes as float32, more than the read budget of {} bytes (half of "
                     "physical memory; set MINIDL_MAX_READ_BYTES to change it)",
                     shape_str(s), bytes, budget),
         false);
  Handle dcpl(H5Dget_create_plist(id_.get()));
  Handle type(H5Dget_type(id_.get()));
  const size_t elem = type.valid() ? H5Tget_size(type.get()) : 0;
  if (!dcpl.valid() || elem == 0) fail("cannot read the dataset's layout and type");
  const H5D_layout_t layout = H5Pget_layout(dcpl.get());
  if (layout == H5D_CONTIGUOUS && H5Pget_external_count(dcpl.get()) == 0) {
    const haddr_t offset = H5Dget_offset(id_.get());
    Handle file(H5Iget_file_id(id_.get()));
    hsize_t file_size = 0;
    if (offset != HADDR_UNDEF && file.valid() && H5Fget_filesize(file.get(), &file_size) >= 0) {
      const uint64_t room = offset < file_size ? file_size - offset : 0;
      if (static_cast<uint64_t>(n) > room / elem)
        fail(fmt::format("dataset of shape {} declares {} bytes of contiguous data at file offset {}, but the file "
                         "has {} bytes: the file is truncated or its header is corrupt",
                         shape_str(s), fmt::format("{} x {}", n, elem), offset, file_size),
             false);
    }
  } else if (layout == H5D_CHUNKED) {
    const int rank = H5Pget_chunk(dcpl.get(), 0, nullptr);
    std::vector<hsize_t> dims(rank > 0 ? static_cast<size_t>(rank) : 0);
    if (rank > 0 && H5Pget_chunk(dcpl.get(), rank, dims.data()) == rank) {
      uint64_t chunk = elem;
      bool over = false;
      for (hsize_t d : dims) {
        over = over || (d != 0 && chunk > static_cast<uint64_t>(budget) / d);
        chunk = over ? chunk : chunk * d;
      }
      if (over || chunk > static_cast<uint64_t>(budget)) {
        Shape chunk_shape;
        for (hsize_t d : dims) chunk_shape.push_back(static_cast<int64_t>(std::min<hsize_t>(d, INT64_MAX)));
        fail(fmt::format("dataset of shape {} has chunks of shape {} and {}-byte elements, more than the read budget "
                         "of {} bytes (half of physical memory; set MINIDL_MAX_READ_BYTES to change it)",
                         shape_str(s), shape_str(chunk_shape), elem, budget),
             false);
      }
    }
  }
  H5Eclear2(H5E_DEFAULT);
}

Tensor Dataset::read_tensor(int64_t max_elements) const {
  if (!is_numeric(type_class())) fail(fmt::format("expected a numeric dataset, found {}", type_name()), false);
  const Shape s = shape();
  const int64_t n = checked_numel(s);
  if (n < 0 || n > max_elements)
    fail(fmt::format("dataset of shape {} is too large to read (limit {} elements)", shape_str(s), max_elements),
         false);
  if (n > 0) check_declared_size(s, n);
  Tensor t(s);
  if (n > 0 && H5Dread(id_.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data()) < 0) {
    const std::string stack = hdf5_stack();  // taken first: every later HDF5 call clears it
    // The read fails only because of the checksum when it succeeds with verification off.
    if (has_checksum()) {
      Handle dxpl(H5Pcreate(H5P_DATASET_XFER));
      const bool only_checksum = dxpl.valid() && H5Pset_edc_check(dxpl.get(), H5Z_DISABLE_EDC) >= 0 &&
                                 H5Dread(id_.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, dxpl.get(), t.data()) >= 0;
      H5Eclear2(H5E_DEFAULT);
      if (only_checksum)
        fail(fmt::format("Fletcher-32 checksum mismatch: the stored data of this {} dataset of shape {} is corrupt",
                         type_name(), shape_str(s)),
             false);
    }
    fail(fmt::format("cannot read {} dataset of shape {} as float32{}", type_name(), shape_str(s),
                     stack.empty() ? "" : " (HDF5: " + stack + ")"),
         false);
  }
  return t;
}

Tensor Dataset::read_tensor(const Shape& expected, int64_t max_elements) const {
  const Shape s = shape();
  if (!is_numeric(type_class()))
    fail(fmt::format("expected float dataset of shape {}, found {} {}", shape_str(expected), shape_str(s), type_name()),
         false);
  if (s != expected)
    fail(fmt::format("expected float dataset of shape {}, found {}", shape_str(expected), shape_str(s)), false);
  return read_tensor(max_elements);
}

double Dataset::read_scalar() const {
  if (!is_numeric(type_class()) || numel() != 1)
    fail(fmt::format("expected a single number, found {} of shape {}", type_name(), shape_str(shape())), false);
  double v = 0;
  if (H5Dread(id_.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0) fail("cannot read the value");
  return v;
}

}  // namespace minidl::h5
