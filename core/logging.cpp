// core/logging.cpp — the logger's setup and level switch (core/logging.h).
#include "core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

#include "core/errors.h"

namespace minidl {

std::shared_ptr<spdlog::logger> logger() {
  static std::shared_ptr<spdlog::logger> log = [] {
    auto l = spdlog::stderr_color_mt("minidl");
    l->set_level(spdlog::level::warn);
    if (const char* env = std::getenv("MINIDL_LOG_LEVEL")) l->set_level(spdlog::level::from_str(env));
    return l;
  }();
  return log;
}

void set_log_level(const std::string& level) {
  const auto lv = spdlog::level::from_str(level);
  // from_str maps unknown names to "off"; only accept "off" when asked for.
  MINIDL_CHECK(lv != spdlog::level::off || level == "off", ValueError,
               "set_log_level: unknown level '{}' (expected trace, debug, info, warn, error, critical, off)", level);
  logger()->set_level(lv);
}

}  // namespace minidl
