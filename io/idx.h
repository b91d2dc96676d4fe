// io/idx.h — reader for the IDX files of MNIST and Fashion-MNIST, plain or gzip-compressed
// (zlib reads both transparently, so the `.gz` suffix does not matter).
//
// An IDX file of unsigned bytes is: magic 0x00 0x00 0x08 <rank>, then <rank> big-endian
// uint32 dimensions, then the bytes in C order. Images have rank 3 (magic 0x00000803,
// [N, H, W]); labels rank 1 (magic 0x00000801, [N]).
//
//   Tensor x = read_idx_images("train-images-idx3-ubyte.gz");   // [60000, 28, 28], 0..255
//   Tensor y = read_idx_labels("train-labels-idx1-ubyte.gz");   // [60000], 0..9
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace minidl {

// Refuse IDX files claiming more bytes than this (before allocating).
inline constexpr int64_t kMaxIdxElements = int64_t{1} << 31;

// Reads an unsigned-byte IDX file of the given rank as float32 raw values (0..255), shape
// [N, ...]. limit >= 0 keeps only the first `limit` items (and reads no further).
// Throws IOError naming the file: missing/unreadable file, magic other than 0x0000080<rank>
// (expected vs found), absurd dimensions, or fewer data bytes than the header promises.
Tensor read_idx(const std::string& path, int rank, int64_t limit = -1);

// read_idx(path, 3, limit): images [N, H, W].
Tensor read_idx_images(const std::string& path, int64_t limit = -1);
// read_idx(path, 1, limit): labels [N].
Tensor read_idx_labels(const std::string& path, int64_t limit = -1);

}  // namespace minidl
