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
// Heap IDs (check_heap_ids): a variable-length string attribute's value is one heap ID per
// element (sequence length 4 bytes, collection address of `sizeof_addr` bytes, object index
// 4 bytes) in the attribute's raw data. libhdf5 indexes the collection's object array by
// that index unchecked (out of bounds, or a NULL object: a crash) and copies the object's
// whole size into a buffer of the sequence length. io/hdf5_attribute.cpp finds the raw data
// by parsing the owning object's header (io/hdf5_object_header.h) and requires of every ID:
// either null (address 0, or the undefined address of all 0xff bytes, with length 0), or an
// address where the scan found a sound collection, an index (nonzero) of an object that
// collection has, and a length equal to that object's size (string characters are 1 byte).
//
// Risk that remains: attributes not stored as messages in the object header itself (dense
// attribute storage in a fractal heap, which only version 2 headers with an Attribute Info
// message use and h5py's default files never do; attributes shared through the file's
// shared message table) are not found by the header parse, and their heap IDs are read by
// libhdf5 unchecked. An ID pointing at an address that holds no collection would be refused
// by libhdf5 itself (bad signature); the check refuses it first. A valid file whose
// raw data happens to contain "GCOL" followed by the byte 1 and a layout that does not tile
// would be refused (a false alarm, not a crash).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

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

// A sound collection: its file offset and its objects (index, size in bytes), by index.
struct HeapCollection {
  uint64_t offset = 0;
  std::vector<std::pair<uint16_t, uint64_t>> objects;
};

// The outcome of scanning a file: the first damage, or (when there is none) every
// collection, by file offset.
struct HeapScan {
  std::optional<HeapDamage> damage;
  std::vector<HeapCollection> collections;
  // The collection at file offset `offset`, nullptr when the scan found none there.
  const HeapCollection* at(uint64_t offset) const;
};

// Scans the whole file once for global heap collections and checks each (see above).
// `length_size` is the superblock's "size of lengths" (usually 8; 2..16 supported; other
// values are reported as damage at offset 0).
HeapScan scan_global_heaps(const FileBytes& bytes, unsigned length_size);
// scan_global_heaps(...).damage: nullopt when every collection is sound.
std::optional<HeapDamage> find_heap_damage(const FileBytes& bytes, unsigned length_size);

// How addresses in the file are written: their width, the width of lengths, and the file
// offset of address 0 (the base address: the user block's size).
struct FileLayout {
  unsigned sizeof_addr = 8;
  unsigned sizeof_size = 8;
  uint64_t base = 0;
};

// Checks the first `count` heap IDs in `raw` (a variable-length string attribute's raw data,
// which starts at file offset `raw_offset`) against the collections of `scan` (see above).
// nullopt when all pass, else what is wrong with the first bad one.
std::optional<std::string> check_heap_ids(const HeapScan& scan, const FileLayout& layout, std::span<const uint8_t> raw,
                                          uint64_t raw_offset, uint64_t count);

// Checks an attribute's datatype (`datatype`, its encoding in the file: AttributeData) the
// way libhdf5 will use it to read variable-length strings: when it is a variable-length
// string (class 9, type 1), its base type (the characters) must be 1 byte, as every writer
// makes it. libhdf5 sizes its conversion buffer as the string's length times that size, so
// a damaged size makes it allocate and fill gigabytes. nullopt when it passes or is not a
// variable-length string.
std::optional<std::string> check_string_datatype(std::span<const uint8_t> datatype);

// What io/hdf5_attribute.cpp remembers of one open file: its layout, its scan, and, for a
// file held in memory (no descriptor to read), a copy of its bytes.
struct FileScan {
  FileLayout layout;
  HeapScan heaps;
  std::vector<uint8_t> image;
};

// The result of `scan` for one open file, computed on first use and remembered while
// `owner` (an object that lives exactly as long as that open file) is alive. Thread-safe.
std::shared_ptr<const FileScan> file_scan_cached(const std::shared_ptr<const void>& owner,
                                                 const std::function<FileScan()>& scan);

// The object `make` returns for one open file (`owner`, as above) and one kind of record
// (`kind`: the address of a constant private to the caller, telling records apart), made on
// first use and remembered while `owner` is alive. Thread-safe; two first callers may both
// make one, and both get the one remembered.
std::shared_ptr<const void> per_file_cached(const std::shared_ptr<const void>& owner, const void* kind,
                                            const std::function<std::shared_ptr<const void>()>& make);

}  // namespace minidl::h5::detail
