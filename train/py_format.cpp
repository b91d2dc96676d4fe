// train/py_format.cpp — the subset of Python string formatting Keras callbacks use (train/py_format.h).
#include "train/py_format.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

#include "core/errors.h"

namespace minidl {

std::string py_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // fmt's shortest round-trip form switches to exponents exactly where Python's
  // repr does (exponent < -4 or >= 16); only the ".0" of integral values differs.
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

namespace {

// A parsed Python format spec: [[fill]align][sign][#][0][width][,|_][.precision][type].
struct Spec {
  char fill = ' ';
  char align = 0;  // 0 = default
  char sign = 0;
  bool alt = false, zero = false;
  int width = 0;
  int precision = -1;
  char grouping = 0;
  char type = 0;
};

constexpr int kMaxWidth = 1000;

bool is_align(char c) { return c == '<' || c == '>' || c == '^' || c == '='; }

Spec parse_spec(std::string_view s, std::string_view pattern) {
  auto bad = [&](const char* why) {
    raise<ValueError>("format string '{}': {} in format spec '{}'", pattern, why, s);
  };
  Spec sp;
  size_t i = 0;
  if (s.size() >= 2 && is_align(s[1])) {
    sp.fill = s[0];
    sp.align = s[1];
    i = 2;
  } else if (!s.empty() && is_align(s[0])) {
    sp.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) sp.sign = s[i++];
  if (i < s.size() && s[i] == '#') {
    sp.alt = true;
    ++i;
  }
  if (i < s.size() && s[i] == '0') {
    sp.zero = true;
    ++i;
  }
  // Widths and precisions are capped: a file name has no use for more, and
  // the cap keeps the arithmetic from overflowing.
  auto number = [&](int& out) {
    out = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      out = out * 10 + (s[i++] - '0');
      if (out > kMaxWidth) bad("width or precision above 1000");
    }
  };
  number(sp.width);
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) sp.grouping = s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) bad("'.' without a precision");
    number(sp.precision);
  }
  if (i < s.size()) sp.type = s[i++];
  if (i != s.size()) bad("invalid characters");
  if (sp.grouping) bad("digit grouping (',' or '_') is not supported");
  if (sp.align == '=') bad("'=' alignment is not supported");
  return sp;
}

// Pads a formatted number as Python does: right-aligned by default, and the
// '0' flag pads with zeros after the sign.
std::string pad(std::string body, const Spec& sp) {
  const int len = static_cast<int>(body.size());
  if (len >= sp.width) return body;
  const size_t n = static_cast<size_t>(sp.width - len);
  if (sp.zero && !sp.align) {
    const size_t at = !body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ') ? 1 : 0;
    return body.insert(at, n, '0');
  }
  switch (sp.align) {
    case '<':
      return body + std::string(n, sp.fill);
    case '^':
      return std::string(n / 2, sp.fill) + body + std::string(n - n / 2, sp.fill);
    default:
      return std::string(n, sp.fill) + body;
  }
}

std::string with_sign(std::string body, double v, char sign) {
  if (std::signbit(v) || body[0] == '-') return body;
  if (sign == '+') return "+" + body;
  if (sign == ' ') return " " + body;
  return body;
}

// The spec in fmt's syntax (the same grammar once grouping and '=' are excluded).
std::string fmt_spec(const Spec& sp, char type) {
  std::string s = "{:";
  if (sp.align) s += std::string(1, sp.fill) + sp.align;
  if (sp.sign) s += sp.sign;
  if (sp.alt) s += '#';
  if (sp.zero) s += '0';
  if (sp.width) s += std::to_string(sp.width);
  if (sp.precision >= 0) s += "." + std::to_string(sp.precision);
  if (type) s += type;
  return s + "}";
}

std::string format_float(double v, const Spec& sp, std::string_view pattern, std::string_view spec) {
  switch (sp.type) {
    case 0:
      // Python's float.__format__ without a type and precision is str(v).
      if (sp.precision < 0) return pad(with_sign(py_float_repr(v), v, sp.sign), sp);
      break;
    case '%': {
      Spec inner = sp;
      inner.width = 0;
      inner.zero = false;
      inner.align = 0;
      if (inner.precision < 0) inner.precision = 6;
      return pad(fmt::format(fmt::runtime(fmt_spec(inner, 'f')), v * 100) + "%", sp);
    }
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
      break;
    case 'n': {
      Spec g = sp;
      g.type = 'g';
      return format_float(v, g, pattern, spec);
    }
    default:
      raise<ValueError>("format string '{}': Unknown format code '{}' for object of type 'float' (spec '{}')",
                        pattern, sp.type, spec);
  }
  return fmt::format(fmt::runtime(fmt_spec(sp, sp.type)), v);
}

