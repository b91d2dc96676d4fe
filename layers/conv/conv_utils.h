// layers/conv/conv_utils.h — the argument type of the convolution layers, in the
// spirit of Keras's conv_utils module:
//
//   IntPair k = 3;                       // (3, 3): Keras accepts an int or a tuple
//   IntPair s = {2, 1};                  // (2, 1)
//
// It includes layers/reshaping/spatial_utils.h, which normalises padding and
// data_format (and gives image_data_format, the keras.json default).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <utility>

#include "layers/reshaping/spatial_utils.h"

namespace minidl {

// Two integers given as one int (both equal) or a pair {a, b}: the type of the
// kernel_size / strides / dilation_rate fields of the conv option structs.
// Implicit on purpose, so `.strides = 2` and `{3, 5}` both read like Keras.
struct IntPair {
  int64_t first = 1;
  int64_t second = 1;

  IntPair(int64_t v) : first(v), second(v) {}                                   // NOLINT: implicit by design
  IntPair(int64_t a, int64_t b) : first(a), second(b) {}                         // NOLINT
  IntPair(std::pair<int64_t, int64_t> p) : first(p.first), second(p.second) {}  // NOLINT

  std::pair<int64_t, int64_t> as_pair() const { return {first, second}; }
  bool both(int64_t v) const { return first == v && second == v; }
  bool operator==(const IntPair&) const = default;
};

// "(3, 3)" — Keras's tuple spelling, for messages. (The config spelling [3, 3]
// is pair_to_json(p.as_pair()), layers/base/config_utils.h.)
inline std::string pair_str(const IntPair& p) { return fmt::format("({}, {})", p.first, p.second); }

}  // namespace minidl
