// layers/parts/part_config.h — shared plumbing for the Keras "parts" (initializers,
// activations, regularizers, constraints): reading an identifier and its config.
//
// Keras writes a part in one of these forms, all of which parse to the same
// (class_name, config) pair:
//   "he_normal"                                                  a name (Keras 1/2/3)
//   {"class_name": "HeNormal", "config": {"seed": null}}         Keras 2
//   {"module": "keras.initializers", "class_name": "HeNormal",
//    "config": {"seed": null}, "registered_name": null}          Keras 3
//   {"name": "MaxNorm", "m": 2, "axis": 0}                       Keras 1 (params inline)
// This header is an implementation detail of layers/; layer code uses the
// get_<part>/serialize_<part> functions in the part headers instead.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minidl::detail {

using json = nlohmann::json;

// A part identifier reduced to its name and config.
struct PartIdentifier {
  std::string class_name;  // as written ("he_normal", "HeNormal", ...)
  json config;             // an object ({} when absent) or, for activations, possibly a string
  bool from_string = false;  // the identifier was a bare name
};

// Parses any of the forms above. `kind` ("initializer", ...) names the part in
// messages. Requires id to be a string or an object (callers handle null).
// Throws ValueError for other JSON types, for objects with neither "class_name"
// nor "name", and for a non-string class_name.
PartIdentifier parse_part_identifier(const json& id, std::string_view kind);

// ASCII lower-case copy, for case-insensitive name lookup.
std::string to_lower(std::string_view s);

// "'a', 'b', 'c'" — the known-names list used in unknown-name errors (join_capped: at most
// 60 names and about 600 characters, then "… and N more").
std::string quoted_list(const std::vector<std::string>& names);

// Throws ValueError: "Unknown <kind>: <identifier>. Known <kind>s: 'a', 'b', ...".
[[noreturn]] void raise_unknown_part(std::string_view kind, const json& identifier,
                                     const std::vector<std::string>& known);

// Throws ValueError naming `owner` and the first key of `config` (an object)
// not in `allowed`. "dtype" and "name" are always allowed (older Keras wrote them).
void check_config_keys(const json& config, const std::vector<std::string>& allowed, std::string_view owner);

// config[key] as a number, `fallback` when the key is absent or null.
// Throws ValueError naming owner and key when present but not a number.
double config_number(const json& config, const char* key, double fallback, std::string_view owner);

// config[key] as a string, `fallback` when absent or null; ValueError when not a string.
std::string config_string(const json& config, const char* key, const std::string& fallback, std::string_view owner);

// config["seed"]: nullopt when absent or null, else a non-negative integer
// (ValueError otherwise).
std::optional<uint64_t> config_seed(const json& config, std::string_view owner);

// The JSON form of an optional seed: null or the integer.
json seed_json(const std::optional<uint64_t>& seed);

}  // namespace minidl::detail
