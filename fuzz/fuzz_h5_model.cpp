// fuzz/fuzz_h5_model.cpp — fuzz target: a legacy full-model .h5 (any Keras era) through load_model,
// and the same bytes through describe_keras_file (`minidl inspect`).
#include "fuzz_input.h"
#include "io/keras_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  minidl::fuzz::read_as_file(data, size, ".h5", [](const std::string& path) { minidl::load_model(path); });
  minidl::fuzz::read_as_file(data, size, ".h5", [](const std::string& path) { minidl::describe_keras_file(path); });
  return 0;
}
