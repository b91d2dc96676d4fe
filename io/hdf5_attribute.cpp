// io/hdf5_attribute.cpp — Object (what attributes hang on: a group or a dataset) and
// Attribute of the RAII layer over HDF5 (io/hdf5.h): looking attributes up, reading them
// as strings and numbers, writing them as h5py and Keras do.
#include <algorithm>
#include <optional>

#include "core/errors.h"
#include "io/hdf5.h"
#include "io/hdf5_heap_check.h"
#include "io/hdf5_internal.h"
#include "io/hdf5_object_header.h"

namespace minidl::h5 {

using namespace detail;  // the shared helpers of io/hdf5_internal.h

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

// The file descriptor of a file open with the sec2 (POSIX) driver, whose handle is its int
// descriptor; nullopt for other drivers.
std::optional<int> descriptor(hid_t file) {
  Handle fapl(H5Fget_access_plist(file));
  void* handle = nullptr;
  if (fapl.valid() && H5Pget_driver(fapl.get()) == H5FD_SEC2 && H5Fget_vfd_handle(file, fapl.get(), &handle) >= 0 &&
      handle)
    return *static_cast<int*>(handle);
  return std::nullopt;
}

// What io/hdf5_heap_check.h checks, for the file holding `obj`, scanned once per open file
// (`owner` is that open's name pointer). Files open for writing are not scanned (nullptr):
// their heaps are libhdf5's own work, possibly not yet on disk. Disk files are read through
// their descriptor; in-memory (core driver) files through a copy of their image.
std::shared_ptr<const FileScan> file_scan(hid_t obj, const std::shared_ptr<const std::string>& owner) {
  Handle f(H5Iget_file_id(obj));
  unsigned intent = 0;
  if (!f.valid() || H5Fget_intent(f.get(), &intent) < 0) {
    auto failed = std::make_shared<FileScan>();
    failed->heaps.damage = HeapDamage{0, "cannot identify the file"};
    return failed;
  }
  if (intent & H5F_ACC_RDWR) return nullptr;
  return file_scan_cached(owner, [&]() {
    FileScan out;
    auto damage = [&](const char* what) {
      out.heaps.damage = HeapDamage{0, what};
      return out;
    };
    Handle fcpl(H5Fget_create_plist(f.get()));
    Handle fapl(H5Fget_access_plist(f.get()));
    size_t sizeof_addr = 0, sizeof_size = 0;
    hsize_t userblock = 0;
    if (!fcpl.valid() || !fapl.valid() || H5Pget_sizes(fcpl.get(), &sizeof_addr, &sizeof_size) < 0 ||
        H5Pget_userblock(fcpl.get(), &userblock) < 0)
      return damage("cannot read the file's size of offsets, size of lengths and user block size");
    out.layout = {static_cast<unsigned>(sizeof_addr), static_cast<unsigned>(sizeof_size), userblock};
    if (auto fd = descriptor(f.get())) {
      const DescriptorBytes bytes(*fd);
      if (!bytes.ok()) return damage("cannot read the file's size");
      out.heaps = scan_global_heaps(bytes, out.layout.sizeof_size);
      return out;
    }
    const ssize_t n = H5Fget_file_image(f.get(), nullptr, 0);
    out.image.resize(n > 0 ? static_cast<size_t>(n) : 0);
    if (n <= 0 || H5Fget_file_image(f.get(), out.image.data(), out.image.size()) < 0)
      return damage("cannot get the file image");
    out.heaps = scan_global_heaps(MemoryBytes(out.image), out.layout.sizeof_size);
    return out;
  });
}

// What is wrong with the heap IDs of the `count`-element variable-length string attribute
// `attr` named `name`, nullopt when they pass (io/hdf5_heap_check.h) or when its raw data is
// not in its object's header.
std::optional<std::string> heap_id_damage(hid_t attr, const std::string& name, uint64_t count, const FileScan& scan) {
  H5O_info_t info{};
  if (H5Oget_info2(attr, &info, H5O_INFO_BASIC) < 0) return std::string("cannot locate its object header");
  Handle f(H5Iget_file_id(attr));
  std::optional<DescriptorBytes> disk;
  if (scan.image.empty()) {
    const std::optional<int> fd = f.valid() ? descriptor(f.get()) : std::nullopt;
    if (!fd) return std::string("cannot read the file's bytes");
    disk.emplace(*fd);
  }
  const MemoryBytes memory(scan.image);
  const FileBytes& bytes = disk ? static_cast<const FileBytes&>(*disk) : memory;
  for (const AttributeData& data : find_attribute_data(bytes, scan.layout, info.addr, name)) {
    // libhdf5 allocates length x character size for each string: a damaged size asks for gigabytes.
    if (auto what = check_string_datatype(data.datatype)) return what;
    if (auto what = check_heap_ids(scan.heaps, scan.layout, data.bytes, data.offset, count)) return what;
  }
  return std::nullopt;
}
}  // namespace

Attribute::Attribute(const Object& owner, Handle id, std::string name)
    : id_(std::move(id)), file_(owner.file_), path_(owner.path_), name_(std::move(name)) {}

void Attribute::fail(const std::string& what, bool with_stack) const {
  fail_at(*file_, path_, fmt::format("attribute '{}': {}", name_, what), with_stack);
}

Shape Attribute::shape() const {
  Shape s;
  if (!space_shape(H5Aget_space, id_.get(), &s)) fail("cannot read its dataspace");
  return s;
}

int64_t Attribute::numel() const {
  const Shape s = shape();
  const int64_t n = checked_numel(s);
  if (n < 0 || n > kMaxAttrElements) fail(fmt::format("absurd shape {}", shape_str(s)), false);
  return n;
}

Handle Attribute::type() const {
  quiet();
  Handle type(H5Aget_type(id_.get()));
  if (!type.valid()) fail("cannot read its type");
  return type;
}

TypeClass Attribute::type_class() const { return class_of(type().get()); }

std::string Attribute::type_name() const { return name_of(type().get()); }

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
    // libhdf5 trusts the heap's object sizes and the heap IDs' indices and lengths.
    if (const std::shared_ptr<const FileScan> scan = file_scan(id_.get(), file_)) {
      if (const auto& damage = scan->heaps.damage)
        fail(fmt::format("damaged global heap collection at file offset {}: {}; its variable-length strings are not read",
                         damage->offset, damage->what),
             false);
      if (const auto what = heap_id_damage(id_.get(), name_, static_cast<uint64_t>(n), *scan))
        fail(fmt::format("damaged variable-length string: {}; its variable-length strings are not read", *what), false);
    }
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

}  // namespace minidl::h5
