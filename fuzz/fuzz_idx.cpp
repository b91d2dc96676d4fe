// fuzz/fuzz_idx.cpp — fuzz target: IDX files (plain or gzip: zlib tells them apart) read as
// images (rank 3) and as labels (rank 1), whole and with a limit.
#include "fuzz_input.h"
#include "io/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  minidl::fuzz::read_as_file(data, size, "-idx3-ubyte", [](const std::string& path) { minidl::read_idx_images(path); });
  minidl::fuzz::read_as_file(data, size, "-idx1-ubyte", [](const std::string& path) { minidl::read_idx_labels(path); });
  minidl::fuzz::read_as_file(data, size, "-idx3-ubyte",
                             [](const std::string& path) { minidl::read_idx(path, 3, 2); });
  return 0;
}
