// tools/number_arg.cpp — numeric command-line values. See number_arg.h for the messages and why CLI11's
// own conversions are not used.
#include "tools/number_arg.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

namespace minidl::cli {
namespace {

// The name an error message uses: the long one of "-b,--batch-size", whatever the user typed.
std::string long_name(const std::string& names) {
  std::string chosen;
  size_t pos = 0;
  while (pos <= names.size()) {
    const size_t end = std::min(names.find(',', pos), names.size());
    const std::string name = names.substr(pos, end - pos);
    if (chosen.empty() || (name.rfind("--", 0) == 0 && chosen.rfind("--", 0) != 0)) chosen = name;
    pos = end + 1;
  }
  return chosen;
}

template <class T>
struct StoredType {
  using type = T;
};
template <class T>
struct StoredType<std::optional<T>> {
  using type = T;
};

// --help shows a default only for options that have one (not for optionals).
template <class T>
void show_default(CLI::Option* opt, const T& target) {
  if constexpr (std::is_arithmetic_v<T>) opt->default_str(std::to_string(target));
}

}  // namespace

std::string quote_value(const std::string& text) {
  constexpr size_t kHead = 60, kTail = 20;
  if (text.size() <= kHead + kTail + 20) return "'" + text + "'";
  return "'" + text.substr(0, kHead) + "..." + text.substr(text.size() - kTail) + "' (" +
         std::to_string(text.size()) + " characters)";
}

std::optional<int64_t> parse_whole_number(const std::string& text, int64_t min, int64_t max) {
  // Digits only, so "-1", "+1", "0x10" and "1e3" are refused rather than read some other way.
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) return std::nullopt;
  return value;
}

std::optional<double> parse_positive_number(const std::string& text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  // out_of_range covers 1e999 and also 1e-999, which would round to 0.
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || !(value > 0))
    return std::nullopt;
  return value;
}

std::string whole_number_error(const std::string& option, const std::string& text, int64_t min, int64_t max) {
  return option + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
         ", received " + quote_value(text);
}

template <class T>
CLI::Option* add_whole_number_option(CLI::App& sub, const std::string& names, T& target, const std::string& help,
                                     int64_t min, int64_t max) {
  using Stored = typename StoredType<T>::type;
  if (min > max || min < std::numeric_limits<Stored>::min() || max > std::numeric_limits<Stored>::max())
    throw std::logic_error("add_whole_number_option " + names + ": range does not fit the variable");
  const std::string name = long_name(names);
  // A ValidationError thrown by the callback reaches main() as it is; one returned by a
  // CLI::Validator would get CLI11's "NAME: " prefix.
  CLI::Option* opt = sub.add_option_function<std::string>(
      names,
      [&target, name, min, max](const std::string& text) {
        const std::optional<int64_t> value = parse_whole_number(text, min, max);
        if (!value) throw CLI::ValidationError(whole_number_error(name, text, min, max));
        target = static_cast<Stored>(*value);
      },
      help);
  opt->type_name("INT");
  show_default(opt, target);
  return opt;
}

CLI::Option* add_positive_number_option(CLI::App& sub, const std::string& names, double& target,
                                        const std::string& help) {
  const std::string name = long_name(names);
  CLI::Option* opt = sub.add_option_function<std::string>(
      names,
      [&target, name](const std::string& text) {
        const std::optional<double> value = parse_positive_number(text);
        if (!value) throw CLI::ValidationError(name + " must be a finite number > 0, received " + quote_value(text));
        target = *value;
      },
      help);
  opt->type_name("FLOAT");
  return opt;
}

template CLI::Option* add_whole_number_option<int>(CLI::App&, const std::string&, int&, const std::string&, int64_t,
                                                   int64_t);
template CLI::Option* add_whole_number_option<int64_t>(CLI::App&, const std::string&, int64_t&, const std::string&,
                                                       int64_t, int64_t);
template CLI::Option* add_whole_number_option<std::optional<int>>(CLI::App&, const std::string&, std::optional<int>&,
                                                                  const std::string&, int64_t, int64_t);
template CLI::Option* add_whole_number_option<std::optional<int64_t>>(CLI::App&, const std::string&,
                                                                      std::optional<int64_t>&, const std::string&,
                                                                      int64_t, int64_t);

}  // namespace minidl::cli
