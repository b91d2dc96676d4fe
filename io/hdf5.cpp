// The only file in minidl that includes <hdf5.h>. Every HDF5 call's result is checked;
// failures become IOError naming file and object path plus HDF5's own error stack.
#include "io/hdf5.h"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <limits>
#include <type_traits>

#include "core/errors.h"
#include "core/memory.h"
#include "io/hdf5_heap_check.h"

namespace minidl::h5 {

static_assert(std::is_same_v<hid_t, int64_t>, "io/hdf5.h stores HDF5 ids as int64_t");

namespace {

using detail::Handle;

// The error-printing switch is per thread in thread-safe HDF5 builds (Debian's is one),
// so every entry point makes sure the calling thread has it off.
void quiet() {
  thread_local bool done = false;
  if (!done) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    done = true;
  }
}

herr_t collect_error(unsigned, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  if (e->desc && *e->desc && std::find(out->begin(), out->end(), e->desc) == out->end()) out->push_back(e->desc);
  return 0;
}

// Descriptions on the current error stack, outermost call first; clears the stack.
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

// -1 when a dimension is negative or the product overflows int64.
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

bool is_numeric(TypeClass c) { return c == TypeClass::kFloat || c == TypeClass::kInteger; }

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

// Strips fixed-length string padding the way the type declares it.
std::string unpad(const char* p, size_t size, H5T_str_t pad) {
  std::string s(p, size);
  if (pad == H5T_STR_NULLTERM) return s.substr(0, s.find('\0'));
  const char fill = pad == H5T_STR_SPACEPAD ? ' ' : '\0';
  s.erase(s.find_last_not_of(fill) + 1);
  return s;
}

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

// --- Object ---------------------------------------------------------------------------

Object::Object(Handle id, std::shared_ptr<const std::string> file, std::string path)
    : id_(std::move(id)), file_(std::move(file)), path_(std::move(path)) {}

void Object::fail(const std::string& what, bool with_stack) const { fail_at(*file_, path_, what, with_stack); }

std::string Object::child_path(const std::string& rel) const {
  return join_path(!rel.empty() && rel[0] == '/' ? "/" : path_, split_path(rel));
}

bool Object::has_attr(const std::string& name) const {
  quiet();
  const htri_t r = H5Aexists(id_.get(), name.c_str());
  if (r < 0) fail(fmt::format("cannot look up attribute '{}'", name));
  return r > 0;
}

std::vector<std::string> Object::attr_names() const {
  quiet();
  std::vector<std::string> names;
  auto cb = [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->push_back(name);
    return 0;
  };
  if (H5Aiterate2(id_.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, cb, &names) < 0) fail("cannot list attributes");
  return names;
}

Attribute Object::attr(const std::string& name) const {
  if (!has_attr(name)) fail(fmt::format("attribute '{}' not found", name), false);
  Handle a(H5Aopen(id_.get(), name.c_str(), H5P_DEFAULT));
  if (!a.valid()) fail(fmt::format("cannot open attribute '{}'", name));
  return Attribute(*this, std::move(a), name);
}

std::string Object::read_string_attr(const std::string& name) const { return attr(name).read_string(); }
std::vector<std::string> Object::read_string_array_attr(const std::string& name) const {
  return attr(name).read_strings();
}
double Object::read_double_attr(const std::string& name) const { return attr(name).read_double(); }
int64_t Object::read_int_attr(const std::string& name) const { return attr(name).read_int(); }

void Object::put_attr(const std::string& name, int64_t file_type, int64_t space, int64_t mem_type,
                      const void* buf) const {
  if (has_attr(name) && H5Adelete(id_.get(), name.c_str()) < 0)
    fail(fmt::format("cannot replace attribute '{}'", name));
  Handle a(H5Acreate2(id_.get(), name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid()) fail(fmt::format("cannot create attribute '{}'", name));
  if (H5Awrite(a.get(), mem_type, buf) < 0) fail(fmt::format("cannot write attribute '{}'", name));
}

void Object::write_string_attr(const std::string& name, const std::string& value) const {
  quiet();
  Handle type = string_type(true, 0, H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR));
  const char* p = value.c_str();
  put_attr(name, type.get(), space.get(), type.get(), &p);
}

void Object::write_fixed_string_attr(const std::string& name, const std::string& value) const {
  quiet();
  std::string buf = value.empty() ? std::string(1, '\0') : value;  // HDF5 has no zero-length strings
  Handle type = string_type(false, buf.size(), H5T_CSET_ASCII);
  Handle space(H5Screate(H5S_SCALAR));
  put_attr(name, type.get(), space.get(), type.get(), buf.data());
}

void Object::write_string_array_attr(const std::string& name, const std::vector<std::string>& values) const {
  if (values.empty()) return write_empty_array_attr(name);
  quiet();
  size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  std::vector<char> buf(values.size() * width, '\0');  // [n, width], NULL-padded
  for (size_t i = 0; i < values.size(); ++i) std::copy(values[i].begin(), values[i].end(), buf.begin() + i * width);
  Handle type = string_type(false, width, H5T_CSET_ASCII);
  Handle space = simple_space({static_cast<int64_t>(values.size())});
  put_attr(name, type.get(), space.get(), type.get(), buf.data());
}

void Object::write_empty_array_attr(const std::string& name) const {
  quiet();
  Handle space = simple_space({0});
  const double unused = 0;  // HDF5 wants a non-null buffer even for zero elements
  put_attr(name, H5T_IEEE_F64LE, space.get(), H5T_NATIVE_DOUBLE, &unused);
}

void Object::write_double_attr(const std::string& name, double value, DType stored) const {
  MINIDL_CHECK(stored == DType::kFloat16 || stored == DType::kFloat32 || stored == DType::kFloat64, ValueError,
               "write_double_attr '{}': stored type must be a float type, received {}", name, dtype_name(stored));
  quiet();
  Handle type = file_type(stored);
  Handle space(H5Screate(H5S_SCALAR));
  put_attr(name, type.get(), space.get(), H5T_NATIVE_DOUBLE, &value);
}

void Object::write_int_attr(const std::string& name, int64_t value) const {
  quiet();
  Handle space(H5Screate(H5S_SCALAR));
  put_attr(name, H5T_STD_I64LE, space.get(), H5T_NATIVE_INT64, &value);
}

// --- Attribute ------------------------------------------------------------------------

namespace {
constexpr int64_t kMaxAttrElements = int64_t{1} << 24;

// The first damaged global heap collection of the file holding `obj` (io/hdf5_heap_check.h),
// scanned once per open file (`owner` is that open's name pointer). Files open for writing
// are not scanned: their heaps are libhdf5's own work, possibly not yet on disk. Disk files
// are read through their descriptor; in-memory (core driver) files through their image.
std::optional<detail::HeapDamage> global_heap_damage(hid_t obj, const std::shared_ptr<const std::string>& owner) {
  Handle f(H5Iget_file_id(obj));
  unsigned intent = 0;
  if (!f.valid() || H5Fget_intent(f.get(), &intent) < 0) return detail::HeapDamage{0, "cannot identify the file"};
  if (intent & H5F_ACC_RDWR) return std::nullopt;
  return detail::heap_damage_cached(owner, [&]() -> std::optional<detail::HeapDamage> {
    Handle fcpl(H5Fget_create_plist(f.get()));
    Handle fapl(H5Fget_access_plist(f.get()));
    size_t sizeof_addr = 0, sizeof_size = 0;
    if (!fcpl.valid() || !fapl.valid() || H5Pget_sizes(fcpl.get(), &sizeof_addr, &sizeof_size) < 0)
      return detail::HeapDamage{0, "cannot read the file's size of lengths"};
    void* handle = nullptr;
    if (H5Pget_driver(fapl.get()) == H5FD_SEC2 && H5Fget_vfd_handle(f.get(), fapl.get(), &handle) >= 0 && handle) {
      const detail::DescriptorBytes bytes(*static_cast<int*>(handle));  // sec2's handle is its int descriptor
      if (!bytes.ok()) return detail::HeapDamage{0, "cannot read the file's size"};
      return detail::find_heap_damage(bytes, static_cast<unsigned>(sizeof_size));
    }
    const ssize_t n = H5Fget_file_image(f.get(), nullptr, 0);
    std::vector<uint8_t> image(n > 0 ? static_cast<size_t>(n) : 0);
    if (n <= 0 || H5Fget_file_image(f.get(), image.data(), image.size()) < 0)
      return detail::HeapDamage{0, "cannot get the file image"};
    return detail::find_heap_damage(detail::MemoryBytes(image), static_cast<unsigned>(sizeof_size));
  });
}
}  // namespace

Attribute::Attribute(const Object& owner, Handle id, std::string name)
    : id_(std::move(id)), file_(owner.file_), path_(owner.path_), name_(std::move(name)) {}

void Attribute::fail(const std::string& what, bool with_stack) const {
  fail_at(*file_, path_, fmt::format("attribute '{}': {}", name_, what), with_stack);
}

Shape Attribute::shape() const {
  quiet();
  Handle space(H5Aget_space(id_.get()));
  Shape s;
  if (!space.valid() || !shape_of(space.get(), &s)) fail("cannot read its dataspace");
  return s;
}

int64_t Attribute::numel() const {
  const Shape s = shape();
  const int64_t n = checked_numel(s);
  if (n < 0 || n > kMaxAttrElements) fail(fmt::format("absurd shape {}", shape_str(s)), false);
  return n;
}

TypeClass Attribute::type_class() const {
  quiet();
  Handle type(H5Aget_type(id_.get()));
  if (!type.valid()) fail("cannot read its type");
  return class_of(type.get());
}

std::string Attribute::type_name() const {
  quiet();
  Handle type(H5Aget_type(id_.get()));
  if (!type.valid()) fail("cannot read its type");
  return name_of(type.get());
}

void Attribute::require_single(const char* kind) const {
  const TypeClass c = type_class();
  const bool ok = std::string(kind) == "string"    ? c == TypeClass::kString
                  : std::string(kind) == "integer" ? c == TypeClass::kInteger
                                                   : is_numeric(c);
  if (!ok || numel() != 1)
    fail(fmt::format("expected a single {}, found {} of shape {}", kind, type_name(), shape_str(shape())), false);
}

std::string Attribute::read_string() const {
  require_single("string");
  return read_strings().front();
}

std::vector<std::string> Attribute::read_strings() const {
  const int64_t n = numel();
  const TypeClass c = type_class();
  if (c != TypeClass::kString) {
    if (is_numeric(c) && n == 0) return {};  // h5py's empty list
    fail(fmt::format("expected strings, found {} of shape {}", type_name(), shape_str(shape())), false);
  }
  std::vector<std::string> out;
  if (n == 0) return out;
  Handle type(H5Aget_type(id_.get()));
  if (H5Tis_variable_str(type.get()) > 0) {
    if (const auto damage = global_heap_damage(id_.get(), file_))  // libhdf5 trusts the heap's object sizes
      fail(fmt::format("damaged global heap collection at file offset {}: {}; its variable-length strings are not read",
                       damage->offset, damage->what),
           false);
    Handle mem = string_type(true, 0, H5Tget_cset(type.get()));
    Handle space(H5Aget_space(id_.get()));
    std::vector<char*> ptrs(n, nullptr);
    if (H5Aread(id_.get(), mem.get(), ptrs.data()) < 0) fail("cannot read variable-length strings");
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
  } else {
    const size_t width = H5Tget_size(type.get());
    std::vector<char> buf(n * width);  // [n, width]
    if (H5Aread(id_.get(), type.get(), buf.data()) < 0) fail("cannot read fixed-length strings");
    for (int64_t i = 0; i < n; ++i) out.push_back(unpad(buf.data() + i * width, width, H5Tget_strpad(type.get())));
  }
  return out;
}

std::vector<double> Attribute::read_doubles() const {
  const int64_t n = numel();
  if (!is_numeric(type_class()))
    fail(fmt::format("expected numbers, found {} of shape {}", type_name(), shape_str(shape())), false);
  std::vector<double> out(n);
  if (n > 0 && H5Aread(id_.get(), H5T_NATIVE_DOUBLE, out.data()) < 0) fail("cannot read numbers");
  return out;
}

std::vector<int64_t> Attribute::read_ints() const {
  const int64_t n = numel();
  if (type_class() != TypeClass::kInteger)
    fail(fmt::format("expected integers, found {} of shape {}", type_name(), shape_str(shape())), false);
  std::vector<int64_t> out(n);
  if (n > 0 && H5Aread(id_.get(), H5T_NATIVE_INT64, out.data()) < 0) fail("cannot read integers");
  return out;
}

double Attribute::read_double() const {
  require_single("number");
  return read_doubles().front();
}

int64_t Attribute::read_int() const {
  require_single("integer");
  return read_ints().front();
}

// --- Dataset --------------------------------------------------------------------------

Shape Dataset::shape() const {
  quiet();
  Handle space(H5Dget_space(id_.get()));
  Shape s;
  if (!space.valid() || !shape_of(space.get(), &s)) fail("cannot read the dataset's dataspace");
  return s;
}

int64_t Dataset::numel() const {
  const Shape s = shape();
  const int64_t n = checked_numel(s);
  if (n < 0) fail(fmt::format("absurd dataset shape {}", shape_str(s)), false);
  return n;
}

TypeClass Dataset::type_class() const {
  quiet();
  Handle type(H5Dget_type(id_.get()));
  if (!type.valid()) fail("cannot read the dataset's type");
  return class_of(type.get());
}

std::string Dataset::type_name() const {
  quiet();
  Handle type(H5Dget_type(id_.get()));
  if (!type.valid()) fail("cannot read the dataset's type");
  return name_of(type.get());
}

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

// --- Group ----------------------------------------------------------------------------

std::vector<std::string> Group::children(Order order) const {
  quiet();
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
  // Checked one component at a time: HDF5 reports a missing intermediate as an error.
  std::string prefix = !rel.empty() && rel[0] == '/' ? "/" : "";
  for (const auto& part : split_path(rel)) {
    prefix += (prefix.empty() || prefix == "/" ? "" : "/") + part;
    if (H5Lexists(id_.get(), prefix.c_str(), H5P_DEFAULT) <= 0 ||
        H5Oexists_by_name(id_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
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
  return Group(std::move(h), file_, full);
}

Dataset Group::open_dataset(const std::string& rel) const {
  const std::string full = child_path(rel);
  if (!exists(rel)) fail_at(*file_, full, "no such dataset", false);
  Handle h(H5Oopen(id_.get(), rel.c_str(), H5P_DEFAULT));
  if (!h.valid()) fail_at(*file_, full, "cannot open", true);
  const H5I_type_t t = H5Iget_type(h.get());
  if (t != H5I_DATASET) fail_at(*file_, full, fmt::format("expected a dataset, found a {}", kind_name(t)), false);
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
  return open_impl(path, path, fapl.get());
}

H5File H5File::open_from_memory(std::span<const uint8_t> image, const std::string& display_name) {
  quiet();
  if (image.empty()) fail_at(display_name, "/", "empty file image, not HDF5", false);
  Handle fapl = new_file_access(true);
  // HDF5 copies the image into the property list; the caller's bytes are not kept.
  if (H5Pset_file_image(fapl.get(), const_cast<uint8_t*>(image.data()), image.size()) < 0)
    fail_at(display_name, "/", "cannot load the file image", true);
  return open_impl(memory_file_name(), display_name, fapl.get());
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
