// core/errors.cpp — the bound on every exception message (core/errors.h).
#include "core/errors.h"

#include "core/message.h"

namespace minidl {

std::string bounded_message(std::string_view message) {
  static constexpr std::string_view kCut = "…";
  std::string out(message.size() <= kMaxErrorMessageChars ? message
                                                           : utf8_prefix(message, kMaxErrorMessageChars - kCut.size()));
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  if (message.size() > kMaxErrorMessageChars) out += kCut;
  return out;
}

}  // namespace minidl
