// fuzz/fuzz_image.cpp — fuzz target: image bytes (PNG, JPEG, BMP, GIF) through decode_image, in each color mode.
#include <stb_image.h>

#include <span>

#include "fuzz_input.h"
#include "io/image_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    minidl::set_log_level("off");
    return true;
  }();
  (void)quiet;
  // A few compressed bytes may rightly declare a canvas of 167 million pixels
  // (65529 x 2555 in a 400-byte GIF): decoding it is correct and takes
  // minutes under the sanitizers, so compressed images over 2^22 pixels are
  // left out. A BMP's rows must be in the file, so every BMP is decoded.
  int w = 0, h = 0, channels = 0;
  const bool bmp = size >= 2 && data[0] == 'B' && data[1] == 'M';
  if (!bmp && size <= (1u << 30) &&
      stbi_info_from_memory(data, static_cast<int>(size), &w, &h, &channels) &&
      static_cast<int64_t>(w) * h > (int64_t{1} << 22))
    return 0;
  const std::span<const uint8_t> bytes(data, size);
  minidl::DecodedImage image;
  for (minidl::ColorMode mode : {minidl::ColorMode::Grayscale, minidl::ColorMode::RGB, minidl::ColorMode::RGBA}) {
    try {
      minidl::decode_image(bytes, mode, "fuzz-input", image);
    } catch (const std::exception&) {
      // A clear exception is the contract's answer to a bad file.
    }
  }
  return 0;
}
