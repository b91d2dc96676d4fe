// tests/io/image_decode_test.cpp — io/image_decode.h: each format against known pixels
// (a BMP built byte by byte from the format's documented layout; PNG, BMP and
// GIF written by save_image and read back exactly; JPEG within a tolerance),
// the colour-mode conversions, and bad input: empty, unknown, corrupt and
// truncated files, each an IOError naming the file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "io/image_dataset_files.h"
#include "io/image_decode.h"
#include "support/files.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// A W x H x C image whose values differ per pixel and channel.
std::vector<float> pattern(int64_t H, int64_t W, int64_t C) {
  std::vector<float> v(static_cast<size_t>(H * W * C));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 53 + 7) % 256);
  return v;
}

std::vector<uint8_t> bytes_of(const std::string& path) { return read_file_bytes(path); }

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

// A 3 x 2 (width x height) 24-bit BMP laid out as the BMP format documents it:
// a 14-byte file header, a 40-byte BITMAPINFOHEADER, then rows bottom-up, each
// pixel as B, G, R, each row padded to a multiple of 4 bytes.
std::vector<uint8_t> hand_made_bmp(const uint8_t rgb[2][3][3]) {
  const uint32_t row = 12;  // 3 pixels * 3 bytes = 9, padded to 12
  std::vector<uint8_t> b = {'B', 'M'};
  put32(b, 54 + 2 * row);
  put32(b, 0);
  put32(b, 54);
  put32(b, 40);
  put32(b, 3);  // width
  put32(b, 2);  // height (positive: bottom-up)
  put16(b, 1);
  put16(b, 24);
  put32(b, 0);  // no compression
  put32(b, 2 * row);
  put32(b, 2835);
  put32(b, 2835);
  put32(b, 0);
  put32(b, 0);
  for (int y = 1; y >= 0; --y) {
    for (int x = 0; x < 3; ++x)
      for (int c = 2; c >= 0; --c) b.push_back(rgb[y][x][c]);
    b.insert(b.end(), row - 9, 0);
  }
  return b;
}

template <class F>
void expect_io_error_naming(const std::string& path, F&& f, const std::string& what = "") {
  try {
    f();
    ADD_FAILURE() << "no error for " << path;
  } catch (const IOError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    if (!what.empty()) {
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  }
}

TEST(ImageDecode, HandMadeBmpGivesItsPixels) {
  const uint8_t rgb[2][3][3] = {{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}}, {{10, 20, 30}, {40, 50, 60}, {70, 80, 90}}};
  const std::string path = fresh_path("hand.bmp");
  write_bytes(path, hand_made_bmp(rgb));
  const DecodedImage img = decode_image_file(path, ColorMode::RGB);
  ASSERT_EQ(img.height, 2);
  ASSERT_EQ(img.width, 3);
  ASSERT_EQ(img.channels, 3);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(img.pixels[(y * 3 + x) * 3 + c], rgb[y][x][c]) << y << "," << x << "," << c;
}

TEST(ImageDecode, LosslessFormatsRoundTripExactly) {
  const auto dir = fresh_dir();
  for (int64_t C : {1, 3, 4}) {
    const auto px = pattern(5, 7, C);
    for (const char* ext : {".png", ".bmp"}) {
      const std::string path = (dir / (std::to_string(C) + ext)).string();
      save_image(path, px.data(), 5, 7, C);
      const ColorMode mode = C == 1 ? ColorMode::Grayscale : C == 3 ? ColorMode::RGB : ColorMode::RGBA;
      const DecodedImage img = decode_image_file(path, mode);
      ASSERT_EQ(img.height, 5) << path;
      ASSERT_EQ(img.width, 7) << path;
      EXPECT_EQ(img.pixels, px) << path;
    }
  }
}

TEST(ImageDecode, GifWithFewColoursIsExact) {
  // 12 colours fit GIF's palette, so the round trip is exact; GIF has no alpha.
  std::vector<float> px(6 * 4 * 3);
  for (size_t p = 0; p < 24; ++p)
    for (size_t c = 0; c < 3; ++c) px[p * 3 + c] = static_cast<float>(((p % 12) * 20 + c * 7) % 256);
  const std::string path = fresh_path("few.gif");
  save_image(path, px.data(), 6, 4, 3);
  EXPECT_EQ(decode_image_file(path, ColorMode::RGB).pixels, px);
  const DecodedImage rgba = decode_image_file(path, ColorMode::RGBA);
  for (int64_t p = 0; p < 24; ++p) EXPECT_EQ(rgba.pixels[p * 4 + 3], 255.0f);
}

