// io/hdf5_link_storage.cpp — checks of the storage addresses in Link Info, Attribute Info
// and Symbol Table messages (see io/hdf5_link_storage.h). Plain byte parsing: no HDF5 calls.
#include "io/hdf5_link_storage.h"

#include <fmt/format.h>

#include <cstring>
#include <vector>

#include "io/hdf5_object_header.h"

namespace minidl::h5::detail {

namespace {

constexpr unsigned kLinkInfoMessage = 0x0002;
constexpr unsigned kLinkMessage = 0x0006;
constexpr unsigned kSymbolTableMessage = 0x0011;
constexpr unsigned kAttributeInfoMessage = 0x0015;
constexpr uint8_t kTrackCreationOrder = 0x01;  // Link/Attribute Info flags: the maximum creation index is stored
constexpr uint8_t kIndexCreationOrder = 0x02;  // ... and the creation order index address is stored

uint64_t le(const uint8_t* p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

// The structures a storage address can point at: signature and fixed header size.
struct Target {
  const char* signature;
  const char* what;
  uint64_t header_size;
};

// The fixed-size part of each header, from the specification (section III): `o` is the size
// of offsets, `l` the size of lengths.
Target fractal_heap(uint64_t o, uint64_t l) { return {"FRHP", "fractal heap header", 26 + 12 * l + 3 * o}; }
Target v2_btree(uint64_t o, uint64_t l) { return {"BTHD", "v2 B-tree header", 22 + o + l}; }
Target v1_btree(uint64_t o) { return {"TREE", "v1 B-tree node", 8 + 2 * o}; }
Target local_heap(uint64_t o, uint64_t l) { return {"HEAP", "local heap header", 8 + 2 * l + o}; }

// Four signature bytes as text when printable, else as hex.
std::string show_signature(const uint8_t* s) {
  bool printable = true;
  for (int i = 0; i < 4; ++i) printable = printable && s[i] >= 0x20 && s[i] < 0x7f;
  if (printable) return fmt::format("\"{}\"", std::string(reinterpret_cast<const char*>(s), 4));
  return fmt::format("bytes {:02x} {:02x} {:02x} {:02x}", s[0], s[1], s[2], s[3]);
}

class StorageChecker {
 public:
  StorageChecker(const FileBytes& bytes, const FileLayout& layout)
      : bytes_(bytes), layout_(layout), o_(layout.sizeof_addr), l_(layout.sizeof_size) {}

  std::optional<std::string> run(uint64_t header) {
    if (o_ < 1 || o_ > 8 || l_ < 1 || l_ > 8)
      return fmt::format("unsupported size of offsets {} or size of lengths {} in the superblock", o_, l_);
    std::vector<std::string> found;
    for_each_message(bytes_, layout_, header, [&](const HeaderMessage& m) {
      if (!found.empty()) return;
      std::optional<std::string> what;
      if (m.type == kLinkInfoMessage) what = info_message(m, "Link Info", 8);
      if (m.type == kAttributeInfoMessage) what = info_message(m, "Attribute Info", 2);
      if (m.type == kSymbolTableMessage) what = symbol_table(m);
      if (m.type == kLinkMessage) what = link(m);
      if (what) found.push_back(std::move(*what));
    });
    if (found.empty()) return std::nullopt;
    return found.front();
  }

 private:
  // The undefined address: every byte 0xff.
  bool undefined(uint64_t address) const {
    return o_ == 8 ? address == ~uint64_t{0} : address == (uint64_t{1} << (8 * o_)) - 1;
  }

  // What is wrong with `address` as the address of `target`; nullopt when it lies inside the
  // file with room for the header and carries the signature.
  std::optional<std::string> check_target(uint64_t address, const Target& target) const {
    const uint64_t size = bytes_.size();
    const uint64_t at = address + layout_.base;
    if (at < address || at > size || target.header_size > size - at)
      return fmt::format("address {} (0x{:x}) leaves no room for a {}-byte {} inside the file ({} bytes)", address,
                         address, target.header_size, target.what, size);
    uint8_t sig[4];
    if (!bytes_.read(at, 4, sig)) return fmt::format("address {} cannot be read", address);
    if (std::memcmp(sig, target.signature, 4) != 0)
      return fmt::format("address {} holds {}, not a {} (\"{}\")", address, show_signature(sig), target.what,
                         target.signature);
    return std::nullopt;
  }

  std::string where(const char* message, const HeaderMessage& m) const {
    return fmt::format("{} message at file offset {}", message, m.offset);
  }

  // A Link Info or Attribute Info message (same layout but for the width of the maximum
  // creation index: `index_width` bytes).
  std::optional<std::string> info_message(const HeaderMessage& m, const char* message, unsigned index_width) const {
    if (m.size < 2 || m.body[0] != 0) return std::nullopt;  // libhdf5 refuses other versions itself
    const uint8_t flags = m.body[1];
    const uint64_t need =
        2 + ((flags & kTrackCreationOrder) ? index_width : 0) + 2 * o_ + ((flags & kIndexCreationOrder) ? o_ : 0);
    if (m.size < need)
      return fmt::format("{}: its body of {} bytes is shorter than the {} bytes its flags 0x{:02x} call for",
                         where(message, m), m.size, need, flags);
    const uint8_t* p = m.body + 2 + ((flags & kTrackCreationOrder) ? index_width : 0);
    const uint64_t heap = le(p, o_), names = le(p + o_, o_);
    const Target heap_target = fractal_heap(o_, l_), tree = v2_btree(o_, l_);
    if (!undefined(heap))
      if (auto what = check_target(heap, heap_target))
        return fmt::format("{}: fractal heap {}", where(message, m), *what);
    if (!undefined(names))
      if (auto what = check_target(names, tree))
        return fmt::format("{}: name index v2 B-tree {}", where(message, m), *what);
    if (!undefined(heap) && undefined(names))
      return fmt::format("{}: the fractal heap address {} is defined but the name index v2 B-tree address is undefined",
                         where(message, m), heap);
    if (flags & kIndexCreationOrder) {
      const uint64_t order = le(p + 2 * o_, o_);
      if (!undefined(order))
        if (auto what = check_target(order, tree))
          return fmt::format("{}: creation order index v2 B-tree {}", where(message, m), *what);
    }
    return std::nullopt;
  }

  std::optional<std::string> symbol_table(const HeaderMessage& m) const {
    if (m.size < 2 * o_)
      return fmt::format("{}: its body of {} bytes is shorter than the {} bytes of its two addresses",
                         where("Symbol Table", m), m.size, 2 * o_);
    const uint64_t tree = le(m.body, o_), heap = le(m.body + o_, o_);
    if (auto what = check_target(tree, v1_btree(o_)))
      return fmt::format("{}: v1 B-tree {}", where("Symbol Table", m), *what);
    const Target heap_target = local_heap(o_, l_);
    if (auto what = check_target(heap, heap_target))
      return fmt::format("{}: local heap {}", where("Symbol Table", m), *what);
    // The header: signature, version, 3 reserved bytes, data segment size, offset to the
    // head of the free list, data segment address.
    std::vector<uint8_t> h(static_cast<size_t>(heap_target.header_size));
    if (!bytes_.read(heap + layout_.base, h.size(), h.data()))
      return fmt::format("{}: local heap at address {} cannot be read", where("Symbol Table", m), heap);
    const uint64_t data_size = le(h.data() + 8, l_), data = le(h.data() + 8 + 2 * l_, o_);
    const uint64_t size = bytes_.size(), at = data + layout_.base;
    if (at < data || at > size || data_size > size - at)
      return fmt::format("{}: the local heap at address {} has a data segment of {} bytes at address {}, which does "
                         "not fit inside the file ({} bytes)",
                         where("Symbol Table", m), heap, data_size, data, size);
    return std::nullopt;
  }

  // A Link message (compact link storage) decodes as libhdf5 decodes it: version 1, known
  // flags, a known link type and character set, a nonempty name, and every field inside the
  // body. libhdf5 1.10 lists a group by decoding all its Link messages into a table; one that
  // fails leaves later entries unset, and releasing the table then frees garbage pointers.
  std::optional<std::string> link(const HeaderMessage& m) const {
    const std::string at = where("Link", m);
    auto past = [&](const char* field) {
      return fmt::format("{}: its {} passes the end of its {}-byte body", at, field, m.size);
    };
    if (m.size < 2) return past("flags");
    if (m.body[0] != 1) return fmt::format("{}: version {}, not 1", at, m.body[0]);
    const uint8_t flags = m.body[1];
    if (flags & 0xe0) return fmt::format("{}: unknown flags 0x{:02x}", at, flags);
    uint64_t p = 2;
    unsigned type = 0;
    if (flags & 0x08) {
      if (p + 1 > m.size) return past("link type");
      type = m.body[p++];
      if (type > 1 && type < 64) return fmt::format("{}: unknown link type {}", at, type);
    }
    if (flags & 0x04) p += 8;  // creation order
    if (flags & 0x10) {
      if (p + 1 > m.size) return past("character set");
      if (m.body[p] > 1) return fmt::format("{}: unknown character set {}", at, m.body[p]);
      ++p;
    }
    const unsigned width = 1u << (flags & 0x03);
    if (p + width > m.size) return past("name length");
    const uint64_t name = le(m.body + p, width);
    p += width;
    if (name == 0) return fmt::format("{}: its name is empty", at);
    if (name > m.size - p) return past("name");
    p += name;
    if (type == 0) return p + o_ > m.size ? std::optional(past("object address")) : std::nullopt;
    if (p + 2 > m.size) return past("link value length");
    if (le(m.body + p, 2) > m.size - p - 2) return past("link value");
    return std::nullopt;
  }

  const FileBytes& bytes_;
  const FileLayout& layout_;
  uint64_t o_, l_;
};

}  // namespace

std::optional<std::string> find_storage_damage(const FileBytes& bytes, const FileLayout& layout, uint64_t header) {
  return StorageChecker(bytes, layout).run(header);
}

}  // namespace minidl::h5::detail
