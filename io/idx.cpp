// io/idx.cpp — the IDX reader, plain or gzip (io/idx.h).
#include "io/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <vector>

#include "core/errors.h"
#include "core/memory.h"

namespace minidl {

namespace {

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

// Reads up to n bytes; returns how many arrived (short only at end of data).
int64_t read_bytes(gzFile f, const std::string& path, uint8_t* out, int64_t n) {
  int64_t got = 0;
  while (got < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<int64_t>(n - got, 1 << 20));
    const int r = gzread(f, out + got, chunk);
    if (r < 0) {
      int code = 0;
      std::string msg = gzerror(f, &code);
      if (msg.rfind(path + ": ", 0) == 0) msg.erase(0, path.size() + 2);  // zlib prefixes the path itself
      raise<IOError>("{}: cannot read: {}", path, code == Z_ERRNO ? std::strerror(errno) : msg);
    }
    if (r == 0) break;
    got += r;
  }
  return got;
}

}  // namespace

Tensor read_idx(const std::string& path, int rank, int64_t limit) {
  MINIDL_CHECK(rank >= 1 && rank <= 4, ValueError, "read_idx: rank must be 1..4, received {}", rank);
  std::error_code ec;
  MINIDL_CHECK(std::filesystem::is_regular_file(path, ec), IOError, "{}: no such file", path);
  GzFile f(gzopen(path.c_str(), "rb"));
  MINIDL_CHECK(f != nullptr, IOError, "{}: cannot open: {}", path, std::strerror(errno));
  gzbuffer(f.get(), 1 << 17);

  uint8_t head[4];
  const int64_t got_head = read_bytes(f.get(), path, head, 4);
  MINIDL_CHECK(got_head == 4, IOError, "{}: truncated IDX header: expected 4 magic bytes, found {}", path, got_head);
  const uint32_t magic = (uint32_t{head[0]} << 24) | (uint32_t{head[1]} << 16) | (uint32_t{head[2]} << 8) | head[3];
  const uint32_t expected_magic = 0x800u | static_cast<uint32_t>(rank);
  MINIDL_CHECK(magic == expected_magic, IOError,
               "{}: bad IDX magic: expected 0x{:08x} (unsigned bytes, rank {}), found 0x{:08x}", path, expected_magic,
               rank, magic);

  std::vector<uint8_t> dims_raw(4 * rank);
  const int64_t got_dims = read_bytes(f.get(), path, dims_raw.data(), 4 * rank);
  MINIDL_CHECK(got_dims == 4 * rank, IOError, "{}: truncated IDX header: expected {} dimension bytes, found {}", path,
               4 * rank, got_dims);
  Shape shape(rank);  // [N, ...]
  int64_t item = 1;  // elements per item; two 32-bit dimensions could overflow int64, so it stops at the limit
  bool too_large = false;
  for (int i = 0; i < rank; ++i) {
    const uint8_t* d = &dims_raw[4 * i];
    shape[i] = (int64_t{d[0]} << 24) | (int64_t{d[1]} << 16) | (int64_t{d[2]} << 8) | d[3];
    const int64_t dim = std::max<int64_t>(shape[i], 1);
    if (i > 0 && dim > kMaxIdxElements / item)
      too_large = true;
    else if (i > 0)
      item *= dim;
  }
  MINIDL_CHECK(!too_large && item <= kMaxIdxElements && shape[0] <= kMaxIdxElements / item, IOError,
               "{}: IDX dimensions {} are too large (limit {} elements)", path, shape_str(shape), kMaxIdxElements);
  const Shape declared = shape;
  if (limit >= 0) shape[0] = std::min(shape[0], limit);

  // The declared size is checked before allocating. Stored plainly, the data must be in the
  // file; gzip-compressed, deflate inflates at most 1032:1, so a file can hold no more than
  // that many times its size. Either way the float32 tensor must fit the read budget.
  const int64_t n = shape[0] * item;
  const int64_t header_bytes = 4 + 4 * static_cast<int64_t>(rank);
  const int64_t file_size = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  const bool plain = gzdirect(f.get()) != 0;
  const int64_t can_hold = ec ? std::numeric_limits<int64_t>::max()
                              : plain ? file_size - header_bytes
                                      : std::min(file_size, std::numeric_limits<int64_t>::max() / 1032) * 1032;
  MINIDL_CHECK(n <= can_hold, IOError,
               "{}: truncated IDX data: header declares shape {}, expected {} data bytes, but the {} file of {} bytes "
               "can hold at most {}",
               path, shape_str(declared), n, plain ? "uncompressed" : "gzip", file_size, can_hold);
  const int64_t budget = max_read_bytes();
  MINIDL_CHECK(n * static_cast<int64_t>(sizeof(float)) <= budget, IOError,
               "{}: IDX shape {} needs {} bytes as float32, more than the read budget of {} bytes (half of physical "
               "memory; set MINIDL_MAX_READ_BYTES to change it)",
               path, shape_str(shape), n * static_cast<int64_t>(sizeof(float)), budget);

  Tensor out(shape);
  std::vector<uint8_t> buf(static_cast<size_t>(std::min<int64_t>(n, 1 << 20)));
  for (int64_t done = 0; done < n;) {
    const int64_t want = std::min<int64_t>(n - done, static_cast<int64_t>(buf.size()));
    const int64_t got = read_bytes(f.get(), path, buf.data(), want);
    std::transform(buf.begin(), buf.begin() + got, out.data() + done, [](uint8_t b) { return float(b); });
    done += got;
    MINIDL_CHECK(got == want, IOError,
                 "{}: truncated IDX data: header declares shape {}, expected {} data bytes, found {}", path,
                 shape_str(declared), n, done);
  }
  return out;
}

Tensor read_idx_images(const std::string& path, int64_t limit) { return read_idx(path, 3, limit); }
Tensor read_idx_labels(const std::string& path, int64_t limit) { return read_idx(path, 1, limit); }

}  // namespace minidl