TEST(ImageDecode, GrayGifIsExact) {
  const auto px = pattern(9, 11, 1);
  const std::string path = fresh_path("gray.gif");
  save_image(path, px.data(), 9, 11, 1);
  EXPECT_EQ(decode_image_file(path, ColorMode::Grayscale).pixels, px);
}

TEST(ImageDecode, JpegIsCloseOnASmoothImage) {
  // JPEG is lossy: a smooth gradient at quality 95 comes back within a few levels.
  const int64_t H = 32, W = 48;
  std::vector<float> px(H * W * 3);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      px[(y * W + x) * 3 + 0] = static_cast<float>(4 * x);
      px[(y * W + x) * 3 + 1] = static_cast<float>(6 * y);
      px[(y * W + x) * 3 + 2] = 128.0f;
    }
  const std::string path = fresh_path("smooth.jpg");
  save_image(path, px.data(), H, W, 3);
  const DecodedImage img = decode_image_file(path, ColorMode::RGB);
  ASSERT_EQ(img.pixels.size(), px.size());
  double worst = 0, sum = 0;
  for (size_t i = 0; i < px.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::abs(img.pixels[i] - px[i])));
    sum += std::abs(img.pixels[i] - px[i]);
  }
  EXPECT_LE(worst, 12.0);
  EXPECT_LE(sum / static_cast<double>(px.size()), 2.0);
}

TEST(ImageDecode, ColorModesConvertAsDocumented) {
  const auto dir = fresh_dir();
  const std::vector<float> rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 200, 30};  // 1 x 4
  const std::string color = (dir / "color.png").string();
  save_image(color, rgb.data(), 1, 4, 3);
  const DecodedImage gray = decode_image_file(color, ColorMode::Grayscale);
  ASSERT_EQ(gray.channels, 1);
  for (int p = 0; p < 4; ++p) {
    const double want = 0.2989 * rgb[p * 3] + 0.5870 * rgb[p * 3 + 1] + 0.1140 * rgb[p * 3 + 2];
    EXPECT_EQ(gray.pixels[p], std::nearbyint(want)) << p;
  }
  const DecodedImage rgba = decode_image_file(color, ColorMode::RGBA);
  for (int p = 0; p < 4; ++p) {
    for (int c = 0; c < 3; ++c) EXPECT_EQ(rgba.pixels[p * 4 + c], rgb[p * 3 + c]);
    EXPECT_EQ(rgba.pixels[p * 4 + 3], 255.0f);
  }
  const std::vector<float> g = {0, 77, 255};
  const std::string grayfile = (dir / "gray.png").string();
  save_image(grayfile, g.data(), 1, 3, 1);
  const DecodedImage as_rgb = decode_image_file(grayfile, ColorMode::RGB);
  for (int p = 0; p < 3; ++p)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(as_rgb.pixels[p * 3 + c], g[p]);
  // Alpha is dropped for rgb.
  const std::vector<float> ga = {50, 10, 60, 20};  // gray + alpha, 1 x 2
  const std::string gafile = (dir / "ga.png").string();
  save_image(gafile, ga.data(), 1, 2, 2);
  EXPECT_EQ(decode_image_file(gafile, ColorMode::RGB).pixels, (std::vector<float>{50, 50, 50, 60, 60, 60}));
  EXPECT_EQ(decode_image_file(gafile, ColorMode::RGBA).pixels,
            (std::vector<float>{50, 50, 50, 10, 60, 60, 60, 20}));
}

TEST(ImageDecode, FormatComesFromTheBytesNotTheName) {
  const auto px = pattern(3, 3, 3);
  const auto dir = fresh_dir();
  const std::string png = (dir / "real.png").string();
  save_image(png, px.data(), 3, 3, 3);
  const std::string named_jpg = (dir / "named.jpg").string();
  write_bytes(named_jpg, bytes_of(png));
  EXPECT_EQ(decode_image_file(named_jpg, ColorMode::RGB).pixels, px);
}

