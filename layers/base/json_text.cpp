// layers/base/json_text.cpp — depth-limited JSON parsing and bounded JSON previews (json_text.h).
#include "layers/base/json_text.h"

#include "core/errors.h"
#include "core/message.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>

namespace minidl {

using json = nlohmann::json;

namespace {

// Thrown by the parser callback to stop the parse at the first level past the limit.
struct TooDeep {};

// Writes the compact dump of a value into `out` until it holds more than `limit`
// characters. Every array or object writes its bracket before its contents, so the
// recursion is at most `limit` levels deep.
class PreviewWriter {
 public:
  explicit PreviewWriter(std::size_t limit) : limit_(limit) {}

  void write(const json& j) {
    if (full()) return;
    switch (j.type()) {
      case json::value_t::object:
      case json::value_t::array: {
        const bool object = j.is_object();
        out_ += object ? '{' : '[';
        bool first = true;
        for (auto it = j.begin(); it != j.end() && !full(); ++it) {
          if (!first) out_ += ',';
          first = false;
          if (object) {
            write_string(it.key());
            out_ += ':';
          }
          write(it.value());
        }
        if (!full()) out_ += object ? '}' : ']';
        return;
      }
      case json::value_t::string:
        write_string(j.get_ref<const std::string&>());
        return;
      case json::value_t::binary:
        out_ += "<binary>";
        return;
      default:  // null, boolean, numbers: short
        out_ += j.dump();
        return;
    }
  }

  std::string result() && {
    if (out_.size() <= limit_) return std::move(out_);
    std::string cut(utf8_prefix(out_, limit_));
    return cut + "...";
  }

 private:
  bool full() const { return out_.size() > limit_; }

  // A string as dump() quotes and escapes it; only its first limit + 1 bytes are dumped
  // (a longer string is cut by result() anyway).
  void write_string(const std::string& s) {
    const std::size_t room = limit_ + 1 - std::min(out_.size(), limit_ + 1);
    const json head = s.size() <= room ? s : std::string(s, 0, room);
    out_ += head.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  std::size_t limit_;
  std::string out_;
};

}  // namespace

json parse_json_limited(std::string_view text, std::string_view where) {
  // depth counts the arrays and objects already open around the one starting.
  const json::parser_callback_t limit_depth = [](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth)
      throw TooDeep{};
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), limit_depth);
  } catch (const TooDeep&) {
    raise<IOError>(
        "{}: JSON nesting exceeds the limit of {} levels (arrays and objects inside one another); "
        "no Keras config comes near it",
        where, kMaxJsonDepth);
  } catch (const json::exception& e) {
    raise<ValueError>("{}: invalid JSON ({})", where, e.what());
  }
}

std::string json_preview(const json& j, std::size_t max_chars) {
  PreviewWriter w(max_chars);
  w.write(j);
  return std::move(w).result();
}

}  // namespace minidl
