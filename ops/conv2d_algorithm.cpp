// ops/conv2d_algorithm.cpp — the process-wide convolution algorithm and its names.
#include "ops/conv2d_algorithm.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

#include "core/errors.h"

namespace minidl {

namespace {

constexpr const char* kEnvironmentVariable = "MINIDL_CONV_ALGORITHM";

// The choice as an int: an ops::ConvAlgorithm, or kUnread until the
// environment variable (or set_conv_algorithm) has given it a value.
constexpr int kUnread = -1;
std::atomic<int> g_choice{kUnread};
std::mutex g_mu;  // serialises the first read of the environment with the setters

// The value of MINIDL_CONV_ALGORITHM (unset or empty: auto); ValueError naming it.
ops::ConvAlgorithm from_environment() {
  const char* env = std::getenv(kEnvironmentVariable);
  if (env == nullptr || *env == '\0') return ops::ConvAlgorithm::kAuto;
  return ops::parse_conv_algorithm(env, std::string("the environment variable ") + kEnvironmentVariable);
}

}  // namespace

namespace ops {

std::string_view conv_algorithm_name(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::kAuto: return "auto";
    case ConvAlgorithm::kIm2col: return "im2col";
    case ConvAlgorithm::kWinograd: return "winograd";
    case ConvAlgorithm::kDirect: return "direct";
    case ConvAlgorithm::kReference: return "reference";
  }
  return "auto";
}

ConvAlgorithm parse_conv_algorithm(std::string_view name, std::string_view what) {
  for (const ConvAlgorithm a : {ConvAlgorithm::kAuto, ConvAlgorithm::kIm2col, ConvAlgorithm::kWinograd,
                                ConvAlgorithm::kDirect, ConvAlgorithm::kReference})
    if (name == conv_algorithm_name(a)) return a;
  throw ValueError(std::string(what) + ": unknown convolution algorithm \"" + std::string(name) +
                   "\"; expected one of " + std::string(kConvAlgorithmNames));
}

ConvAlgorithm process_conv_algorithm() {
  int v = g_choice.load(std::memory_order_acquire);
  if (v != kUnread) return static_cast<ConvAlgorithm>(v);
  std::lock_guard lock(g_mu);
  v = g_choice.load(std::memory_order_acquire);
  if (v == kUnread) {
    v = static_cast<int>(from_environment());  // throws on a bad value: the choice stays unread
    g_choice.store(v, std::memory_order_release);
  }
  return static_cast<ConvAlgorithm>(v);
}

ConvAlgorithm effective_conv_algorithm(const Conv2DWorkspace& ws) {
  return ws.algorithm() == ConvAlgorithm::kAuto ? process_conv_algorithm() : ws.algorithm();
}

}  // namespace ops

void set_conv_algorithm(std::string_view name) {
  const ops::ConvAlgorithm a = ops::parse_conv_algorithm(name, "set_conv_algorithm");
  std::lock_guard lock(g_mu);
  g_choice.store(static_cast<int>(a), std::memory_order_release);
}

std::string_view conv_algorithm() { return ops::conv_algorithm_name(ops::process_conv_algorithm()); }

void set_conv_algorithm_from_environment() {
  const ops::ConvAlgorithm a = from_environment();
  std::lock_guard lock(g_mu);
  g_choice.store(static_cast<int>(a), std::memory_order_release);
}

}  // namespace minidl
