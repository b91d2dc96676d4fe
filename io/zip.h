// io/zip.h — zip archives through libzip, for the Keras 3 `.keras` format (a zip holding
// metadata.json, config.json and model.weights.h5; Keras and minidl store them uncompressed,
// other writers may deflate them).
//
//   ZipReader zip("model.keras");                       // the central directory, checked
//   Bytes cfg = zip.read("config.json", 64 << 20);      // one member, at most 64 MiB
//   h5::H5File w = h5::H5File::open_from_memory(zip.read("model.weights.h5", budget), "model.keras/model.weights.h5");
//
//   write_zip("model.keras", {{"metadata.json", meta}, {"config.json", cfg}, {"model.weights.h5", w.image()}});
//
// Reading is bounded before anything is inflated: the directory's declared sizes are checked
// against the limits, the archive's real size and a compression ratio; a member is then read
// in pieces and reading stops as soon as it inflates past its declared size. Every member
// read is read to its end, where libzip checks its CRC-32. Member names are never used as
// file system paths, and names that would escape a folder ("..", absolute) refuse the archive.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

struct zip;  // libzip's zip_t

namespace minidl {

using Bytes = std::vector<uint8_t>;

// Guards against zip bombs and corrupt directories, checked on the central directory before
// any member is inflated.
struct ZipLimits {
  int64_t max_entries = 10000;
  int64_t max_entry_bytes = int64_t{2} << 30;  // declared uncompressed size of one member
  int64_t max_total_bytes = int64_t{4} << 30;  // declared uncompressed size of all members
  // A member declaring more than ratio_floor_bytes may inflate to at most max_ratio times its
  // compressed size. Deflate cannot exceed about 1032:1; real data (weights, JSON) stays far
  // below 1000:1, while a bomb of zeros sits right at the maximum.
  int64_t max_ratio = 1000;
  int64_t ratio_floor_bytes = int64_t{1} << 20;
};

// One file member of an archive, as its central directory declares it.
struct ZipMember {
  std::string name;
  int64_t index = 0;            // libzip's entry index
  int64_t size = 0;             // uncompressed bytes
  int64_t compressed_size = 0;  // bytes in the archive
  uint32_t crc = 0;             // CRC-32 of the uncompressed bytes
  bool stored = true;           // no compression
};

// An open archive, read-only. Move-only.
class ZipReader {
 public:
  // Opens `path` and checks its central directory: member count, names (no duplicates, no
  // "..", not absolute), no encryption, supported compression, and for every member its
  // declared sizes against `limits`, the archive's size and the compression ratio.
  // IOError naming the file (and the member): missing or empty file, not a zip, corrupt or
  // inconsistent archive, or any check failing.
  explicit ZipReader(const std::string& path, const ZipLimits& limits = {});
  ZipReader(ZipReader&&) noexcept;
  ZipReader& operator=(ZipReader&&) noexcept;
  ~ZipReader();

  const std::string& path() const { return path_; }
  // File members in archive order (folders skipped).
  const std::vector<ZipMember>& members() const { return members_; }
  // Null when there is no such member.
  const ZipMember* find(const std::string& name) const;

  // The member's bytes. IOError naming the file, the member, what was expected and what was
  // found: missing; declaring more than max_bytes (checked before allocating or inflating);
  // inflating to more or fewer bytes than declared (reading stops at the first byte past
  // the declared size); CRC-32 mismatch; any libzip read error.
  Bytes read(const std::string& name, int64_t max_bytes) const;
  // Reads the member as read() does, passing it to `sink` in pieces of at most 1 MiB instead
  // of keeping it (sink may be empty: only the size and CRC-32 checks). Same IOErrors.
  void stream(const std::string& name, int64_t max_bytes,
              const std::function<void(std::span<const uint8_t>)>& sink) const;

 private:
  struct Discard {
    void operator()(::zip* z) const;
  };
  std::string path_;
  std::unique_ptr<::zip, Discard> za_;
  std::vector<ZipMember> members_;
};

// Every file member (folders skipped), name -> uncompressed bytes, each read as
// ZipReader::read with max_bytes = limits.max_entry_bytes. IOErrors as ZipReader's.
std::map<std::string, Bytes> read_zip(const std::string& path, const ZipLimits& limits = {});

struct ZipEntry {
  std::string name;  // may contain '/' for folders
  Bytes data;
  std::optional<std::time_t> mtime;  // modification time; none = now
};

// Writes an archive holding `entries` in this order, each STORED (no compression),
// atomically (io/atomic_file.h): on failure the previous file at `path` is untouched.
// Throws ValueError for empty or duplicate entry names; IOError when writing fails.
void write_zip(const std::string& path, const std::vector<ZipEntry>& entries);

}  // namespace minidl
