// io/hdf5_group_check.cpp — runs io/hdf5_link_storage.h's checks on the objects of an open
// file before libhdf5 traverses them (io/hdf5_internal.h: prepare_storage_checks,
// check_storage, check_storage_at). The file's bytes are read in place: through the
// descriptor of a file on disk (sec2 driver), or from the core driver's buffer of a file
// opened from an image, whose size is known from the open.
#include <map>
#include <mutex>
#include <optional>

#include "core/errors.h"
#include "io/hdf5_heap_check.h"
#include "io/hdf5_internal.h"
#include "io/hdf5_link_storage.h"

namespace minidl::h5::detail {

namespace {

// What is known of one open file: how to read it and what each header checked gave.
struct StorageChecks {
  bool enabled = false;      // false for files not prepared (open for writing)
  FileLayout layout;
  uint64_t memory_size = 0;  // bytes of the image a core-driver file was opened from
  mutable std::mutex mutex;
  mutable std::map<uint64_t, std::optional<std::string>> results;  // by header address
};

const char kStorageChecksKind = 0;  // this file's records in per_file_cached

std::shared_ptr<const StorageChecks> checks_of(const std::shared_ptr<const std::string>& owner,
                                               std::shared_ptr<StorageChecks> prepared = nullptr) {
  return std::static_pointer_cast<const StorageChecks>(per_file_cached(owner, &kStorageChecksKind, [&]() {
    return prepared ? std::shared_ptr<const void>(prepared) : std::make_shared<const StorageChecks>();
  }));
}

// The damage found in the header at `header` of the file holding `obj`, reading its bytes
// where its driver keeps them; nullopt when there is none or the bytes cannot be reached.
std::optional<std::string> inspect(hid_t obj, const StorageChecks& checks, uint64_t header) {
  Handle f(H5Iget_file_id(obj));
  Handle fapl(f.valid() ? H5Fget_access_plist(f.get()) : -1);
  if (!fapl.valid()) return std::string("cannot identify the file to read its bytes");
  void* handle = nullptr;
  const hid_t driver = H5Pget_driver(fapl.get());
  if ((driver != H5FD_SEC2 && driver != H5FD_CORE) || H5Fget_vfd_handle(f.get(), fapl.get(), &handle) < 0 ||
      !handle) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;  // a driver minidl does not open files with: nothing to read in place
  }
  if (driver == H5FD_SEC2) {
    const DescriptorBytes bytes(*static_cast<int*>(handle));
    if (!bytes.ok()) return std::string("cannot read the file's size");
    return find_storage_damage(bytes, checks.layout, header);
  }
  // The core driver hands out the address of its buffer pointer.
  const uint8_t* memory = *static_cast<uint8_t* const*>(handle);
  if (!memory) return std::string("cannot reach the file image");
  const MemoryBytes bytes(std::span<const uint8_t>(memory, static_cast<size_t>(checks.memory_size)));
  return find_storage_damage(bytes, checks.layout, header);
}

void check_header(hid_t obj, uint64_t header, const std::shared_ptr<const std::string>& file, const std::string& path) {
  const std::shared_ptr<const StorageChecks> checks = checks_of(file);
  if (!checks->enabled) return;
  std::optional<std::string> damage;
  {
    std::lock_guard lock(checks->mutex);
    auto it = checks->results.find(header);
    if (it == checks->results.end()) it = checks->results.emplace(header, inspect(obj, *checks, header)).first;
    damage = it->second;
  }
  if (damage)
    fail_at(*file, path, "damaged link or attribute storage: " + *damage + "; libhdf5 would follow it", false);
}

}  // namespace

void prepare_storage_checks(hid_t file, const std::shared_ptr<const std::string>& owner, uint64_t memory_size) {
  auto checks = std::make_shared<StorageChecks>();
  Handle fcpl(H5Fget_create_plist(file));
  size_t sizeof_addr = 0, sizeof_size = 0;
  hsize_t userblock = 0;
  if (!fcpl.valid() || H5Pget_sizes(fcpl.get(), &sizeof_addr, &sizeof_size) < 0 ||
      H5Pget_userblock(fcpl.get(), &userblock) < 0)
    fail_at(*owner, "/", "cannot read the file's size of offsets, size of lengths and user block size", true);
  checks->layout = {static_cast<unsigned>(sizeof_addr), static_cast<unsigned>(sizeof_size), userblock};
  checks->memory_size = memory_size;
  checks->enabled = true;
  checks_of(owner, checks);
}

void check_storage(hid_t obj, const std::shared_ptr<const std::string>& file, const std::string& path) {
  if (!checks_of(file)->enabled) return;
  H5O_info_t info{};
  if (H5Oget_info2(obj, &info, H5O_INFO_BASIC) < 0) fail_at(*file, path, "cannot locate its object header", true);
  check_header(obj, info.addr, file, path);
}

void check_storage_at(hid_t loc, const std::string& rel, const std::shared_ptr<const std::string>& file,
                      const std::string& path) {
  if (!checks_of(file)->enabled) return;
  // Opened rather than asked about by name: a header libhdf5 fails to load is then refused
  // where every object is first loaded, H5Oopen (whose failures keep memory inside libhdf5
  // that fuzz/lsan_suppressions.txt accounts for).
  const Handle h(H5Oopen(loc, rel.c_str(), H5P_DEFAULT));
  if (!h.valid()) fail_at(*file, path, "cannot open", true);
  check_storage(h.get(), file, path);
}

}  // namespace minidl::h5::detail
