// io/zip.cpp — zip archives through libzip, with their limits (io/zip.h).
#include "io/zip.h"

#include <zip.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include "core/errors.h"
#include "io/atomic_file.h"

namespace minidl {

namespace {

using Archive = std::unique_ptr<zip_t, void (*)(zip_t*)>;

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

// A name that, used as a path below some folder, would leave it: absolute ("/x", "\\x",
// "C:x") or with a ".." component (either separator).
bool escapes_folder(const std::string& name) {
  if (name.empty() || name[0] == '/' || name[0] == '\\') return true;
  if (name.size() >= 2 && name[1] == ':' && std::isalpha(static_cast<unsigned char>(name[0]))) return true;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find_first_of("/\\", start);
    if (end == std::string::npos) end = name.size();
    if (name.compare(start, end - start, "..") == 0) return true;
    start = end + 1;
  }
  return false;
}

// Pieces in which members are inflated: bounds the work done past a declared size.
constexpr int64_t kReadPiece = int64_t{1} << 20;

}  // namespace

void ZipReader::Discard::operator()(::zip* z) const { zip_discard(z); }

ZipReader::ZipReader(ZipReader&&) noexcept = default;
ZipReader& ZipReader::operator=(ZipReader&&) noexcept = default;
ZipReader::~ZipReader() = default;

ZipReader::ZipReader(const std::string& path, const ZipLimits& limits) : path_(path) {
  std::error_code ec;
  MINIDL_CHECK(std::filesystem::is_regular_file(path, ec), IOError, "{}: no such file", path);
  const auto file_bytes = std::filesystem::file_size(path, ec);
  MINIDL_CHECK(!ec, IOError, "{}: cannot read its size: {}", path, ec.message());
  // libzip would treat an empty file as a new, empty archive.
  MINIDL_CHECK(file_bytes > 0, IOError, "{}: empty file, not a zip archive", path);
  const int64_t archive_bytes = static_cast<int64_t>(file_bytes);
  int code = 0;
  za_.reset(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
  MINIDL_CHECK(za_ != nullptr, IOError, "{}: not a readable zip archive: {}", path, open_error(code));

  const zip_int64_t count = zip_get_num_entries(za_.get(), 0);
  MINIDL_CHECK(count >= 0 && count <= limits.max_entries, IOError, "{}: {} entries (limit {})", path, count,
               limits.max_entries);
  std::set<std::string> names;
  int64_t total = 0;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    const zip_uint64_t needed = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD |
                                ZIP_STAT_CRC | ZIP_STAT_ENCRYPTION_METHOD;
    MINIDL_CHECK(zip_stat_index(za_.get(), i, 0, &st) == 0 && (st.valid & needed) == needed, IOError,
                 "{}: entry #{}: cannot read its directory record: {}", path, i, zip_strerror(za_.get()));
    const std::string name = st.name;
    MINIDL_CHECK(!escapes_folder(name), IOError,
                 "{}: entry '{}': an absolute name or one with '..' could write outside a folder; refusing the archive",
                 path, name);
    if (name.back() == '/') continue;  // a folder
    MINIDL_CHECK(names.insert(name).second, IOError, "{}: entry '{}' appears twice", path, name);
    MINIDL_CHECK(st.encryption_method == ZIP_EM_NONE, IOError, "{}: entry '{}': encrypted entries are not supported",
                 path, name);
    MINIDL_CHECK(zip_compression_method_supported(st.comp_method, 0), IOError,
                 "{}: entry '{}': compression method {} is not supported", path, name, st.comp_method);
    constexpr zip_uint64_t kMax = static_cast<zip_uint64_t>(std::numeric_limits<int64_t>::max());
    const int64_t size = static_cast<int64_t>(std::min(st.size, kMax));
    const int64_t comp = static_cast<int64_t>(std::min(st.comp_size, kMax));
    MINIDL_CHECK(size <= limits.max_entry_bytes, IOError,
                 "{}: entry '{}': declares {} bytes uncompressed (limit {})", path, name, st.size,
                 limits.max_entry_bytes);
    total += size;
    MINIDL_CHECK(total <= limits.max_total_bytes, IOError,
                 "{}: entries declare more than {} bytes uncompressed in total (at entry '{}')", path,
                 limits.max_total_bytes, name);
    MINIDL_CHECK(comp <= archive_bytes, IOError,
                 "{}: entry '{}': declares {} compressed bytes, but the whole archive has only {}", path, name,
                 st.comp_size, archive_bytes);
    MINIDL_CHECK(size <= limits.ratio_floor_bytes || size / std::max<int64_t>(comp, 1) < limits.max_ratio, IOError,
                 "{}: entry '{}': declares {} bytes uncompressed from {} compressed, a ratio of {}:1 where at most "
                 "{}:1 is accepted above {} bytes (a zip bomb?); not inflated",
                 path, name, size, comp, size / std::max<int64_t>(comp, 1), limits.max_ratio,
                 limits.ratio_floor_bytes);
    members_.push_back({name, i, size, comp, st.crc, st.comp_method == ZIP_CM_STORE});
  }
}

