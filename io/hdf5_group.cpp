// io/hdf5_group.cpp — Group of the RAII layer over HDF5 (io/hdf5.h): listing and opening
// children, creating groups, and writing datasets (chunked, with the Fletcher-32 checksum).
// Every group is checked before libhdf5 looks names up in it, and every object opened has
// its header's link and attribute storage checked (io/hdf5_link_storage.h).
#include <algorithm>

#include "core/errors.h"
#include "io/hdf5.h"
#include "io/hdf5_internal.h"

namespace minidl::h5 {

using namespace detail;  // the shared helpers of io/hdf5_internal.h

std::vector<std::string> Group::children(Order order) const {
  quiet();
  check_storage(id_.get(), file_, path_);
  std::vector<std::string> names;
  auto cb = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->push_back(name);
    return 0;
  };
  if (order == Order::kCreation) {
    // Only groups that track creation order have that index; others fall back to names.
    Handle gcpl(H5Gget_create_plist(id_.get()));
    unsigned flags = 0;
    if (gcpl.valid() && H5Pget_link_creation_order(gcpl.get(), &flags) >= 0 && (flags & H5P_CRT_ORDER_TRACKED) &&
        H5Literate(id_.get(), H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, cb, &names) >= 0)
      return names;
    H5Eclear2(H5E_DEFAULT);
    names.clear();
  }
  if (H5Literate(id_.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, cb, &names) < 0) fail("cannot list the group");
  return names;
}

bool Group::exists(const std::string& rel) const {
  quiet();
  // Checked one component at a time: HDF5 reports a missing intermediate as an error. Each
  // group on the way has its link storage checked before libhdf5 looks a name up in it.
  const bool absolute = !rel.empty() && rel[0] == '/';
  if (absolute)
    check_storage_at(id_.get(), "/", file_, "/");
  else
    check_storage(id_.get(), file_, path_);
  std::string prefix = absolute ? "/" : "";
  const std::vector<std::string> parts = split_path(rel);
  for (size_t i = 0; i < parts.size(); ++i) {
    prefix += (prefix.empty() || prefix == "/" ? "" : "/") + parts[i];
    if (H5Lexists(id_.get(), prefix.c_str(), H5P_DEFAULT) <= 0 ||
        H5Oexists_by_name(id_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    if (i + 1 < parts.size()) check_storage_at(id_.get(), prefix, file_, child_path(prefix));
  }
  return true;
}

namespace {
// H5I_GROUP / H5I_DATASET / ... of an existing object, H5I_BADID when it cannot be opened.
H5I_type_t kind_of(hid_t loc, const std::string& rel) {
  Handle h(H5Oopen(loc, rel.empty() ? "." : rel.c_str(), H5P_DEFAULT));
  if (!h.valid()) return H5Eclear2(H5E_DEFAULT), H5I_BADID;
  return H5Iget_type(h.get());
}
const char* kind_name(H5I_type_t t) {
  return t == H5I_GROUP ? "group" : t == H5I_DATASET ? "dataset" : t == H5I_DATATYPE ? "named datatype" : "object";
}
}  // namespace

bool Group::is_group(const std::string& rel) const { return exists(rel) && kind_of(id_.get(), rel) == H5I_GROUP; }
bool Group::is_dataset(const std::string& rel) const { return exists(rel) && kind_of(id_.get(), rel) == H5I_DATASET; }

Group Group::open_group(const std::string& rel) const {
  const std::string full = child_path(rel);
  if (!exists(rel)) fail_at(*file_, full, "no such group", false);
  Handle h(H5Oopen(id_.get(), rel.empty() ? "." : rel.c_str(), H5P_DEFAULT));
  if (!h.valid()) fail_at(*file_, full, "cannot open", true);
  const H5I_type_t t = H5Iget_type(h.get());
  if (t != H5I_GROUP) fail_at(*file_, full, fmt::format("expected a group, found a {}", kind_name(t)), false);
  check_storage(h.get(), file_, full);
  return Group(std::move(h), file_, full);
}

Dataset Group::open_dataset(const std::string& rel) const {
  const std::string full = child_path(rel);
  if (!exists(rel)) fail_at(*file_, full, "no such dataset", false);
  Handle h(H5Oopen(id_.get(), rel.c_str(), H5P_DEFAULT));
  if (!h.valid()) fail_at(*file_, full, "cannot open", true);
  const H5I_type_t t = H5Iget_type(h.get());
  if (t != H5I_DATASET) fail_at(*file_, full, fmt::format("expected a dataset, found a {}", kind_name(t)), false);
  check_storage(h.get(), file_, full);  // its attribute storage
  return Dataset(std::move(h), file_, full);
}

Group Group::create_child_group(const std::string& name) const {
  Handle gcpl(H5Pcreate(H5P_GROUP_CREATE));
  H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  const std::string full = child_path(name);
  Handle g(H5Gcreate2(id_.get(), name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT));
  if (!g.valid()) fail_at(*file_, full, "cannot create group", true);
  return Group(std::move(g), file_, full);
}

Group Group::walk_create(const std::string& rel, bool must_be_new) const {
  quiet();
  const auto parts = split_path(rel);
  Group cur = !rel.empty() && rel[0] == '/' ? open_group("/") : *this;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!cur.exists(parts[i])) {
      cur = cur.create_child_group(parts[i]);
    } else if (must_be_new && i + 1 == parts.size()) {
      fail_at(*file_, cur.child_path(parts[i]), "already exists", false);
    } else {
      cur = cur.open_group(parts[i]);  // IOError when it is a dataset
    }
  }
  return cur;
}

