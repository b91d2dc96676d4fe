// core/logging.h — minidl's logger (spdlog), silent by default.
//
// The library logs at warn and above unless the user opts in:
//   minidl::set_log_level("info");   // or "debug", "trace", "off"
// or sets MINIDL_LOG_LEVEL in the environment.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace minidl {

std::shared_ptr<spdlog::logger> logger();

// ValueError for an unknown level name.
void set_log_level(const std::string& level);

}  // namespace minidl
