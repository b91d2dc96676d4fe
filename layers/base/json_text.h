// layers/base/json_text.h — JSON read from files, and JSON shown in messages.
//
// Every JSON text minidl reads from a file (an .h5's model_config / training_config
// attribute, an architecture .json, a .keras archive's config.json, keras.json) is parsed
// by parse_json_limited, which refuses nesting deeper than kMaxJsonDepth. nlohmann's
// parser is iterative and accepts any depth, but everything that walks the result
// afterwards (dump(), the destructor under AddressSanitizer, the config readers) recurses
// once per level, and a 200 KB file of "[[[[..." nests 100,000 levels: enough to overflow
// the stack. Refusing at parse time protects every later walk at once.
//
// JSON values shown in error messages go through json_preview, which writes at most a
// couple of hundred characters however large or deep the value is.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace minidl {

// The deepest nesting of arrays and objects parse_json_limited accepts (a top-level object
// is level 1). The deepest Keras configs in ../shared (MobileNetV2/V3 .h5 and .keras) nest
// 11 levels; each model nested inside another adds about 4. 100 leaves room for ~20
// levels of nested models and keeps every recursive walk of a config a few hundred
// stack frames at most.
inline constexpr int kMaxJsonDepth = 100;

// JSON text -> json. `where` names the file and the place inside it
// ("m.h5: model_config", "arch.json", "m.keras: config.json") and starts every message.
// IOError when the text nests deeper than kMaxJsonDepth (the parse stops there);
// ValueError "<where>: invalid JSON (...)" for text that is not JSON.
nlohmann::json parse_json_limited(std::string_view text, std::string_view where);

inline constexpr std::size_t kJsonPreviewChars = 200;

// The compact dump of `j` (as j.dump() writes it) cut to `max_chars` characters, ending
// with "..." when cut. Only what is shown is written: a value of any size or depth costs
// at most max_chars characters of work and of recursion.
std::string json_preview(const nlohmann::json& j, std::size_t max_chars = kJsonPreviewChars);

}  // namespace minidl
