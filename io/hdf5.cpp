// io/hdf5.cpp — the RAII layer's ground: the shared helpers of io/hdf5_internal.h (error
// stack, paths, dataspaces, datatypes), id handles and H5File. Every HDF5 call's result is
// checked; failures become IOError naming file and object path plus HDF5's own error stack.
// Objects and attributes: io/hdf5_attribute.cpp; datasets: io/hdf5_dataset.cpp; groups:
// io/hdf5_group.cpp.
#include "io/hdf5.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <limits>

#include "core/errors.h"
#include "io/hdf5_internal.h"

namespace minidl::h5 {

namespace detail {

namespace {
herr_t collect_error(unsigned, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  if (e->desc && *e->desc && std::find(out->begin(), out->end(), e->desc) == out->end()) out->push_back(e->desc);
  return 0;
}
}  // namespace

void quiet() {
  thread_local bool done = false;
  if (!done) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    done = true;
  }
}

std::string hdf5_stack() {
  std::vector<std::string> msgs;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &msgs);
  H5Eclear2(H5E_DEFAULT);
  if (msgs.size() > 6) msgs.erase(msgs.begin() + 3, msgs.end() - 3);  // keep the API call and the root cause
  std::string s;
  for (const auto& m : msgs) s += (s.empty() ? "" : "; ") + m;
  return s;
}

[[noreturn]] void fail_at(const std::string& file, const std::string& path, const std::string& what, bool with_stack) {
  std::string msg = fmt::format("{}: {}: {}", file, path, what);
  const std::string stack = with_stack ? hdf5_stack() : (H5Eclear2(H5E_DEFAULT), std::string());
  if (!stack.empty()) msg += " (HDF5: " + stack + ")";
  throw IOError(msg);
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string join_path(const std::string& base, const std::vector<std::string>& parts) {
  std::string p = base == "/" ? "" : base;
  for (const auto& part : parts) p += "/" + part;
  return p.empty() ? "/" : p;
}

int64_t checked_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || (d > 0 && n > std::numeric_limits<int64_t>::max() / d))
      return -1;
    else
      n *= d;
  return n;
}

bool shape_of(hid_t space, Shape* out) {
  const H5S_class_t cls = H5Sget_simple_extent_type(space);
  if (cls == H5S_SCALAR) return out->clear(), true;
  if (cls == H5S_NULL) return *out = Shape{0}, true;
  const int rank = H5Sget_simple_extent_ndims(space);
  if (cls != H5S_SIMPLE || rank < 0) return false;
  std::vector<hsize_t> dims(rank);
  if (H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0) return false;
  out->clear();
  for (hsize_t d : dims) {
    if (d > static_cast<hsize_t>(std::numeric_limits<int64_t>::max())) return false;
    out->push_back(static_cast<int64_t>(d));
  }
  return true;
}

bool space_shape(hid_t (*get_space)(hid_t), hid_t id, Shape* out) {
  quiet();
  Handle space(get_space(id));
  return space.valid() && shape_of(space.get(), out);
}

TypeClass class_of(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      return TypeClass::kFloat;
    case H5T_INTEGER:
      return TypeClass::kInteger;
    case H5T_STRING:
      return TypeClass::kString;
    default:
      return TypeClass::kOther;
  }
}

std::string name_of(hid_t type) {
  const size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      return fmt::format("float{}", 8 * size);
    case H5T_INTEGER:
      return fmt::format("{}int{}", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", 8 * size);
    case H5T_STRING: {
      const char* cset = H5Tget_cset(type) == H5T_CSET_UTF8 ? "UTF-8" : "ASCII";
      return H5Tis_variable_str(type) > 0 ? fmt::format("string (variable-length, {})", cset)
                                          : fmt::format("string (fixed-length {}, {})", size, cset);
    }
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "vlen";
    case H5T_REFERENCE:
      return "reference";
    case H5T_BITFIELD:
      return "bitfield";
    default:
      return "unknown type";
  }
}

Handle string_type(bool variable, size_t size, H5T_cset_t cset) {
  Handle t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), variable ? H5T_VARIABLE : size);
  H5Tset_cset(t.get(), cset);
  if (!variable) H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
  return t;
}

