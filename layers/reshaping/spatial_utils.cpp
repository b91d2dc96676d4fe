// layers/reshaping/spatial_utils.cpp — image_data_format, argument normalisation and the 2-D argument readers.
#include "layers/reshaping/spatial_utils.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>

#include "core/errors.h"
#include "layers/base/json_text.h"
#include "layers/parts/part_config.h"

namespace minidl {

namespace {

std::mutex g_format_mu;
std::optional<std::string> g_format;  // cached image_data_format

std::string keras_json_path() {
  // Keras: KERAS_HOME if set, else ~/.keras (it falls back to /tmp/.keras only
  // for writing, which we never do).
  if (const char* home = std::getenv("KERAS_HOME"); home && *home)
    return (std::filesystem::path(home) / "keras.json").string();
  const char* user = std::getenv("HOME");
  if (!user || !*user) return "";
  return (std::filesystem::path(user) / ".keras" / "keras.json").string();
}

bool is_valid_format(const std::string& f) { return f == "channels_last" || f == "channels_first"; }

}  // namespace

std::string read_keras_json_data_format(const std::string& path) {
  if (path.empty()) return "channels_last";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "channels_last";
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  // Keras ignores a keras.json it cannot parse, so do we (too deep counts as unparsable).
  json config;
  try {
    config = parse_json_limited(text, path);
  } catch (const ValueError&) {
    return "channels_last";
  } catch (const IOError&) {
    return "channels_last";
  }
  if (!config.is_object() || !config.contains("image_data_format")) return "channels_last";
  const json& v = config["image_data_format"];
  if (!v.is_string() || !is_valid_format(v.get<std::string>()))
    raise<ValueError>("{}: image_data_format must be \"channels_last\" or \"channels_first\", received {}", path,
                      json_preview(v));
  return v.get<std::string>();
}

std::string image_data_format() {
  std::lock_guard lk(g_format_mu);
  if (!g_format) g_format = read_keras_json_data_format(keras_json_path());
  return *g_format;
}

void set_image_data_format(const std::string& data_format) {
  MINIDL_CHECK(is_valid_format(data_format), ValueError,
               "Unknown data_format: {}. Expected one of \"channels_last\", \"channels_first\"", data_format);
  std::lock_guard lk(g_format_mu);
  g_format = data_format;
}

std::string normalize_data_format(const std::string& value, const std::string& owner) {
  if (value.empty()) return image_data_format();
  const std::string f = detail::to_lower(value);
  MINIDL_CHECK(is_valid_format(f), ValueError,
               "{}: The `data_format` argument must be one of \"channels_first\", \"channels_last\". Received: {}",
               owner, value);
  return f;
}

std::string normalize_padding(const std::string& value, const std::string& owner) {
  const std::string p = detail::to_lower(value);
  MINIDL_CHECK(p == "valid" || p == "same", ValueError,
               "{}: The `padding` argument must be one of \"valid\", \"same\". Received: {}", owner, value);
  return p;
}

void check_positive(const Size2D& s, const char* what, const std::string& owner) {
  MINIDL_CHECK(s.rows >= 1 && s.cols >= 1, ValueError,
               "{}: the `{}` argument must be a tuple of 2 positive integers. Received: ({}, {})", owner, what,
               s.rows, s.cols);
}

namespace {

[[noreturn]] void bad_key(const std::string& owner, const char* key, const char* expected, const json& v) {
  raise<ValueError>("{}: config key '{}' should be {}, received {}", owner, key, expected, json_preview(v));
}

bool is_int(const json& v) { return v.is_number_integer(); }

}  // namespace

Size2D size2d_from_json(const json& config, const char* key, Size2D fallback, const std::string& owner) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  const json& v = config[key];
  if (is_int(v)) return Size2D(v.get<int64_t>());
  if (v.is_array() && v.size() == 1 && is_int(v[0])) return Size2D(v[0].get<int64_t>());
  if (v.is_array() && v.size() == 2 && is_int(v[0]) && is_int(v[1]))
    return Size2D(v[0].get<int64_t>(), v[1].get<int64_t>());
  bad_key(owner, key, "an integer or a list of 2 integers", v);
}

Padding2D padding2d_from_json(const json& config, const char* key, Padding2D fallback, const std::string& owner) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  const json& v = config[key];
  const char* expected = "an integer, [rows, cols] or [[top, bottom], [left, right]]";
  if (is_int(v)) return Padding2D(v.get<int64_t>());
  if (!v.is_array()) bad_key(owner, key, expected, v);
  if (v.size() == 2 && is_int(v[0]) && is_int(v[1])) return Padding2D(v[0].get<int64_t>(), v[1].get<int64_t>());
  auto pair_of = [&](const json& p) -> std::pair<int64_t, int64_t> {
    if (is_int(p)) return {p.get<int64_t>(), p.get<int64_t>()};  // ((1, 1), 2) is legal Keras
    if (!p.is_array() || p.size() != 2 || !is_int(p[0]) || !is_int(p[1])) bad_key(owner, key, expected, v);
    return {p[0].get<int64_t>(), p[1].get<int64_t>()};
  };
  if (v.size() == 2) return Padding2D(pair_of(v[0]), pair_of(v[1]));
  if (v.size() == 4 && is_int(v[0]) && is_int(v[1]) && is_int(v[2]) && is_int(v[3]))  // Keras 1
    return Padding2D({v[0].get<int64_t>(), v[1].get<int64_t>()}, {v[2].get<int64_t>(), v[3].get<int64_t>()});
  bad_key(owner, key, expected, v);
}

ImageBlock image_block(const Shape& s, bool channels_first) {
  MINIDL_CHECK(s.size() == 4, ValueError, "image_block: expected a 4-D shape, received {}", shape_str(s));
  if (channels_first) return {s[0] * s[1], s[2], s[3], 1};
  return {s[0], s[1], s[2], s[3]};
}

json Size2D::to_json() const { return json::array({rows, cols}); }

json Padding2D::to_json() const {
  return json::array({json::array({top, bottom}), json::array({left, right})});
}

}  // namespace minidl
