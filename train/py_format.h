// train/py_format.h — the small part of Python's string formatting that Keras
// callbacks expose to users.
//
// ModelCheckpoint's filepath is a Python format string filled with the epoch
// and the epoch's logs ("weights.{epoch:02d}-{val_loss:.2f}.h5"), and CSVLogger
// and the callbacks' messages print numbers as Python's str(float) does. These
// helpers reproduce that subset with fmt:
//
//   py_format("w.{epoch:02d}-{val_loss:.2f}.h5", {{"epoch", int64_t{3}}, {"val_loss", 0.4567}})
//       == "w.03-0.46.h5"
//   py_float_repr(1.0) == "1.0", py_float_repr(1e-05) == "1e-05"
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

namespace minidl {

// A keyword argument of py_format: a Python int or float.
using PyValue = std::variant<int64_t, double>;

// Python's str.format(**kwargs) for keyword fields only: "{name}", "{name:spec}",
// "{name!s}" / "{name!r}" and the escapes "{{" / "}}". A spec follows Python's
// format-spec mini-language without grouping (',' '_') and without '=' alignment:
// [[fill]align][sign][#][0][width][.precision][type], types d b o x X c for ints,
// e E f F g G % (and none) for both; an int given a float type is converted as
// Python does. With no spec, ints print in decimal and floats as py_float_repr.
// Throws ValueError naming the pattern for a missing key (Python's KeyError), a
// positional or nested field, attribute/index access, an unmatched brace, a
// width or precision above 1000, or a spec that does not apply to the value
// (e.g. "d" on a float).
std::string py_format(std::string_view pattern, const std::map<std::string, PyValue>& kwargs);

// Python's repr(float) / str(float): the shortest string that reads back to v,
// with ".0" on integral values below 1e16 ("1.0", "0.1", "1e-05", "1e+16",
// "nan", "inf", "-inf").
std::string py_float_repr(double v);

}  // namespace minidl
