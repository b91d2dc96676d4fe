// fuzz/fuzz_npy.cpp — fuzz target: NumPy .npy files through read_npy.
#include "fuzz_input.h"
#include "io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  minidl::fuzz::read_as_file(data, size, ".npy", [](const std::string& path) { minidl::read_npy(path); });
  return 0;
}
