// fuzz/fuzz_image.cpp — fuzz target: image bytes (PNG, JPEG, BMP, GIF) through decode_image, in each color mode.
#include <span>

#include "fuzz_input.h"
#include "io/image_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    minidl::set_log_level("off");
    return true;
  }();
  (void)quiet;
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
