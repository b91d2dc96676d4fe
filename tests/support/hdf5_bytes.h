// tests/support/hdf5_bytes.h — raw bytes of HDF5 files for tests that build or damage them:
// little-endian fields (HDF5 stores every number little-endian) and the first global heap
// collection of a file image.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace minidl::testing {

// `v` as an `n`-byte little-endian field.
inline std::string le(uint64_t v, unsigned n) {
  std::string s(n, '\0');
  for (unsigned i = 0; i < n; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// Overwrites the `n` bytes of `s` at `at` with `v`, little-endian (std::out_of_range past the end).
inline void put_le(std::string& s, size_t at, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; ++i) s.at(at + i) = static_cast<char>((v >> (8 * i)) & 0xff);
}

// The offset of the first global heap collection ("GCOL", version 1) in a file's bytes;
// std::string::npos, and a test failure, when there is none.
inline size_t first_collection(const std::string& bytes) {
  const size_t at = bytes.find(std::string("GCOL\x01", 5));
  EXPECT_NE(at, std::string::npos) << "no global heap collection in the file";
  return at;
}

}  // namespace minidl::testing
