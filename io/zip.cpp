#include "io/zip.h"

#include <zip.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "core/errors.h"
#include "io/atomic_file.h"

namespace minidl {

namespace {

struct ArchiveDiscarder {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using Archive = std::unique_ptr<zip_t, ArchiveDiscarder>;

struct FileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

std::string open_error(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string msg = zip_error_strerror(&e);
  zip_error_fini(&e);
  return msg;
}

// libzip writes nothing for an archive without entries; this is the 22-byte
// end-of-central-directory record that makes an empty but valid zip.
void write_empty_zip(const std::string& tmp, const std::string& path) {
  static const char eocd[22] = {'P', 'K', 5, 6};
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  out.write(eocd, sizeof eocd);
  out.close();
  MINIDL_CHECK(out.good(), IOError, "{}: cannot write an empty zip archive", path);
}

}  // namespace

std::map<std::string, Bytes> read_zip(const std::string& path, const ZipLimits& limits) {
  std::error_code ec;
  MINIDL_CHECK(std::filesystem::is_regular_file(path, ec), IOError, "{}: no such file", path);
  // libzip would treat an empty file as a new, empty archive.
  MINIDL_CHECK(std::filesystem::file_size(path, ec) > 0, IOError, "{}: empty file, not a zip archive", path);
  int code = 0;
  Archive za(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
  MINIDL_CHECK(za != nullptr, IOError, "{}: not a readable zip archive: {}", path, open_error(code));

  const zip_int64_t count = zip_get_num_entries(za.get(), 0);
  MINIDL_CHECK(count >= 0 && count <= limits.max_entries, IOError, "{}: {} entries (limit {})", path, count,
               limits.max_entries);
  std::map<std::string, Bytes> out;
  int64_t total = 0;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    MINIDL_CHECK(zip_stat_index(za.get(), i, 0, &st) == 0 && (st.valid & ZIP_STAT_NAME) && (st.valid & ZIP_STAT_SIZE),
                 IOError, "{}: entry #{}: cannot read its directory record: {}", path, i, zip_strerror(za.get()));
    const std::string name = st.name;
    if (!name.empty() && name.back() == '/') continue;  // a folder
    const int64_t size = static_cast<int64_t>(st.size);
    MINIDL_CHECK(size >= 0 && size <= limits.max_entry_bytes, IOError, "{}: entry '{}': {} bytes (limit {})", path,
                 name, st.size, limits.max_entry_bytes);
    total += size;
    MINIDL_CHECK(total <= limits.max_total_bytes, IOError, "{}: entries total more than {} bytes", path,
                 limits.max_total_bytes);
    MINIDL_CHECK(!out.count(name), IOError, "{}: entry '{}' appears twice", path, name);

    std::unique_ptr<zip_file_t, FileCloser> zf(zip_fopen_index(za.get(), i, 0));
    MINIDL_CHECK(zf != nullptr, IOError, "{}: entry '{}': cannot open: {}", path, name, zip_strerror(za.get()));
    Bytes data(static_cast<size_t>(size));
    const zip_int64_t got = size > 0 ? zip_fread(zf.get(), data.data(), size) : 0;
    // One more read must hit the end: that is where libzip checks the CRC.
    uint8_t extra = 0;
    const zip_int64_t more = got == size ? zip_fread(zf.get(), &extra, 1) : -1;
    MINIDL_CHECK(got == size && more == 0, IOError, "{}: entry '{}': cannot read its {} bytes: {}", path, name, size,
                 zip_file_strerror(zf.get()));
    out.emplace(name, std::move(data));
  }
  return out;
}

void write_zip(const std::string& path, const std::vector<ZipEntry>& entries) {
  std::set<std::string> names;
  for (const auto& e : entries) {
    MINIDL_CHECK(!e.name.empty(), ValueError, "write_zip {}: an entry has an empty name", path);
    MINIDL_CHECK(names.insert(e.name).second, ValueError, "write_zip {}: entry '{}' given twice", path, e.name);
  }
  atomic_write(path, [&](const std::string& tmp) {
    if (entries.empty()) return write_empty_zip(tmp, path);
    int code = 0;
    Archive za(zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code));
    MINIDL_CHECK(za != nullptr, IOError, "{}: cannot create zip archive: {}", path, open_error(code));
    for (const auto& e : entries) {
      // The buffers are read at zip_close(), while `entries` is still alive.
      zip_source_t* src = zip_source_buffer(za.get(), e.data.data(), e.data.size(), 0);
      MINIDL_CHECK(src != nullptr, IOError, "{}: entry '{}': {}", path, e.name, zip_strerror(za.get()));
      const zip_int64_t idx = zip_file_add(za.get(), e.name.c_str(), src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
      if (idx < 0) {
        zip_source_free(src);
        raise<IOError>("{}: entry '{}': cannot add: {}", path, e.name, zip_strerror(za.get()));
      }
      MINIDL_CHECK(zip_set_file_compression(za.get(), idx, ZIP_CM_STORE, 0) == 0 &&
                       (!e.mtime || zip_file_set_mtime(za.get(), idx, *e.mtime, 0) == 0),
                   IOError, "{}: entry '{}': {}", path, e.name, zip_strerror(za.get()));
    }
    zip_t* raw = za.release();
    if (zip_close(raw) < 0) {
      const std::string msg = zip_strerror(raw);
      zip_discard(raw);
      raise<IOError>("{}: cannot write zip archive: {}", path, msg);
    }
  });
}

}  // namespace minidl