Handle file_type(DType t) {
  switch (t) {
    case DType::kFloat16: {  // IEEE binary16: sign bit 15, 5 exponent bits at 10, 10 mantissa bits, bias 15
      Handle h(H5Tcopy(H5T_IEEE_F32LE));
      H5Tset_fields(h.get(), 15, 10, 5, 0, 10);
      H5Tset_size(h.get(), 2);
      H5Tset_ebias(h.get(), 15);
      return h;
    }
    case DType::kFloat32:
      return Handle(H5Tcopy(H5T_IEEE_F32LE));
    case DType::kFloat64:
      return Handle(H5Tcopy(H5T_IEEE_F64LE));
    case DType::kInt8:
      return Handle(H5Tcopy(H5T_STD_I8LE));
    case DType::kUInt8:
      return Handle(H5Tcopy(H5T_STD_U8LE));
    case DType::kInt32:
      return Handle(H5Tcopy(H5T_STD_I32LE));
    case DType::kInt64:
      return Handle(H5Tcopy(H5T_STD_I64LE));
  }
  return Handle();
}

Handle simple_space(const Shape& shape) {
  if (shape.empty()) return Handle(H5Screate(H5S_SCALAR));
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  return Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
}

std::string unpad(const char* p, size_t size, H5T_str_t pad) {
  std::string s(p, size);
  if (pad == H5T_STR_NULLTERM) return s.substr(0, s.find('\0'));
  const char fill = pad == H5T_STR_SPACEPAD ? ' ' : '\0';
  s.erase(s.find_last_not_of(fill) + 1);
  return s;
}

}  // namespace detail

using namespace detail;  // the shared helpers of io/hdf5_internal.h

namespace {

std::atomic<uint64_t> memory_file_counter{0};

// The core driver identifies open files by name, so each in-memory file needs a unique
// one; a directory that cannot exist keeps the driver from ever touching the disk.
std::string memory_file_name() {
  return fmt::format("/nonexistent-minidl-memory-image/{}-{}.h5", getpid(), memory_file_counter++);
}

Handle new_file_access(bool in_memory) {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  if (in_memory) H5Pset_fapl_core(fapl.get(), 1 << 16, 0);
#if H5_VERSION_GE(1, 10, 7)
  H5Pset_file_locking(fapl.get(), 1, 1);  // lock where the filesystem allows, never fail for it
#endif
  return fapl;
}

}  // namespace

// --- Handle ---------------------------------------------------------------------------

namespace detail {
Handle::Handle(const Handle& other) : id_(other.id_) {
  if (id_ >= 0) H5Iinc_ref(id_);
}
Handle& Handle::operator=(const Handle& other) {
  Handle copy(other);
  std::swap(id_, copy.id_);
  return *this;
}
Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    std::swap(id_, other.id_);
  }
  return *this;
}
void Handle::reset() {
  if (id_ >= 0) {
    quiet();
    H5Idec_ref(id_);  // closes the object (file, group, type, ...) on the last reference
    id_ = -1;
  }
}
}  // namespace detail

std::string dtype_name(DType t) {
  switch (t) {
    case DType::kFloat16:
      return "float16";
    case DType::kFloat32:
      return "float32";
    case DType::kFloat64:
      return "float64";
    case DType::kInt8:
      return "int8";
    case DType::kUInt8:
      return "uint8";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
  }
  return "unknown";
}

// --- H5File ---------------------------------------------------------------------------

H5File H5File::open_impl(const std::string& real_name, const std::string& display_name, int64_t fapl) {
  Handle f(H5Fopen(real_name.c_str(), H5F_ACC_RDONLY, fapl));
  if (!f.valid()) fail_at(display_name, "/", "cannot open as HDF5", true);
  return H5File(std::move(f), std::make_shared<const std::string>(display_name));
}

