// io/hdf5_heap_check.cpp — global heap collection validation (see io/hdf5_heap_check.h). Plain byte parsing: no
// HDF5 calls here; io/hdf5_attribute.cpp supplies the file's bytes and its size of lengths.
#include "io/hdf5_heap_check.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bitset>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

namespace minidl::h5::detail {

bool MemoryBytes::read(uint64_t offset, size_t n, uint8_t* out) const {
  if (offset > bytes_.size() || n > bytes_.size() - offset) return false;
  if (n > 0) std::memcpy(out, bytes_.data() + offset, n);  // an empty read may come with a null buffer
  return true;
}

DescriptorBytes::DescriptorBytes(int fd) : fd_(fd) {
  struct stat st {};
  if (fstat(fd, &st) == 0 && st.st_size >= 0) {
    size_ = static_cast<uint64_t>(st.st_size);
    ok_ = true;
  }
}

bool DescriptorBytes::read(uint64_t offset, size_t n, uint8_t* out) const {
  if (offset > size_ || n > size_ - offset) return false;
  while (n > 0) {
    const ssize_t got = pread(fd_, out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    offset += static_cast<uint64_t>(got);
    n -= static_cast<size_t>(got);
  }
  return true;
}

namespace {

constexpr char kSignature[4] = {'G', 'C', 'O', 'L'};
constexpr uint8_t kVersion = 1;
constexpr uint64_t kMinCollectionSize = 4096;  // spec: "the default (and minimum) collection size"
constexpr size_t kWindow = size_t{1} << 20;    // bytes read at a time

// Reads small fields through a window of the file, so that walking a collection's
// object headers costs one read per window, not one per object.
class WindowReader {
 public:
  explicit WindowReader(const FileBytes& bytes) : bytes_(bytes) {}

  // The n bytes at offset (n <= 64), or nullptr past the end of the file or on a read error.
  const uint8_t* at(uint64_t offset, size_t n) {
    if (offset > bytes_.size() || n > bytes_.size() - offset) return nullptr;
    if (offset < start_ || offset + n > start_ + buf_.size()) {
      const size_t len = static_cast<size_t>(std::min<uint64_t>(kWindow, bytes_.size() - offset));
      buf_.resize(len);
      if (!bytes_.read(offset, len, buf_.data())) {
        buf_.clear();
        return nullptr;
      }
      start_ = offset;
    }
    return buf_.data() + (offset - start_);
  }

 private:
  const FileBytes& bytes_;
  std::vector<uint8_t> buf_;
  uint64_t start_ = 0;
};

// Little-endian unsigned integer of n bytes; nullopt when it does not fit in 64 bits.
std::optional<uint64_t> decode(const uint8_t* p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = n; i-- > 0;) {
    if (i >= 8) {
      if (p[i] != 0) return std::nullopt;
      continue;
    }
    v = (v << 8) | p[i];
  }
  return v;
}

// Checks the collection whose signature is at `at`; a description of the first problem.
// Its objects (index, size) go to `objects`, in file order.
std::optional<std::string> check_collection(WindowReader& r, uint64_t file_size, uint64_t at, unsigned length_size,
                                            std::vector<std::pair<uint16_t, uint64_t>>& objects) {
  const uint64_t header = 8 + length_size;       // signature, version, reserved, collection size
  const uint64_t object_header = 8 + length_size;  // index, reference count, reserved, size
  const uint8_t* h = r.at(at, header);
  if (!h) return fmt::format("its {}-byte header passes the end of the file ({} bytes)", header, file_size);
  const std::optional<uint64_t> size = decode(h + 8, length_size);
  if (!size) return std::string("its collection size does not fit in 64 bits");
  if (*size < kMinCollectionSize)
    return fmt::format("collection size {} is below the minimum of {} bytes", *size, kMinCollectionSize);
  if (*size > file_size - at)
    return fmt::format("collection size {} passes the end of the file ({} bytes, {} left from the collection)", *size,
                       file_size, file_size - at);
  const uint64_t end = at + *size;
  std::bitset<65536> seen;
  uint64_t p = at + header;
  while (p < end) {
    const uint64_t left = end - p;
    if (left < object_header) break;  // too short for an object header: free space
    const uint8_t* o = r.at(p, object_header);
    if (!o) return fmt::format("cannot read the object header at file offset {}", p);
    const unsigned index = o[0] | (o[1] << 8);
    const std::optional<uint64_t> osize = decode(o + 8, length_size);
    if (index == 0) {
      if (!osize || *osize != left)
        return fmt::format("free-space object at file offset {} has size {}, but {} bytes remain in the collection",
                           p, osize ? fmt::format("{}", *osize) : std::string("over 2^64"), left);
      return std::nullopt;
    }
    if (seen[index]) return fmt::format("object index {} appears twice (again at file offset {})", index, p);
    seen[index] = true;
    objects.emplace_back(static_cast<uint16_t>(index), osize.value_or(0));
    const uint64_t room = left - object_header;
    if (!osize || *osize > room || (*osize + 7) / 8 * 8 > room)
      return fmt::format("object {} at file offset {} has size {}, but only {} bytes remain in the collection", index,
                         p, osize ? fmt::format("{}", *osize) : std::string("over 2^64"), room);
    p += object_header + (*osize + 7) / 8 * 8;
  }
  return std::nullopt;
}

}  // namespace

HeapScan scan_global_heaps(const FileBytes& bytes, unsigned length_size) {
  HeapScan out;
  if (length_size < 2 || length_size > 16) {
    out.damage = HeapDamage{0, fmt::format("unsupported size of lengths {} in the superblock", length_size)};
    return out;
  }
  const uint64_t file_size = bytes.size();
  WindowReader fields(bytes);
  // Chunks overlap by 4 bytes so that a signature and version byte split across two chunks
  // are still seen; a hit is taken only from the chunk it starts in.
  std::vector<uint8_t> chunk;
  for (uint64_t start = 0; start < file_size; start += kWindow) {
    const size_t len = static_cast<size_t>(std::min<uint64_t>(kWindow + 4, file_size - start));
    chunk.resize(len);
    if (!bytes.read(start, len, chunk.data())) {
      out.damage = HeapDamage{start, "cannot read the file to check its global heap"};
      return out;
    }
    const uint8_t* const base = chunk.data();
    const uint8_t* p = base;
    const uint8_t* const stop = base + std::min<size_t>(len, kWindow);
    while (p < stop) {
      const void* hit = memmem(p, static_cast<size_t>(base + len - p), kSignature, sizeof kSignature);
      if (!hit) break;
      const auto* s = static_cast<const uint8_t*>(hit);
      if (s >= stop) break;
      const uint64_t at = start + static_cast<uint64_t>(s - base);
      if (s + 4 < base + len && s[4] == kVersion) {
        HeapCollection c{at, {}};
        if (auto what = check_collection(fields, file_size, at, length_size, c.objects)) {
          out.damage = HeapDamage{at, std::move(*what)};
          out.collections.clear();
          return out;
        }
        std::sort(c.objects.begin(), c.objects.end());
        out.collections.push_back(std::move(c));
      }
      p = s + 1;
    }
  }
  return out;
}

std::optional<HeapDamage> find_heap_damage(const FileBytes& bytes, unsigned length_size) {
  return scan_global_heaps(bytes, length_size).damage;
}

const HeapCollection* HeapScan::at(uint64_t offset) const {
  auto it = std::lower_bound(collections.begin(), collections.end(), offset,
                             [](const HeapCollection& c, uint64_t o) { return c.offset < o; });
  return it != collections.end() && it->offset == offset ? &*it : nullptr;
}

std::optional<std::string> check_heap_ids(const HeapScan& scan, const FileLayout& layout, std::span<const uint8_t> raw,
                                          uint64_t raw_offset, uint64_t count) {
  const unsigned addr_size = layout.sizeof_addr;
  if (addr_size < 2 || addr_size > 8) return fmt::format("unsupported size of offsets {} in the superblock", addr_size);
  const uint64_t id_size = 4 + addr_size + 4;
  if (count > raw.size() / id_size)
    return fmt::format("its raw data at file offset {} holds {} bytes, too few for {} heap IDs of {} bytes", raw_offset,
                       raw.size(), count, id_size);
  const uint64_t undefined = addr_size == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * addr_size)) - 1;
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t* id = raw.data() + i * id_size;
    const uint64_t length = *decode(id, 4);
    const uint64_t address = *decode(id + 4, addr_size);
    const uint64_t index = *decode(id + 4 + addr_size, 4);
    const std::string which = fmt::format("heap ID {} of {} (at file offset {})", i, count, raw_offset + i * id_size);
    if ((address == 0 || address == undefined) && length == 0) continue;  // a null string
    const uint64_t at = address + layout.base;
    const HeapCollection* c = at < address ? nullptr : scan.at(at);
    if (!c)
      return fmt::format("{} names a global heap collection at address {}, but there is none there", which, address);
    auto obj = std::lower_bound(c->objects.begin(), c->objects.end(), index,
                                [](const std::pair<uint16_t, uint64_t>& o, uint64_t x) { return o.first < x; });
    if (index == 0 || obj == c->objects.end() || obj->first != index)
      return fmt::format("{} names object {} of the global heap collection at file offset {}, which has no such object "
                         "({} objects)",
                         which, index, c->offset, c->objects.size());
    if (obj->second != length)
      return fmt::format("{} has length {}, but object {} of the global heap collection at file offset {} holds {} bytes",
                         which, length, index, c->offset, obj->second);
  }
  return std::nullopt;
}