std::string format_value(const PyValue& value, std::string_view spec, std::string_view pattern) {
  if (spec.empty())
    return std::holds_alternative<int64_t>(value) ? std::to_string(std::get<int64_t>(value))
                                                  : py_float_repr(std::get<double>(value));
  const Spec sp = parse_spec(spec, pattern);
  try {
    if (const auto* i = std::get_if<int64_t>(&value)) {
      switch (sp.type) {
        case 0: case 'd': case 'n':
          MINIDL_CHECK(sp.precision < 0, ValueError,
                       "format string '{}': Precision not allowed in integer format specifier '{}'", pattern, spec);
          return fmt::format(fmt::runtime(fmt_spec(sp, 'd')), *i);
        case 'b': case 'o': case 'x': case 'X': case 'c':
          return fmt::format(fmt::runtime(fmt_spec(sp, sp.type)), *i);
        default:  // float presentation types convert the int, as Python does
          return format_float(static_cast<double>(*i), sp, pattern, spec);
      }
    }
    return format_float(std::get<double>(value), sp, pattern, spec);
  } catch (const fmt::format_error& e) {
    raise<ValueError>("format string '{}': cannot apply spec '{}': {}", pattern, spec, e.what());
  }
}

std::string convert(const PyValue& value, char conversion, std::string_view spec, std::string_view pattern) {
  MINIDL_CHECK(conversion == 's' || conversion == 'r' || conversion == 'a', ValueError,
               "format string '{}': Unknown conversion specifier '{}'", pattern, conversion);
  std::string s = format_value(value, "", pattern);
  if (spec.empty()) return s;
  try {
    return fmt::format(fmt::runtime("{:" + std::string(spec) + "}"), s);
  } catch (const fmt::format_error& e) {
    raise<ValueError>("format string '{}': cannot apply spec '{}' to a string: {}", pattern, spec, e.what());
  }
}

}  // namespace

std::string py_format(std::string_view p, const std::map<std::string, PyValue>& kwargs) {
  std::string out;
  size_t i = 0;
  while (i < p.size()) {
    const char c = p[i];
    if (c == '}') {
      MINIDL_CHECK(i + 1 < p.size() && p[i + 1] == '}', ValueError,
                   "format string '{}': Single '}}' encountered at position {}", p, i);
      out += '}';
      i += 2;
      continue;
    }
    if (c != '{') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < p.size() && p[i + 1] == '{') {
      out += '{';
      i += 2;
      continue;
    }
    const size_t close = p.find('}', i + 1);
    MINIDL_CHECK(close != std::string_view::npos, ValueError,
                 "format string '{}': Single '{{' encountered at position {}", p, i);
    const std::string_view field = p.substr(i + 1, close - i - 1);
    MINIDL_CHECK(field.find('{') == std::string_view::npos, ValueError,
                 "format string '{}': nested fields ('{}') are not supported", p, field);
    const size_t name_end = field.find_first_of(":!");
    const std::string_view name = field.substr(0, name_end);
    char conversion = 0;
    std::string_view spec;
    if (name_end != std::string_view::npos) {
      size_t at = name_end;
      if (field[at] == '!') {
        MINIDL_CHECK(at + 1 < field.size() && (at + 2 == field.size() || field[at + 2] == ':'), ValueError,
                     "format string '{}': expected ':' after conversion specifier in '{{{}}}'", p, field);
        conversion = field[at + 1];
        at += 2;
      }
      if (at < field.size()) spec = field.substr(at + 1);
    }
    MINIDL_CHECK(!name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])), ValueError,
                 "format string '{}': positional field '{{{}}}' (only named fields such as {{epoch}} are filled)", p,
                 field);
    MINIDL_CHECK(name.find_first_of(".[") == std::string_view::npos, ValueError,
                 "format string '{}': attribute or index access in '{{{}}}' is not supported", p, field);
    auto it = kwargs.find(std::string(name));
    if (it == kwargs.end()) {
      std::string known;
      for (const auto& [k, _] : kwargs) known += (known.empty() ? "" : ", ") + k;
      raise<ValueError>("format string '{}': KeyError '{}' (available: {})", p, name, known);
    }
    out += conversion ? convert(it->second, conversion, spec, p) : format_value(it->second, spec, p);
    i = close + 1;
  }
  return out;
}

}  // namespace minidl
