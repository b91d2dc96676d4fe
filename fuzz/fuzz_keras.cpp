// fuzz/fuzz_keras.cpp — fuzz target: a Keras 3 .keras archive (zip of config.json, metadata.json and
// model.weights.h5) through load_model and describe_keras_file.
#include <nlohmann/json.hpp>

#include "fuzz_input.h"
#include "io/keras_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  minidl::fuzz::read_as_file(data, size, ".keras", [](const std::string& path) { minidl::load_model(path); });
  minidl::fuzz::read_as_file(data, size, ".keras",
                             [](const std::string& path) { minidl::describe_keras_file(path); });
  return 0;
}