Group Group::create_group(const std::string& rel) const { return walk_create(rel, true); }
Group Group::require_group(const std::string& rel) const { return walk_create(rel, false); }

namespace {

// Largest chunk a written dataset gets: HDF5 refuses chunks of 4 GiB or more, and a read
// holds one whole chunk in memory while its checksum is verified.
constexpr hsize_t kMaxChunkBytes = hsize_t{1} << 30;

// The creation properties of a dataset minidl writes: chunked with HDF5's Fletcher-32
// filter, so that libhdf5 verifies every chunk when it is read (legacy HDF5 has no other
// checksum; h5py and Keras read such datasets transparently). One chunk covers the whole
// array up to kMaxChunkBytes; larger arrays are split along their leading axes. Scalars and
// empty datasets cannot be chunked and keep the default contiguous layout. Invalid handle
// on HDF5 failure.
Handle checksummed_layout(hid_t space, hid_t type) {
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (!dcpl.valid()) return dcpl;
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank <= 0 || H5Sget_simple_extent_npoints(space) <= 0) return dcpl;
  std::vector<hsize_t> chunk(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space, chunk.data(), nullptr);
  const size_t elem = std::max<size_t>(H5Tget_size(type), 1);
  auto chunk_bytes = [&] {
    hsize_t n = elem;
    for (hsize_t d : chunk) n = d > 0 && n > kMaxChunkBytes / d ? kMaxChunkBytes + 1 : n * d;
    return n;
  };
  for (hsize_t& d : chunk)
    while (chunk_bytes() > kMaxChunkBytes && d > 1) d = (d + 1) / 2;
  if (H5Pset_chunk(dcpl.get(), rank, chunk.data()) < 0 || H5Pset_fletcher32(dcpl.get()) < 0) return Handle();
  return dcpl;
}

}  // namespace

Dataset Group::make_dataset(const std::string& rel, int64_t file_type, int64_t space, int64_t mem_type,
                            const void* buf) const {
  quiet();
  const std::string full = child_path(rel);
  auto parts = split_path(rel);
  if (parts.empty()) fail_at(*file_, full, "a dataset needs a name", false);
  const std::string leaf = parts.back();
  parts.pop_back();
  const bool absolute = !rel.empty() && rel[0] == '/';
  std::string parent_rel = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) parent_rel += (i ? "/" : "") + parts[i];
  const Group parent = parent_rel.empty() ? *this : require_group(parent_rel);
  if (parent.exists(leaf)) fail_at(*file_, full, "already exists", false);
  const Handle dcpl = checksummed_layout(space, file_type);
  if (!dcpl.valid()) fail_at(*file_, full, "cannot set up the chunked, Fletcher-32 checksummed layout", true);
  Handle ds(H5Dcreate2(parent.id_.get(), leaf.c_str(), file_type, space, H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
  if (!ds.valid()) fail_at(*file_, full, "cannot create dataset", true);
  if (buf && H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
    fail_at(*file_, full, "cannot write dataset", true);
  return Dataset(std::move(ds), file_, full);
}

Dataset Group::write_tensor(const std::string& rel, const Tensor& value, DType stored) const {
  return write_tensor(rel, value, value.shape(), stored);
}

Dataset Group::write_tensor(const std::string& rel, const Tensor& value, const Shape& shape, DType stored) const {
  MINIDL_CHECK(checked_numel(shape) == value.numel(), ValueError,
               "write_tensor '{}': shape {} does not hold the tensor's {} elements (tensor shape {})", rel,
               shape_str(shape), value.numel(), shape_str(value.shape()));
  quiet();
  Handle type = file_type(stored);
  Handle space = simple_space(shape);
  if (!space.valid())
    fail_at(*file_, child_path(rel), fmt::format("cannot make a dataspace of shape {}", shape_str(shape)), true);
  return make_dataset(rel, type.get(), space.get(), H5T_NATIVE_FLOAT, value.numel() > 0 ? value.data() : nullptr);
}

Dataset Group::write_scalar(const std::string& rel, double value, DType stored) const {
  quiet();
  Handle type = file_type(stored);
  Handle space(H5Screate(H5S_SCALAR));
  return make_dataset(rel, type.get(), space.get(), H5T_NATIVE_DOUBLE, &value);
}

Dataset Group::write_string_dataset(const std::string& rel, const std::string& value) const {
  quiet();
  Handle type = string_type(true, 0, H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR));
  const char* p = value.c_str();
  return make_dataset(rel, type.get(), space.get(), type.get(), &p);
}

}  // namespace minidl::h5
