// io/zip.h — zip archives through libzip, for the Keras 3 `.keras` format (a zip holding
// metadata.json, config.json and model.weights.h5, all STORED, i.e. uncompressed).
//
//   std::map<std::string, Bytes> entries = read_zip("model.keras");
//   h5::H5File w = h5::H5File::open_from_memory(entries.at("model.weights.h5"), "model.keras/model.weights.h5");
//
//   write_zip("model.keras", {{"metadata.json", meta}, {"config.json", cfg}, {"model.weights.h5", w.image()}});
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace minidl {

using Bytes = std::vector<uint8_t>;

// Guards against zip bombs and corrupt directories; checked before allocating.
struct ZipLimits {
  int64_t max_entries = 10000;
  int64_t max_entry_bytes = int64_t{2} << 30;  // uncompressed size of one entry
  int64_t max_total_bytes = int64_t{4} << 30;  // uncompressed size of all entries
};

// Every file entry (directories skipped), name -> uncompressed bytes.
// Throws IOError naming the file (and the entry): missing or empty file, not a zip, corrupt
// or inconsistent archive, CRC mismatch, unsupported compression or encryption, duplicate
// names, or an entry beyond the limits.
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