std::optional<std::string> check_string_datatype(std::span<const uint8_t> datatype) {
  constexpr unsigned kVariableLength = 9, kString = 1;
  if (datatype.size() < 8 || (datatype[0] & 0x0f) != kVariableLength || (datatype[1] & 0x0f) != kString)
    return std::nullopt;
  if (datatype.size() < 16)
    return fmt::format("its variable-length string datatype of {} bytes has no room for its base type",
                       datatype.size());
  const uint64_t base = *decode(datatype.data() + 12, 4);
  if (base != 1)
    return fmt::format("its variable-length string datatype has characters of {} bytes, not 1", base);
  return std::nullopt;
}

std::shared_ptr<const void> per_file_cached(const std::shared_ptr<const void>& owner, const void* kind,
                                            const std::function<std::shared_ptr<const void>()>& make) {
  struct Entry {
    std::weak_ptr<const void> owner;
    const void* kind;
    std::shared_ptr<const void> value;
  };
  static std::mutex mutex;
  static std::vector<Entry> cache;
  auto find = [&]() -> std::shared_ptr<const void> {
    for (const Entry& e : cache)
      if (e.kind == kind && !e.owner.owner_before(owner) && !owner.owner_before(e.owner)) return e.value;
    return nullptr;
  };
  {
    std::lock_guard lock(mutex);
    std::erase_if(cache, [](const Entry& e) { return e.owner.expired(); });
    if (auto hit = find()) return hit;
  }
  std::shared_ptr<const void> made = make();  // unlocked: making may be slow (a whole-file scan)
  std::lock_guard lock(mutex);
  if (auto hit = find()) return hit;
  cache.push_back(Entry{owner, kind, made});
  return made;
}

std::shared_ptr<const FileScan> file_scan_cached(const std::shared_ptr<const void>& owner,
                                                 const std::function<FileScan()>& scan) {
  static const char kind = 0;
  return std::static_pointer_cast<const FileScan>(
      per_file_cached(owner, &kind, [&]() { return std::make_shared<const FileScan>(scan()); }));
}

}  // namespace minidl::h5::detail