TEST(ImageDecode, BadInputIsAnIOErrorNamingTheFile) {
  const auto dir = fresh_dir();
  const auto px = pattern(16, 16, 3);
  // Empty, and a text file with an image suffix.
  const std::string empty = (dir / "empty.png").string();
  write_bytes(empty, {});
  expect_io_error_naming(empty, [&] { decode_image_file(empty, ColorMode::RGB); }, "empty");
  const std::string text = (dir / "notes.png").string();
  write_bytes(text, {'h', 'e', 'l', 'l', 'o'});
  expect_io_error_naming(text, [&] { decode_image_file(text, ColorMode::RGB); }, "unknown image file format");
  // A missing file.
  const std::string missing = (dir / "missing.png").string();
  expect_io_error_naming(missing, [&] { decode_image_file(missing, ColorMode::RGB); });
  // Each format cut in half, and with its body overwritten.
  for (const char* ext : {".png", ".jpg", ".bmp", ".gif"}) {
    const std::string good = (dir / (std::string("good") + ext)).string();
    save_image(good, px.data(), 16, 16, 3);
    const std::vector<uint8_t> full = bytes_of(good);
    const std::string cut = (dir / (std::string("cut") + ext)).string();
    write_bytes(cut, std::vector<uint8_t>(full.begin(), full.begin() + static_cast<long>(full.size() / 2)));
    SCOPED_TRACE(cut);
    expect_io_error_naming(cut, [&] { decode_image_file(cut, ColorMode::RGB); });
  }
  const std::string png = (dir / "good.png").string();
  std::vector<uint8_t> corrupt = bytes_of(png);
  for (size_t i = 16; i < corrupt.size(); ++i) corrupt[i] = static_cast<uint8_t>(i * 31);
  const std::string bad = (dir / "corrupt.png").string();
  write_bytes(bad, corrupt);
  expect_io_error_naming(bad, [&] { decode_image_file(bad, ColorMode::RGB); }, "PNG");
}

TEST(ImageDecode, ColorModeNamesAreKeras) {
  EXPECT_EQ(parse_color_mode("grayscale"), ColorMode::Grayscale);
  EXPECT_EQ(parse_color_mode("rgb"), ColorMode::RGB);
  EXPECT_EQ(parse_color_mode("rgba"), ColorMode::RGBA);
  EXPECT_EQ(color_mode_channels(ColorMode::RGBA), 4);
  try {
    parse_color_mode("cmyk");
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("Received: color_mode=cmyk"), std::string::npos) << e.what();
  }
}

TEST(ImageDecode, SaveImageRefusesUnknownSuffixAndUnwritablePath) {
  const auto px = pattern(2, 2, 3);
  const std::string tiff = fresh_path("x.tiff");
  EXPECT_THROW(save_image(tiff, px.data(), 2, 2, 3), ValueError);
  const std::string nowhere = (fresh_dir() / "no_such_folder" / "x.png").string();
  try {
    save_image(nowhere, px.data(), 2, 2, 3);
    FAIL();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("x.png"), std::string::npos) << e.what();
  }
}

}  // namespace

// A 46-byte BMP whose header claims width 1229406720, height -50330368 and
// 6399 bits per pixel: rows x row bytes passes 2^63, and the answer is a
// truncated file, not an integer overflow (an input fuzz_image found).
TEST(ImageDecode, BmpHeaderWithHugeSizesIsTruncated) {
  const std::vector<uint8_t> bytes = {0x42, 0x4d, 0x2c, 0x00, 0x00, 0x00, 0xfd, 0xff, 0x00, 0x00, 0x36, 0xc1,
                                      0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x42, 0x47, 0x49, 0x00, 0x05,
                                      0x00, 0xfd, 0xff, 0xfe, 0xff, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  // 68 bytes, 135 x 458752 pixels, compression field 0xaa4d4200 (stb reads
  // any value but run-length encoding as plain rows).
  const std::vector<uint8_t> tall = {
      0x42, 0x4d, 0xae, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x36, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00,
      0x00, 0x87, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01, 0x00, 0x18, 0x00, 0x00, 0x42, 0x4d, 0xaa,
      0x00, 0x00, 0xe1, 0xd9, 0xcd, 0xb6, 0xbb, 0xbe, 0xc3, 0x74, 0x00, 0x00, 0x00, 0x4d, 0xaa, 0x00, 0x00,
      0xe1, 0xd9, 0xcd, 0xb6, 0xbb, 0xbe, 0xc3, 0x74, 0x00, 0x00, 0x0d, 0x1f, 0x26, 0x11, 0x6a, 0x55, 0xb0};
  for (ColorMode mode : {ColorMode::Grayscale, ColorMode::RGB, ColorMode::RGBA}) {
    DecodedImage image;
    try {
      decode_image(tall, mode, "tall.bmp", image);
      ADD_FAILURE() << "decoded a 68-byte BMP that claims 458752 rows";
    } catch (const IOError& e) {
      EXPECT_NE(std::string(e.what()).find("truncated BMP"), std::string::npos) << e.what();
    }
    try {
      decode_image(bytes, mode, "huge.bmp", image);
      ADD_FAILURE() << "decoded a 46-byte BMP that claims gigapixels";
    } catch (const IOError& e) {
      EXPECT_NE(std::string(e.what()).find("huge.bmp"), std::string::npos) << e.what();
    }
  }
}