const ZipMember* ZipReader::find(const std::string& name) const {
  auto it = std::find_if(members_.begin(), members_.end(), [&](const ZipMember& m) { return m.name == name; });
  return it == members_.end() ? nullptr : &*it;
}

void ZipReader::stream(const std::string& name, int64_t max_bytes,
                       const std::function<void(std::span<const uint8_t>)>& sink) const {
  const ZipMember* m = find(name);
  MINIDL_CHECK(m != nullptr, IOError, "{}: {}: missing from the archive", path_, name);
  MINIDL_CHECK(m->size <= max_bytes, IOError,
               "{}: {}: declares {} bytes uncompressed, more than the {} allowed for this member; not inflated",
               path_, name, m->size, max_bytes);
  std::unique_ptr<zip_file_t, FileCloser> zf(zip_fopen_index(za_.get(), m->index, 0));
  MINIDL_CHECK(zf != nullptr, IOError, "{}: {}: cannot open: {}", path_, name, zip_strerror(za_.get()));
  // A piece larger than the rest of the declared size shows data past it in the same read;
  // the read that reaches the end is where libzip compares the CRC-32.
  Bytes piece(static_cast<size_t>(std::min(m->size, kReadPiece) + 1));
  uLong crc = crc32(0, nullptr, 0);
  int64_t done = 0;
  for (;;) {
    const int64_t want = std::min<int64_t>(m->size - done, kReadPiece) + 1;
    const zip_int64_t got = zip_fread(zf.get(), piece.data(), static_cast<zip_uint64_t>(want));
    if (got < 0) {
      zip_error_t* e = zip_file_get_error(zf.get());
      if (zip_error_code_zip(e) == ZIP_ER_CRC)
        raise<IOError>("{}: {}: CRC-32 mismatch: the directory declares {:08x}, the {} bytes read have {:08x}",
                       path_, name, m->crc, done, crc);
      raise<IOError>("{}: {}: cannot read after {} of its {} declared bytes: {}", path_, name, done, m->size,
                     zip_error_strerror(e));
    }
    if (got == 0) break;
    MINIDL_CHECK(done + got <= m->size, IOError,
                 "{}: {}: inflates to more than its declared {} bytes; stopped reading there", path_, name, m->size);
    crc = crc32(crc, piece.data(), static_cast<uInt>(got));
    if (sink) sink({piece.data(), static_cast<size_t>(got)});
    done += got;
  }
  MINIDL_CHECK(done == m->size, IOError, "{}: {}: ends after {} bytes, but the directory declares {}", path_, name,
               done, m->size);
  MINIDL_CHECK(crc == m->crc, IOError, "{}: {}: CRC-32 mismatch: the directory declares {:08x}, the data has {:08x}",
               path_, name, m->crc, crc);
}

Bytes ZipReader::read(const std::string& name, int64_t max_bytes) const {
  const ZipMember* m = find(name);
  MINIDL_CHECK(m != nullptr, IOError, "{}: {}: missing from the archive", path_, name);
  MINIDL_CHECK(m->size <= max_bytes, IOError,
               "{}: {}: declares {} bytes uncompressed, more than the {} allowed for this member; not inflated",
               path_, name, m->size, max_bytes);
  Bytes out;
  out.reserve(static_cast<size_t>(m->size));
  stream(name, max_bytes, [&](std::span<const uint8_t> p) { out.insert(out.end(), p.begin(), p.end()); });
  return out;
}

std::map<std::string, Bytes> read_zip(const std::string& path, const ZipLimits& limits) {
  const ZipReader zip(path, limits);
  std::map<std::string, Bytes> out;
  for (const auto& m : zip.members()) out.emplace(m.name, zip.read(m.name, limits.max_entry_bytes));
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
    Archive za(zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code), &zip_discard);
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
