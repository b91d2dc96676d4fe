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
#include <functional>
#include <memory>
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

// config[key] as a list of integers, nullopt when absent or null; ValueError
// naming owner and key for anything else (a bare integer included: Keras
// iterates the value).
std::optional<std::vector<int64_t>> config_int_list(const json& config, const char* key, std::string_view owner);

// The JSON form of an optional seed: null or the integer.
json seed_json(const std::optional<uint64_t>& seed);

// One class in a part registry: its Keras class name, the other names it is
// known by (lower case), the config keys it takes and how to make it from a
// config (`owner` names it in messages).
template <class Part>
struct PartEntry {
  std::string class_name;
  std::vector<std::string> aliases;
  std::vector<std::string> keys;
  std::function<std::shared_ptr<Part>(const json& config, const std::string& owner)> make;
};

// The part of the entry whose class name (in any case) or alias is id's name,
// made after its config keys are checked, with "<class_name> <kind>" as the
// owner in messages. nullptr when no entry has that name.
template <class Part>
std::shared_ptr<Part> make_registered_part(const std::vector<PartEntry<Part>>& entries, const PartIdentifier& id,
                                           std::string_view kind) {
  const std::string key = to_lower(id.class_name);
  for (const PartEntry<Part>& e : entries) {
    bool match = to_lower(e.class_name) == key;
    for (const std::string& a : e.aliases) match = match || a == key;
    if (!match) continue;
    const std::string owner = e.class_name + " " + std::string(kind);
    check_config_keys(id.config, e.keys, owner);
    return e.make(id.config, owner);
  }
  return nullptr;
}

// Every class name and alias of `entries`, in order (the known names of an
// unknown-name message).
template <class Part>
std::vector<std::string> registered_names(const std::vector<PartEntry<Part>>& entries) {
  std::vector<std::string> names;
  for (const PartEntry<Part>& e : entries) {
    names.push_back(e.class_name);
    names.insert(names.end(), e.aliases.begin(), e.aliases.end());
  }
  return names;
}

}  // namespace minidl::detail
