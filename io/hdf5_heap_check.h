// io/hdf5_heap_check.h — validation of an HDF5 file's global heap collections, used by
// io/hdf5_attribute.cpp before it lets libhdf5 read variable-length strings. Internal to io/.
//
// Why: variable-length strings (h5py's str attributes: Keras's model_config,
// keras_version, ...) live in global heap collections ("GCOL"). libhdf5 1.10 walks a
// collection by the object sizes written in it and copies objects by those sizes; its
// bounds checks there are debug-only asserts, so a damaged size makes H5Aread copy out of
// bounds (a crash, or worse). This scan finds every collection libhdf5 would accept and
// checks that it is well formed, so the reader can refuse the file with an IOError first.
//
// What is checked, for every "GCOL" signature followed by version 1 (what libhdf5 accepts
// as a collection; its reserved bytes are not required to be zero, because libhdf5 does
// not check them either), per the HDF5 file format specification, section III.E:
//   - the header (signature, version, 3 reserved bytes, collection size of `length_size`
//     bytes) and the whole collection lie inside the file;
//   - the collection size is at least the specified minimum of 4096 bytes;
//   - its heap objects (index 2 bytes, reference count 2, reserved 4, size `length_size`,
//     data padded to a multiple of 8) tile it exactly: every object's header and padded
//     data stay inside the collection, no index appears twice, and the free-space object
//     (index 0), when present, is last and its size (which includes its header) reaches
//     exactly the end; a tail too short for an object header is free space, as libhdf5
//     reads it.
//
// Risk that remains: a variable-length string attribute's value is a heap ID (sequence
// length 4 bytes, collection address, object index 4 bytes) stored in the attribute's own
// raw data. A damaged ID pointing at an object index the collection does not have, or
// whose length is smaller than the heap object it names, still reaches libhdf5's unchecked
// copy. The public HDF5 API offers no way to read an attribute's raw bytes without that
// conversion, and finding them by hand means parsing object headers (v1 and v2, with
// continuation blocks and dense attribute storage in fractal heaps), which this check does
// not do. An ID pointing at an address that holds no collection is refused by libhdf5
// itself (bad signature). A valid file whose raw data happens to contain "GCOL" followed by
// the byte 1 and a layout that does not tile would be refused (a false alarm, not a crash).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace minidl::h5::detail {

// Read access to the bytes of a file.
class FileBytes {
 public:
  virtual ~FileBytes() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly n bytes at offset (offset + n <= size()); false when that fails.
  virtual bool read(uint64_t offset, size_t n, uint8_t* out) const = 0;
};

// Bytes held in memory (not copied: the span must outlive this object).
class MemoryBytes final : public FileBytes {
 public:
  explicit MemoryBytes(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  bool read(uint64_t offset, size_t n, uint8_t* out) const override;

 private:
  std::span<const uint8_t> bytes_;
};

// An open file descriptor, read with pread (the file position is left alone). The size is
// taken once, when constructed.
class DescriptorBytes final : public FileBytes {
 public:
  explicit DescriptorBytes(int fd);
  uint64_t size() const override { return size_; }
  bool read(uint64_t offset, size_t n, uint8_t* out) const override;
  bool ok() const { return ok_; }  // false when the size could not be read

 private:
  int fd_;
  uint64_t size_ = 0;
  bool ok_ = false;
};

// The first problem found: the collection's file offset and what is wrong with it.
struct HeapDamage {
  uint64_t offset = 0;
  std::string what;
};

// Scans the whole file once for global heap collections and checks each (see above).
// `length_size` is the superblock's "size of lengths" (usually 8; 2..16 supported; other
// values are reported as damage at offset 0). nullopt when every collection is sound.
std::optional<HeapDamage> find_heap_damage(const FileBytes& bytes, unsigned length_size);

// The result of `scan` for one open file, computed on first use and remembered while
// `owner` (an object that lives exactly as long as that open file) is alive. Thread-safe.
std::optional<HeapDamage> heap_damage_cached(const std::shared_ptr<const void>& owner,
                                             const std::function<std::optional<HeapDamage>()>& scan);

}  // namespace minidl::h5::detail
