// fuzz/fuzz_arch_json.cpp — fuzz target: architecture JSON (model.to_json() text, any Keras era)
// through model_from_json.
#include <nlohmann/json.hpp>

#include <string>

#include "fuzz_input.h"
#include "io/keras_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    minidl::set_log_level("off");
    return true;
  }();
  (void)quiet;
  try {
    minidl::model_from_json(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const std::exception&) {
  }
  return 0;
}
