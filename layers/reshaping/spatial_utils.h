// layers/reshaping/spatial_utils.h — arguments shared by the 2-D spatial layers (pooling,
// padding, cropping, upsampling, spatial dropout).
//
// Keras writes 2-D geometry arguments as an int or a pair ("pool_size": 2 or
// [2, 3]) and padding/cropping amounts as an int, a pair or a pair of pairs
// ([[top, bottom], [left, right]]). The small value types below accept the
// same forms in C++:
//
//   MaxPooling2D({2, 3}, {.strides = 1, .padding = "same"});
//   ZeroPadding2D({{1, 0}, {2, 2}});
//
// data_format follows Keras: "" (None) means the image_data_format of
// $KERAS_HOME/keras.json (default ~/.keras/keras.json), else "channels_last".
//
// Spatial layers store every 4-D input as a logical [B, H, W, C] block: with
// channels_last that is the tensor itself, with channels_first it is
// [N*C, H, W, 1] (each channel plane is an image of one channel), so the same
// NHWC kernels serve both layouts without transposing anything.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "core/shape.h"
#include "layers/base/layer.h"

namespace minidl {

using json = nlohmann::json;

// Two positive sizes (rows, cols): pool_size, strides, upsampling size.
struct Size2D {
  int64_t rows = 1, cols = 1;
  Size2D(int64_t v) : rows(v), cols(v) {}  // NOLINT: implicit, as Keras takes an int
  Size2D(int64_t r, int64_t c) : rows(r), cols(c) {}
  json to_json() const;  // [rows, cols]
  bool operator==(const Size2D&) const = default;
};

// A Size2D or None (Keras's strides=None for pooling: "same as pool_size").
class OptionalSize2D {
 public:
  OptionalSize2D() = default;
  OptionalSize2D(std::nullopt_t) {}                                     // NOLINT
  OptionalSize2D(int64_t v) : value_(Size2D(v)) {}                      // NOLINT
  OptionalSize2D(int64_t r, int64_t c) : value_(Size2D(r, c)) {}
  OptionalSize2D(Size2D s) : value_(s) {}                               // NOLINT
  bool has_value() const { return value_.has_value(); }
  const Size2D& operator*() const { return *value_; }
  Size2D value_or(Size2D fallback) const { return value_.value_or(fallback); }

 private:
  std::optional<Size2D> value_;
};

// ((top, bottom), (left, right)) amounts for ZeroPadding2D / Cropping2D:
//   Padding2D(1)                 all four 1
//   Padding2D(1, 2)              rows 1 and 1, cols 2 and 2 (symmetric per axis)
//   Padding2D({1, 0}, {2, 3})    top 1, bottom 0, left 2, right 3
struct Padding2D {
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  Padding2D(int64_t v) : top(v), bottom(v), left(v), right(v) {}  // NOLINT
  Padding2D(int64_t rows, int64_t cols) : top(rows), bottom(rows), left(cols), right(cols) {}
  Padding2D(std::pair<int64_t, int64_t> rows, std::pair<int64_t, int64_t> cols)
      : top(rows.first), bottom(rows.second), left(cols.first), right(cols.second) {}
  // [[top, bottom], [left, right]], as Keras 2 and 3 write it.
  json to_json() const;
  bool operator==(const Padding2D&) const = default;
};

// Keras's image_data_format(): the "image_data_format" entry of
// $KERAS_HOME/keras.json (KERAS_HOME defaults to ~/.keras), read on the first
// call and cached; "channels_last" when the file is missing, unreadable, not
// JSON or has no such entry. Throws ValueError naming the file when the entry
// is neither "channels_last" nor "channels_first" (Keras refuses it too).
std::string image_data_format();
// Overrides the default for the rest of the process (keras.backend.set_image_data_format).
// ValueError unless "channels_last" or "channels_first".
void set_image_data_format(const std::string& data_format);
// The image_data_format a keras.json at `path` declares, with the rules above.
std::string read_keras_json_data_format(const std::string& path);

// "" -> image_data_format(); otherwise lower-cased and checked. ValueError
// "<owner>: The `data_format` argument must be one of "channels_first",
// "channels_last". Received: <value>".
std::string normalize_data_format(const std::string& value, const std::string& owner);
// "valid" or "same" (case-insensitive, as Keras); ValueError naming owner otherwise.
std::string normalize_padding(const std::string& value, const std::string& owner);
// ValueError naming owner and `what` unless both sizes are >= 1.
void check_positive(const Size2D& s, const char* what, const std::string& owner);

// Config readers (Keras 2/3 forms). A missing or null key gives `fallback`.
// `key` holds an int or [a, b]; ValueError naming owner and key otherwise.
Size2D size2d_from_json(const json& config, const char* key, Size2D fallback, const std::string& owner);
// An int, [a, b], [[t, b], [l, r]] or the Keras 1 flat [t, b, l, r].
Padding2D padding2d_from_json(const json& config, const char* key, Padding2D fallback, const std::string& owner);

// The logical [B, H, W, C] block of a 4-D tensor shape (see the overview).
struct ImageBlock {
  int64_t B = 0, H = 0, W = 0, C = 0;
};
ImageBlock image_block(const Shape& shape, bool channels_first);

}  // namespace minidl