H5File H5File::open_read(const std::string& path) {
  quiet();
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail_at(path, "/", "no such file", false);
  if (fs::is_directory(path, ec)) fail_at(path, "/", "is a directory, not an HDF5 file", false);
  if (fs::file_size(path, ec) == 0 && !ec) fail_at(path, "/", "empty file, not HDF5", false);
  Handle fapl = new_file_access(false);
  H5File f = open_impl(path, path, fapl.get());
  prepare_storage_checks(f.id_.get(), f.file_, 0);
  return f;
}

H5File H5File::open_from_memory(std::span<const uint8_t> image, const std::string& display_name) {
  quiet();
  if (image.empty()) fail_at(display_name, "/", "empty file image, not HDF5", false);
  Handle fapl = new_file_access(true);
  // HDF5 copies the image into the property list; the caller's bytes are not kept.
  if (H5Pset_file_image(fapl.get(), const_cast<uint8_t*>(image.data()), image.size()) < 0)
    fail_at(display_name, "/", "cannot load the file image", true);
  H5File f = open_impl(memory_file_name(), display_name, fapl.get());
  prepare_storage_checks(f.id_.get(), f.file_, image.size());
  return f;
}

// Files we write keep HDF5's earliest superblock, like h5py, but allow 1.8 object headers
// (groups tracking creation order get them, which also lets a group hold attributes larger
// than 64 KiB, e.g. a long model_config). A low bound of V18 would give superblock v2, whose
// checksum HDF5 1.10.8 gets wrong in H5Fget_file_image of a file open for writing.
H5File H5File::create_impl(const std::string& real_name, const std::string& display_name, bool in_memory) {
  quiet();
  Handle fapl = new_file_access(in_memory);
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_EARLIEST, H5F_LIBVER_V18);
  Handle fcpl(H5Pcreate(H5P_FILE_CREATE));
  H5Pset_link_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  Handle f(H5Fcreate(real_name.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()));
  if (!f.valid()) fail_at(display_name, "/", "cannot create HDF5 file", true);
  return H5File(std::move(f), std::make_shared<const std::string>(display_name));
}

H5File H5File::create(const std::string& path) { return create_impl(path, path, false); }
H5File H5File::create_in_memory(const std::string& display_name) {
  return create_impl(memory_file_name(), display_name, true);
}

H5File& H5File::operator=(H5File&& other) noexcept {
  id_ = std::move(other.id_);
  file_ = std::move(other.file_);
  return *this;
}

H5File::~H5File() = default;  // the Handle drops the last file reference (errors ignored)

Group H5File::root() const {
  quiet();
  if (!id_.valid()) fail_at(*file_, "/", "file is closed", false);
  Handle g(H5Gopen2(id_.get(), "/", H5P_DEFAULT));
  if (!g.valid()) fail_at(*file_, "/", "cannot open the root group", true);
  check_storage(g.get(), file_, "/");
  return Group(std::move(g), file_, "/");
}

namespace {
bool writable(hid_t file) {
  unsigned intent = 0;
  return H5Fget_intent(file, &intent) >= 0 && (intent & H5F_ACC_RDWR);
}
}  // namespace

std::vector<uint8_t> H5File::image() const {
  quiet();
  if (!id_.valid()) fail_at(*file_, "/", "file is closed", false);
  if (writable(id_.get()) && H5Fflush(id_.get(), H5F_SCOPE_GLOBAL) < 0) fail_at(*file_, "/", "cannot flush", true);
  const ssize_t n = H5Fget_file_image(id_.get(), nullptr, 0);
  if (n < 0) fail_at(*file_, "/", "cannot get the file image", true);
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  if (n > 0 && H5Fget_file_image(id_.get(), bytes.data(), bytes.size()) < 0)
    fail_at(*file_, "/", "cannot get the file image", true);
  return bytes;
}

void H5File::close() {
  if (!id_.valid()) return;
  quiet();
  const bool flush_failed = writable(id_.get()) && H5Fflush(id_.get(), H5F_SCOPE_GLOBAL) < 0;
  const std::string stack = flush_failed ? hdf5_stack() : "";
  id_.reset();
  if (flush_failed) throw IOError(fmt::format("{}: /: cannot flush to disk (HDF5: {})", *file_, stack));
}

}  // namespace minidl::h5
