// io/hdf5_object_header.cpp — walking the messages of HDF5 object headers and finding
// attribute messages among them (see io/hdf5_object_header.h). Plain byte parsing: no HDF5
// calls here.
#include "io/hdf5_object_header.h"

#include <cstring>
#include <deque>
#include <optional>
#include <set>

namespace minidl::h5::detail {

namespace {

constexpr unsigned kAttributeMessage = 0x0C;
constexpr unsigned kContinuationMessage = 0x10;
constexpr uint8_t kSharedMessageFlag = 0x02;  // the message body is a reference to a message stored elsewhere
constexpr size_t kMaxChunks = 65536;          // far beyond any real header; ends continuation cycles

uint64_t le(const uint8_t* p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

uint64_t align8(uint64_t n) { return (n + 7) / 8 * 8; }

// The attribute message body `m` (`size` bytes at file offset `at`): its raw data when it is
// named `name`.
std::optional<AttributeData> attribute_data(const uint8_t* m, uint64_t size, uint64_t at, const std::string& name) {
  if (size < 8) return std::nullopt;
  const unsigned version = m[0];
  if (version < 1 || version > 3) return std::nullopt;
  const uint64_t name_size = le(m + 2, 2), type_size = le(m + 4, 2), space_size = le(m + 6, 2);
  uint64_t p = version == 3 ? 9 : 8;
  // libhdf5 accepts a message only when the stored name size is the name's length plus its NUL.
  if (name_size != name.size() + 1 || p + name_size > size) return std::nullopt;
  if (std::memcmp(m + p, name.data(), name.size()) != 0 || m[p + name.size()] != 0) return std::nullopt;
  const bool padded = version == 1;
  p += padded ? align8(name_size) : name_size;
  const uint64_t type_at = p;
  p += padded ? align8(type_size) : type_size;
  p += padded ? align8(space_size) : space_size;
  if (p > size) return std::nullopt;
  return AttributeData{at + p, std::vector<uint8_t>(m + p, m + size),
                       std::vector<uint8_t>(m + type_at, m + type_at + type_size)};
}

struct Chunk {
  uint64_t offset;  // file offset of the first message
  uint64_t size;    // bytes of messages (and, for version 2, a gap) from there
};

// Parses object headers of one version: the prefix, then every chunk's messages.
class HeaderReader {
 public:
  HeaderReader(const FileBytes& bytes, const FileLayout& layout, const std::function<void(const HeaderMessage&)>& visit)
      : bytes_(bytes), layout_(layout), visit_(visit), budget_(bytes.size()) {}

  void run(uint64_t header) {
    if (header > bytes_.size() - std::min<uint64_t>(bytes_.size(), layout_.base)) return;
    const uint64_t at = header + layout_.base;
    uint8_t prefix[48] = {};
    const size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof prefix, bytes_.size() - at));
    if (want < 16 || !bytes_.read(at, want, prefix)) return;
    if (std::memcmp(prefix, "OHDR", 4) == 0) {
      if (prefix[4] != 2) return;
      version_ = 2;
      const uint8_t flags = prefix[5];
      track_order_ = (flags & 0x04) != 0;
      size_t p = 6;
      if (flags & 0x20) p += 16;  // access, modification, change and birth times
      if (flags & 0x10) p += 4;   // maximum compact and minimum dense attribute counts
      const unsigned width = 1u << (flags & 0x03);
      if (p + width > want) return;
      chunks_.push_back({at + p + width, le(prefix + p, width)});
    } else {
      if (prefix[0] != 1) return;
      version_ = 1;
      chunks_.push_back({at + 16, le(prefix + 8, 4)});
    }
    for (size_t i = 0; i < chunks_.size() && i < kMaxChunks; ++i)
      if (!read_chunk(chunks_[i])) break;
  }

 private:
  // Reads one chunk and queues the chunks its continuation messages name; false when the
  // chunk cannot be read.
  bool read_chunk(const Chunk& c) {
    if (c.offset > bytes_.size() || c.size > bytes_.size() - c.offset || c.size > budget_) return false;
    budget_ -= c.size;  // sound headers never overlap, so their chunks fit in the file once
    buf_.resize(static_cast<size_t>(c.size));
    if (!bytes_.read(c.offset, buf_.size(), buf_.data())) return false;
    const uint64_t header_size = version_ == 1 ? 8 : (track_order_ ? 6 : 4);
    uint64_t p = 0;
    while (buf_.size() - p >= header_size) {
      const uint8_t* h = buf_.data() + p;
      const unsigned type = version_ == 1 ? static_cast<unsigned>(le(h, 2)) : h[0];
      const uint64_t size = version_ == 1 ? le(h + 2, 2) : le(h + 1, 2);
      const uint8_t flags = version_ == 1 ? h[4] : h[3];
      const uint64_t body = p + header_size;
      if (size > buf_.size() - body) return true;  // a message past its chunk: libhdf5 refuses such headers
      if (!(flags & kSharedMessageFlag)) {
        if (type == kContinuationMessage) continuation(buf_.data() + body, size);
        visit_(HeaderMessage{type, buf_.data() + body, size, c.offset + body});
      }
      p = body + size;
    }
    return true;
  }

  void continuation(const uint8_t* m, uint64_t size) {
    if (size < uint64_t{layout_.sizeof_addr} + layout_.sizeof_size || layout_.sizeof_addr > 8 ||
        layout_.sizeof_size > 8)
      return;
    const uint64_t address = le(m, layout_.sizeof_addr);
    const uint64_t length = le(m + layout_.sizeof_addr, layout_.sizeof_size);
    const uint64_t at = address + layout_.base;
    if (at < address || !seen_.insert(at).second) return;
    if (version_ == 1) {
      chunks_.push_back({at, length});
      return;
    }
    uint8_t signature[4];
    if (length < 8 || !bytes_.read(at, 4, signature) || std::memcmp(signature, "OCHK", 4) != 0) return;
    chunks_.push_back({at + 4, length - 8});  // the signature before the messages, the checksum after
  }

  const FileBytes& bytes_;
  const FileLayout& layout_;
  const std::function<void(const HeaderMessage&)>& visit_;
  uint64_t budget_;
  int version_ = 0;
  bool track_order_ = false;
  std::deque<Chunk> chunks_;
  std::set<uint64_t> seen_;
  std::vector<uint8_t> buf_;
};

}  // namespace

void for_each_message(const FileBytes& bytes, const FileLayout& layout, uint64_t header,
                      const std::function<void(const HeaderMessage&)>& visit) {
  HeaderReader(bytes, layout, visit).run(header);
}

std::vector<AttributeData> find_attribute_data(const FileBytes& bytes, const FileLayout& layout, uint64_t header,
                                               const std::string& name) {
  std::vector<AttributeData> found;
  for_each_message(bytes, layout, header, [&](const HeaderMessage& m) {
    if (m.type != kAttributeMessage) return;
    if (auto data = attribute_data(m.body, m.size, m.offset, name)) found.push_back(std::move(*data));
  });
  return found;
}

}  // namespace minidl::h5::detail
