// io/npy.cpp — NumPy .npy reading and writing (io/npy.h).
#include "io/npy.h"

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/errors.h"
#include "core/memory.h"
#include "io/atomic_file.h"

namespace minidl {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";  // 6 bytes
constexpr int64_t kMaxNpyElements = int64_t{1} << 31;

// The value after 'key': in the header's Python dict literal, trimmed of leading spaces.
std::string value_after(const std::string& header, const std::string& key, const std::string& path) {
  for (const char q : {'\'', '"'}) {
    const std::string k = std::string(1, q) + key + q;
    size_t at = header.find(k);
    if (at == std::string::npos) continue;
    at = header.find(':', at + k.size());
    if (at == std::string::npos) break;
    at = header.find_first_not_of(' ', at + 1);
    if (at != std::string::npos) return header.substr(at);
  }
  raise<IOError>("{}: .npy header has no '{}' entry: {}", path, key, header);
}

std::string parse_descr(const std::string& v, const std::string& path) {
  const char q = v.empty() ? 0 : v[0];
  const size_t end = (q == '\'' || q == '"') ? v.find(q, 1) : std::string::npos;
  MINIDL_CHECK(end != std::string::npos, IOError, "{}: malformed .npy descr: {}", path, v);
  return v.substr(1, end - 1);
}

Shape parse_shape(const std::string& v, const std::string& path) {
  const size_t close = v.find(')');
  MINIDL_CHECK(!v.empty() && v[0] == '(' && close != std::string::npos, IOError, "{}: malformed .npy shape: {}", path,
               v);
  Shape shape;
  const std::string inner = v.substr(1, close - 1);
  size_t pos = 0;
  while (pos < inner.size()) {
    pos = inner.find_first_not_of(", ", pos);
    if (pos == std::string::npos) break;
    size_t used = 0;
    int64_t d = -1;
    try {
      d = std::stoll(inner.substr(pos), &used);
    } catch (const std::exception&) {
    }
    MINIDL_CHECK(used > 0 && d >= 0, IOError, "{}: malformed .npy shape: {}", path, v.substr(0, close + 1));
    shape.push_back(d);
    pos += used;
  }
  return shape;
}

template <class T>
void convert(const std::vector<char>& raw, Tensor* out) {
  float* dst = out->data();
  for (int64_t i = 0; i < out->numel(); ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    dst[i] = static_cast<float>(v);
  }
}

}  // namespace

Tensor read_npy(const std::string& path) {
  std::error_code ec;
  MINIDL_CHECK(std::filesystem::is_regular_file(path, ec), IOError, "{}: no such file", path);
  std::ifstream in(path, std::ios::binary);
  MINIDL_CHECK(in.good(), IOError, "{}: cannot open", path);
  const int64_t file_size = static_cast<int64_t>(std::filesystem::file_size(path, ec));

  char pre[8] = {};
  in.read(pre, 8);
  MINIDL_CHECK(in.gcount() == 8 && std::memcmp(pre, kMagic, 6) == 0, IOError,
               "{}: not a .npy file (expected magic \\x93NUMPY)", path);
  const int major = static_cast<unsigned char>(pre[6]);
  MINIDL_CHECK(major >= 1 && major <= 3, IOError, "{}: unsupported .npy format version {}.{} (expected 1.0-3.0)", path,
               major, int(static_cast<unsigned char>(pre[7])));
  unsigned char len_bytes[4] = {};
  const int len_size = major == 1 ? 2 : 4;
  in.read(reinterpret_cast<char*>(len_bytes), len_size);
  int64_t header_len = 0;
  for (int i = len_size - 1; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  const int64_t data_start = 8 + len_size + header_len;
  MINIDL_CHECK(in.gcount() == len_size && data_start <= file_size, IOError,
               "{}: truncated .npy header (declares {} bytes, file has {})", path, header_len, file_size);
  std::string header(static_cast<size_t>(header_len), '\0');
  in.read(header.data(), header_len);

  const std::string descr = parse_descr(value_after(header, "descr", path), path);
  const bool fortran = value_after(header, "fortran_order", path).rfind("True", 0) == 0;
  MINIDL_CHECK(!fortran, IOError, "{}: fortran_order True is not supported (save with C order)", path);
  const Shape shape = parse_shape(value_after(header, "shape", path), path);

  int64_t n = 1;
  bool too_big = false;
  for (int64_t d : shape) {
    if (d > 0 && n > kMaxNpyElements / d) too_big = true;  // checked before multiplying: no overflow
    n = too_big ? n : n * d;
  }
  MINIDL_CHECK(!too_big, IOError, "{}: shape {} is too large (limit {} elements)", path, shape_str(shape),
               kMaxNpyElements);
  const int item = descr == "<f4" || descr == "<i4" ? 4 : descr == "<f8" || descr == "<i8" ? 8 : descr == "|u1" ? 1 : 0;
  MINIDL_CHECK(item > 0, IOError, "{}: unsupported dtype '{}' (supported: '<f4', '<f8', '<i4', '<i8', '|u1')", path,
               descr);
  MINIDL_CHECK(file_size - data_start == n * item, IOError, "{}: shape {} of '{}' needs {} data bytes, found {}", path,
               shape_str(shape), descr, n * item, file_size - data_start);

  // The file holds the declared bytes (checked above); the raw copy and the float32 tensor
  // must also fit the read budget together.
  const int64_t budget = max_read_bytes();
  MINIDL_CHECK(n * (item + 4) <= budget, IOError,
               "{}: .npy shape {} of '{}' needs {} bytes to read ({} raw, {} as float32), more than the read budget "
               "of {} bytes (half of physical memory; set MINIDL_MAX_READ_BYTES to change it)",
               path, shape_str(shape), descr, n * (item + 4), n * item, n * 4, budget);
  std::vector<char> raw(static_cast<size_t>(n * item));
  in.read(raw.data(), n * item);
  MINIDL_CHECK(in.gcount() == n * item, IOError, "{}: read failed after {} data bytes", path, in.gcount());
  Tensor out(shape);
  if (descr == "<f4")
    convert<float>(raw, &out);
  else if (descr == "<f8")
    convert<double>(raw, &out);
  else if (descr == "<i4")
    convert<int32_t>(raw, &out);
  else if (descr == "<i8")
    convert<int64_t>(raw, &out);
  else
    convert<uint8_t>(raw, &out);
  return out;
}

void write_npy(const std::string& path, const Tensor& t) {
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': {}, }}", shape_str(t.shape()));
  // NumPy pads with spaces and a final newline so the data starts at a multiple of 64 bytes.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  const uint16_t len = static_cast<uint16_t>(header.size());
  atomic_write(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    MINIDL_CHECK(out.good(), IOError, "{}: cannot create", tmp);
    out.write(kMagic, 6);
    out.put(1).put(0).put(static_cast<char>(len & 0xff)).put(static_cast<char>(len >> 8));
    out << header;
    if (t.numel() > 0) out.write(reinterpret_cast<const char*>(t.data()), t.numel() * sizeof(float));
    out.close();
    MINIDL_CHECK(out.good(), IOError, "{}: write failed", path);
  });
}

}  // namespace minidl
