// tools/number_arg.h — numeric command-line values, checked before anything runs.
//
//   add_whole_number_option(*sub, "--epochs", args->epochs, "epochs");            // 1..2147483647
//   add_positive_number_option(*sub, "--lr", args->lr, "learning rate")->required();
//
// A bad value is a CLI11 ValidationError (exit status 2) whose message is one line
// naming the option, the allowed range in words and the value received:
//   --lr must be a finite number > 0, received 'nan'
//   --batch-size must be a whole number from 1 to 2147483647, received '18446744073709551616'
// The text is parsed here, not by CLI11, whose conversions accept NaN and infinity
// and wrap integers that overflow.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace minidl::cli {

// The largest whole number any option takes: batch sizes, epochs and shape sizes
// beyond it are mistakes, and every bound variable (int or int64_t) holds it.
inline constexpr int64_t kMaxWholeNumber = 2147483647;

// "'TEXT'", shortened in the middle when long, so a message quoting it stays short.
std::string quote_value(const std::string& text);

// The decimal whole number `text` when it is one (digits only) within [min, max].
std::optional<int64_t> parse_whole_number(const std::string& text, int64_t min, int64_t max);

// The finite number `text` when it is one (decimal or exponent form) and > 0.
std::optional<double> parse_positive_number(const std::string& text);

// "OPTION must be a whole number from MIN to MAX, received 'TEXT'".
std::string whole_number_error(const std::string& option, const std::string& text, int64_t min, int64_t max);

// Adds option `names` (e.g. "-b,--batch-size") storing a whole number in [min, max]
// into `target` (int, int64_t, or an optional of either). The error names the
// option by its long name.
template <class T>
CLI::Option* add_whole_number_option(CLI::App& sub, const std::string& names, T& target, const std::string& help,
                                     int64_t min = 1, int64_t max = kMaxWholeNumber);

// Adds option `names` storing a finite number > 0 into `target`.
CLI::Option* add_positive_number_option(CLI::App& sub, const std::string& names, double& target,
                                        const std::string& help);

extern template CLI::Option* add_whole_number_option<int>(CLI::App&, const std::string&, int&, const std::string&,
                                                          int64_t, int64_t);
extern template CLI::Option* add_whole_number_option<int64_t>(CLI::App&, const std::string&, int64_t&,
                                                              const std::string&, int64_t, int64_t);
extern template CLI::Option* add_whole_number_option<std::optional<int>>(CLI::App&, const std::string&,
                                                                         std::optional<int>&, const std::string&,
                                                                         int64_t, int64_t);
extern template CLI::Option* add_whole_number_option<std::optional<int64_t>>(CLI::App&, const std::string&,
                                                                             std::optional<int64_t>&,
                                                                             const std::string&, int64_t, int64_t);

}  // namespace minidl::cli
