// core/errors.h — the exceptions minidl throws, named as the Keras docs name them.
//
//   ValueError      (std::invalid_argument) a wrong argument or shape
//   AttributeError  (std::logic_error)      asking a layer for something it does not have
//   TypeError       (std::invalid_argument) an argument of the wrong kind (Keras raises it
//                                           e.g. when a mask reaches a layer that cannot take one)
//   RuntimeError    (std::runtime_error)    an operation in the wrong state
//   IOError         (std::runtime_error)    a file that cannot be read or written
//
// MINIDL_CHECK(cond, ValueError, "fmt {}", args...) throws when cond is false; the
// message should echo the values received, e.g.
//   Conv2D 'conv2d_1': expected input of rank 4, received shape (28, 28)
//
// Every message is one line of at most kMaxErrorMessageChars bytes: the constructors
// replace line breaks by spaces and cut a longer message, ending it with "…". A file
// can hold lists and strings of any length (2^20 layer names, a 10 MB name) and a
// message that echoes them must stay readable. Messages start with the file and the
// place inside it, so the cut keeps what locates the problem. Lists should still be
// capped where they are built (join_capped in core/message.h), so that the cut is a
// safety net, not the usual case.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace minidl {

inline constexpr std::size_t kMaxErrorMessageChars = 1000;

// `message` as one line (\n and \r become spaces) of at most kMaxErrorMessageChars bytes,
// cut at a UTF-8 character boundary and ended with "…" when it was longer.
std::string bounded_message(std::string_view message);

namespace detail {
// An exception class whose message goes through bounded_message.
template <class Base>
class BoundedError : public Base {
 public:
  explicit BoundedError(const std::string& message) : Base(bounded_message(message)) {}
  explicit BoundedError(const char* message) : Base(bounded_message(message)) {}
};
}  // namespace detail

class ValueError : public detail::BoundedError<std::invalid_argument> {
 public:
  using BoundedError::BoundedError;
};

class TypeError : public detail::BoundedError<std::invalid_argument> {
 public:
  using BoundedError::BoundedError;
};

class AttributeError : public detail::BoundedError<std::logic_error> {
 public:
  using BoundedError::BoundedError;
};

class RuntimeError : public detail::BoundedError<std::runtime_error> {
 public:
  using BoundedError::BoundedError;
};

class IOError : public detail::BoundedError<std::runtime_error> {
 public:
  using BoundedError::BoundedError;
};

// Throws Exc with a fmt-formatted message.
template <class Exc, class... Args>
[[noreturn]] void raise(fmt::format_string<Args...> f, Args&&... args) {
  throw Exc(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace minidl

#define MINIDL_CHECK(cond, Exc, ...)                 \
  do {                                               \
    if (!(cond)) ::minidl::raise<Exc>(__VA_ARGS__);  \
  } while (0)
