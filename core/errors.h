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
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace minidl {

class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class TypeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class AttributeError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class IOError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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
