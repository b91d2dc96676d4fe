// io/image_dataset_files.cpp — save_image (io/image_dataset_files.h): stb_image_write for PNG,
// JPEG and BMP, giflib for GIF (stb writes no GIF).
#include "io/image_dataset_files.h"

#include <gif_lib.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <vector>

#include "core/errors.h"
#include "io/atomic_file.h"

namespace minidl {

namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

std::vector<uint8_t> to_bytes(const float* pixels, int64_t n) {
  std::vector<uint8_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float v = std::nearbyint(std::clamp(pixels[i], 0.0f, 255.0f));
    out[i] = std::isnan(pixels[i]) ? 0 : static_cast<uint8_t>(v);
  }
  return out;
}

// RGB triples of every pixel (gray repeated, alpha dropped).
std::vector<uint8_t> rgb_of(const std::vector<uint8_t>& px, int64_t pixels, int64_t channels) {
  std::vector<uint8_t> rgb(static_cast<size_t>(pixels * 3));
  for (int64_t p = 0; p < pixels; ++p)
    for (int c = 0; c < 3; ++c) rgb[p * 3 + c] = px[p * channels + (channels >= 3 ? c : 0)];
  return rgb;
}

// A palette and per-pixel indices: exact when the image has at most 256
// colours, else giflib's median-cut quantization.
void palettize(const std::vector<uint8_t>& rgb, int64_t pixels, int64_t height, int64_t width,
               std::vector<GifColorType>& palette, std::vector<GifByteType>& index, const std::string& path) {
  index.resize(static_cast<size_t>(pixels));
  std::map<uint32_t, int> seen;
  for (int64_t p = 0; p < pixels && seen.size() <= 256; ++p) {
    const uint32_t key = rgb[p * 3] << 16 | rgb[p * 3 + 1] << 8 | rgb[p * 3 + 2];
    auto [it, added] = seen.emplace(key, static_cast<int>(seen.size()));
    if (added && seen.size() <= 256) palette.push_back({rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2]});
    index[p] = static_cast<GifByteType>(it->second);
  }
  if (seen.size() <= 256) {
    while (palette.size() < 2 || (palette.size() & (palette.size() - 1)) != 0) palette.push_back({0, 0, 0});
    return;
  }
  std::vector<GifByteType> r(pixels), g(pixels), b(pixels);
  for (int64_t p = 0; p < pixels; ++p) r[p] = rgb[p * 3], g[p] = rgb[p * 3 + 1], b[p] = rgb[p * 3 + 2];
  int size = 256;
  palette.assign(256, {0, 0, 0});
  if (GifQuantizeBuffer(static_cast<unsigned>(width), static_cast<unsigned>(height), &size, r.data(), g.data(), b.data(),
                        index.data(), palette.data()) == GIF_ERROR)
    throw IOError(fmt::format("{}: giflib could not quantize the image to 256 colours", path));
}

void write_gif(const std::string& tmp, const std::string& path, const std::vector<uint8_t>& px, int64_t height,
               int64_t width, int64_t channels) {
  const int64_t pixels = height * width;
  std::vector<GifColorType> palette;
  std::vector<GifByteType> index;
  palettize(rgb_of(px, pixels, channels), pixels, height, width, palette, index, path);
  int error = 0;
  GifFileType* gif = EGifOpenFileName(tmp.c_str(), false, &error);
  if (!gif) throw IOError(fmt::format("{}: cannot write GIF: {}", path, GifErrorString(error)));
  ColorMapObject* map = GifMakeMapObject(static_cast<int>(palette.size()), palette.data());
  bool ok = map && EGifPutScreenDesc(gif, static_cast<int>(width), static_cast<int>(height), 8, 0, map) != GIF_ERROR &&
            EGifPutImageDesc(gif, 0, 0, static_cast<int>(width), static_cast<int>(height), false, nullptr) != GIF_ERROR;
  for (int64_t y = 0; ok && y < height; ++y)
    ok = EGifPutLine(gif, index.data() + y * width, static_cast<int>(width)) != GIF_ERROR;
  const int write_error = gif->Error;
  GifFreeMapObject(map);
  int close_error = 0;
  const bool closed = EGifCloseFile(gif, &close_error) != GIF_ERROR;
  if (!ok || !closed)
    throw IOError(fmt::format("{}: cannot write GIF: {}", path, GifErrorString(ok ? close_error : write_error)));
}

}  // namespace

void save_image(const std::string& path, const float* pixels, int64_t height, int64_t width, int64_t channels,
                const SaveImageOptions& options) {
  MINIDL_CHECK(height > 0 && width > 0 && height < (1 << 24) && width < (1 << 24), ValueError,
               "save_image {}: expected a positive image size below 2^24, received {}x{}", path, height, width);
  MINIDL_CHECK(channels >= 1 && channels <= 4, ValueError,
               "save_image {}: expected 1 to 4 channels (gray, gray + alpha, RGB, RGBA), received {}", path, channels);
  MINIDL_CHECK(options.jpeg_quality >= 1 && options.jpeg_quality <= 100, ValueError,
               "save_image {}: jpeg_quality must be in [1, 100], received {}", path, options.jpeg_quality);
  const std::string ext = lower_extension(path);
  if (ext != ".png" && ext != ".jpg" && ext != ".jpeg" && ext != ".bmp" && ext != ".gif")
    throw ValueError(fmt::format(
        "save_image {}: unknown image format '{}': expected a path ending in .png, .jpg, .jpeg, .bmp or .gif", path, ext));
  const std::vector<uint8_t> px = to_bytes(pixels, height * width * channels);
  const int w = static_cast<int>(width), h = static_cast<int>(height), c = static_cast<int>(channels);
  atomic_write(path, [&](const std::string& tmp) {
    int ok = 0;
    if (ext == ".png") {
      ok = stbi_write_png(tmp.c_str(), w, h, c, px.data(), w * c);
    } else if (ext == ".bmp") {
      ok = stbi_write_bmp(tmp.c_str(), w, h, c, px.data());
    } else if (ext == ".gif") {
      write_gif(tmp, path, px, height, width, channels);
      ok = 1;
    } else {
      // JPEG has no alpha: stb drops it for 2 and 4 channels.
      ok = stbi_write_jpg(tmp.c_str(), w, h, c, px.data(), options.jpeg_quality);
    }
    if (!ok) throw IOError(fmt::format("{}: cannot write the image (is the folder writable?)", path));
  });
}

}  // namespace minidl
