// io/image_decode.h — PNG, JPEG, BMP and GIF files to float pixels, as Keras's image loading reads them.
//
// image_dataset_from_directory decodes with tf.io.decode_image(channels=...,
// expand_animations=False): the format is told by the file's first bytes (not
// its name), an animated GIF gives its first frame, and the pixels come out as
// height x width x channels values in [0, 255]. decode_image does the same:
//
//   DecodedImage img;
//   decode_image(bytes, ColorMode::RGB, "cats/001.png", img);   // img.pixels: H*W*3 floats
//
// Colour conversion, for every format alike:
//   grayscale  one channel; colour pixels become 0.2989 R + 0.5870 G + 0.1140 B
//              (the weights of tf.image.rgb_to_grayscale / keras.ops.image.rgb_to_grayscale),
//              rounded to the nearest integer as a decoder's 8-bit output is;
//   rgb        gray is repeated in the three channels, alpha is dropped;
//   rgba       an alpha of 255 is added where the file has none.
// TensorFlow's decoders convert per format (libjpeg's and libpng's own gray
// weights; GIF and BMP refuse one channel); minidl uses one rule for all four.
// GIF has no alpha in TensorFlow: transparent GIF pixels decode as black.
//
// Bad input raises IOError naming the file and what is wrong: an unknown
// format (not PNG, JPEG, GIF or BMP), a damaged or truncated file.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace minidl {

enum class ColorMode { Grayscale, RGB, RGBA };

// "grayscale" | "rgb" | "rgba" -> ColorMode; ValueError with Keras's message otherwise.
ColorMode parse_color_mode(const std::string& name);
const char* color_mode_name(ColorMode mode);
int color_mode_channels(ColorMode mode);  // 1, 3, 4

struct DecodedImage {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<float> pixels;  // height x width x channels, row-major, values in [0, 255]
};

// Decodes an encoded image into `out` (its buffer is reused). `name` (a path)
// is what error messages call the data.
void decode_image(std::span<const uint8_t> bytes, ColorMode mode, const std::string& name, DecodedImage& out);

// Reads and decodes the file at `path`; IOError when it cannot be read.
void decode_image_file(const std::string& path, ColorMode mode, DecodedImage& out);
DecodedImage decode_image_file(const std::string& path, ColorMode mode);

// The whole file as bytes; IOError naming the path when it cannot be read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

}  // namespace minidl
