// fuzz/fuzz_input.h — what every fuzz target shares: the fuzzer's bytes as a
// file the library reads by path, and the rule that a reader may only throw.
//
// A target calls read_as_file(data, size, ".suffix", reader). Any exception
// derived from std::exception is an accepted answer to a bad file (the
// library's contract: a clear error, never a crash); a crash, a sanitizer
// report, a leak or a hang (libFuzzer's -timeout) is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "core/logging.h"

namespace minidl::fuzz {

// A per-process scratch path in memory-backed /dev/shm when there is one.
inline std::string scratch_path(const std::string& suffix) {
  static const std::string dir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
  return dir + "/minidl-fuzz-" + std::to_string(::getpid()) + suffix;
}

// Writes the bytes to a scratch file named with `suffix` (readers choose the
// format by it), runs reader(path) and swallows the exceptions it may throw.
template <class Reader>
void read_as_file(const uint8_t* data, size_t size, const std::string& suffix, Reader&& reader) {
  static const bool quiet = [] {
    set_log_level("off");  // warnings about odd files are expected by the thousand
    return true;
  }();
  (void)quiet;
  const std::string path = scratch_path(suffix);
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    if (size) std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    std::abort();  // no scratch space: a broken setup, not a finding to skip over
  }
  try {
    reader(path);
  } catch (const std::exception&) {
  }
  std::remove(path.c_str());
}

}  // namespace minidl::fuzz
