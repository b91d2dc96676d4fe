// io/npy.h — NumPy's .npy files (format versions 1, 2 and 3), for test fixtures and tools.
//
//   Tensor x = read_npy("input.npy");   // float64 (5, 10, 10, 3) on disk -> float32 Tensor
//   write_npy("out.npy", x);            // '<f4', C order, format 1.0
//
// Only little-endian numbers in C order are read: dtypes '<f4', '<f8' (and the integer
// dtypes '|u1', '<i4', '<i8'), converted to float32.
#pragma once

#include <string>

#include "core/tensor.h"

namespace minidl {

// Throws IOError naming the file: missing file, not .npy (bad magic), unsupported version or
// dtype (e.g. '>f4', '<c8', '|O'), fortran_order True, malformed header, absurd shape
// (more than 2^31 elements), or data shorter/longer than the shape requires.
Tensor read_npy(const std::string& path);

// Writes t as a format-1.0 '<f4' C-order .npy (atomically: see io/atomic_file.h).
// Throws IOError when the file cannot be written.
void write_npy(const std::string& path, const Tensor& t);

}  // namespace minidl
