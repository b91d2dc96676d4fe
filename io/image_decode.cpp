// io/image_decode.cpp — decoding PNG, JPEG, BMP and GIF with stb_image (io/image_decode.h).
//
// Why stb_image (Debian's libstb): one maintained library reads all four
// formats Keras accepts, from memory, with one error path
// (stbi_failure_reason, thread-local in Debian's build) and animated GIFs
// reduced to their first frame, as Keras truncates them. libpng, libjpeg-turbo
// and giflib would mean three libraries and three error conventions (libjpeg's
// longjmp among them) for the same pixels; PNG, BMP and GIF are lossless, so
// every decoder gives the same values, and a JPEG decoded by stb differs from
// libjpeg-turbo's (TensorFlow's) by a level or two where their IDCT and chroma
// upsampling round differently.
//
// stb_image is lenient where TensorFlow is strict: it decodes a truncated JPEG
// or BMP, filling the missing part. The checks below refuse those first, as
// TensorFlow does (libjpeg's "premature end of data" is an error there, and
// its BMP reader checks the pixel array fits in the file).
#include "io/image_decode.h"

#include <stb_image.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>

#include "core/errors.h"

namespace minidl {

namespace {

enum class Format { Unknown, Jpeg, Png, Gif, Bmp };

// By the magic bytes, as TensorFlow's decode_image classifies a file.
Format classify(std::span<const uint8_t> b) {
  auto starts = [&](std::initializer_list<uint8_t> magic) {
    return b.size() >= magic.size() && std::equal(magic.begin(), magic.end(), b.begin());
  };
  if (starts({0xFF, 0xD8, 0xFF})) return Format::Jpeg;
  if (starts({0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) return Format::Png;
  if (starts({'G', 'I', 'F', '8'})) return Format::Gif;
  if (starts({'B', 'M'})) return Format::Bmp;
  return Format::Unknown;
}

const char* format_name(Format f) {
  switch (f) {
    case Format::Jpeg: return "JPEG";
    case Format::Png: return "PNG";
    case Format::Gif: return "GIF";
    case Format::Bmp: return "BMP";
    case Format::Unknown: break;
  }
  return "unknown";
}

uint32_t le32(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint32_t>(b[at]) | static_cast<uint32_t>(b[at + 1]) << 8 | static_cast<uint32_t>(b[at + 2]) << 16 |
         static_cast<uint32_t>(b[at + 3]) << 24;
}

// A JPEG's compressed data ends with an EOI marker (FF D9) after its last
// start-of-scan (FF DA). Inside compressed data a 0xFF byte is always followed
// by 0x00 or a restart marker, so FF D9 there is the real end; searching after
// the last SOS skips the EOI of an EXIF thumbnail, which comes earlier.
void check_jpeg_complete(std::span<const uint8_t> b, const std::string& name) {
  size_t last_sos = std::string::npos;
  for (size_t i = 0; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xDA) last_sos = i;
  bool ended = false;
  if (last_sos != std::string::npos)
    for (size_t i = last_sos + 2; i + 1 < b.size() && !ended; ++i) ended = b[i] == 0xFF && b[i + 1] == 0xD9;
  if (!ended)
    throw IOError(fmt::format("{}: truncated JPEG: no end-of-image marker after the image data ({} bytes)", name,
                              b.size()));
}

// An uncompressed BMP's pixel rows (each padded to 4 bytes) must fit in the file.
void check_bmp_complete(std::span<const uint8_t> b, const std::string& name) {
  if (b.size() < 34) throw IOError(fmt::format("{}: truncated BMP: {} bytes, the headers need 34", name, b.size()));
  const uint32_t offset = le32(b, 10);
  const auto width = static_cast<int32_t>(le32(b, 18));
  const auto height = static_cast<int32_t>(le32(b, 22));
  const int bpp = b[28] | b[29] << 8;
  const uint32_t compression = le32(b, 30);
  // stb refuses run-length encoding (1, 2) and reads every other value as
  // uncompressed rows, so those rows must be in the file.
  if (compression == 1 || compression == 2) return;
  if (width <= 0 || height == 0 || bpp == 0) return;  // stb reports the bad header
  const int64_t row = (static_cast<int64_t>(bpp) * width + 31) / 32 * 4;  // < 2^48: no overflow
  const int64_t rows = std::abs(static_cast<int64_t>(height));
  const auto size = static_cast<int64_t>(b.size());
  // row * rows can pass 2^63 for header values no real file has: compare by division first.
  if (rows > (size - static_cast<int64_t>(offset)) / row || static_cast<int64_t>(offset) + row * rows > size)
    throw IOError(fmt::format("{}: truncated BMP: the pixel data needs {} rows of {} bytes from offset {}, the file "
                              "has {} bytes",
                              name, rows, row, offset, size));
}

struct StbFree {
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};

// Native channels (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA) to the requested mode.
void convert(const unsigned char* src, int64_t pixels, int native, ColorMode mode, float* dst) {
  const int out = color_mode_channels(mode);
  for (int64_t p = 0; p < pixels; ++p, src += native, dst += out) {
    const bool color = native >= 3;
    const bool alpha = native == 2 || native == 4;
    const float a = alpha ? src[native - 1] : 255.0f;
    if (mode == ColorMode::Grayscale) {
      dst[0] = color ? std::nearbyint(0.2989f * src[0] + 0.5870f * src[1] + 0.1140f * src[2]) : src[0];
      dst[0] = std::min(dst[0], 255.0f);
      continue;
    }
    for (int c = 0; c < 3; ++c) dst[c] = color ? src[c] : src[0];
    if (mode == ColorMode::RGBA) dst[3] = a;
  }
}

}  // namespace

ColorMode parse_color_mode(const std::string& name) {
  if (name == "grayscale") return ColorMode::Grayscale;
  if (name == "rgb") return ColorMode::RGB;
  if (name == "rgba") return ColorMode::RGBA;
  throw ValueError(fmt::format("`color_mode` must be one of {{\"rgb\", \"rgba\", \"grayscale\"}}. Received: color_mode={}",
                               name));
}

const char* color_mode_name(ColorMode mode) {
  switch (mode) {
    case ColorMode::Grayscale: return "grayscale";
    case ColorMode::RGB: return "rgb";
    case ColorMode::RGBA: return "rgba";
  }
  return "?";
}

int color_mode_channels(ColorMode mode) {
  switch (mode) {
    case ColorMode::Grayscale: return 1;
    case ColorMode::RGB: return 3;
    case ColorMode::RGBA: return 4;
  }
  return 0;
}

void decode_image(std::span<const uint8_t> bytes, ColorMode mode, const std::string& name, DecodedImage& out) {
  if (bytes.empty()) throw IOError(fmt::format("{}: empty file, expected a PNG, JPEG, GIF or BMP image", name));
  const Format format = classify(bytes);
  if (format == Format::Unknown)
    throw IOError(fmt::format("{}: unknown image file format (first bytes {:02x}); one of JPEG, PNG, GIF, BMP required",
                              name, fmt::join(bytes.first(std::min<size_t>(bytes.size(), 4)), " ")));
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw IOError(fmt::format("{}: {} bytes is too large for the image decoder", name, bytes.size()));
  if (format == Format::Jpeg) check_jpeg_complete(bytes, name);
  if (format == Format::Bmp) check_bmp_complete(bytes, name);

  int w = 0, h = 0, native = 0;
  std::unique_ptr<unsigned char, StbFree> data(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &native, 0));
  if (!data) {
    const char* why = stbi_failure_reason();
    throw IOError(fmt::format("{}: damaged or unsupported {} image: {}", name, format_name(format),
                              why ? why : "the decoder gave no reason"));
  }
  if (format == Format::Gif && native == 4) {
    // TensorFlow decodes GIF to RGB, leaving transparent pixels black.
    unsigned char* p = data.get();
    for (int64_t i = 0; i < static_cast<int64_t>(w) * h; ++i, p += 4)
      if (p[3] == 0) p[0] = p[1] = p[2] = 0;
    for (int64_t i = 0; i < static_cast<int64_t>(w) * h; ++i) {
      unsigned char* q = data.get() + i * 3;
      const unsigned char* s = data.get() + i * 4;
      std::memmove(q, s, 3);
    }
    native = 3;
  }
  out.height = h;
  out.width = w;
  out.channels = color_mode_channels(mode);
  out.pixels.resize(static_cast<size_t>(out.height * out.width * out.channels));
  convert(data.get(), out.height * out.width, native, mode, out.pixels.data());
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw IOError(fmt::format("{}: cannot open the file for reading", path));
  const std::streamoff size = in.tellg();
  if (size < 0) throw IOError(fmt::format("{}: cannot read the file (is it a directory?)", path));
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw IOError(fmt::format("{}: read failed after {} of {} bytes", path, in.gcount(), size));
  return bytes;
}

void decode_image_file(const std::string& path, ColorMode mode, DecodedImage& out) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  decode_image(bytes, mode, path, out);
}

DecodedImage decode_image_file(const std::string& path, ColorMode mode) {
  DecodedImage img;
  decode_image_file(path, mode, img);
  return img;
}

}  // namespace minidl
