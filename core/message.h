// core/message.h — pieces of error messages that echo data from files: lists capped to a
// few items and strings cut without splitting a UTF-8 character.
//
//   join_capped(names)         -> the first 8 names (300 characters at most), then "… and N more"
//   join_capped(names, 3)      -> "dense, dense_1, dense_2, … and 99997 more" (100,000 names)
//
// Any list that can come from a file (layer names, weight names, keys, shapes) enters a
// message through join_capped, so a file with 2^20 layer names still gives a short
// message. core/errors.h cuts whatever is still too long as a last resort.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

namespace minidl {

// The longest prefix of `s` of at most `max_bytes` bytes that does not end inside a UTF-8
// multi-byte sequence (bytes that are not UTF-8 are treated as single characters).
inline std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t n = max_bytes;
  // Step back over continuation bytes (10xxxxxx) to the lead byte of the cut character,
  // then drop that character if it does not fit whole.
  std::size_t lead = n;
  while (lead > 0 && (static_cast<unsigned char>(s[lead]) & 0xC0) == 0x80 && n - lead < 3) --lead;
  return s.substr(0, (static_cast<unsigned char>(s[lead]) & 0xC0) == 0x80 ? n : lead);
}

inline constexpr std::size_t kJoinCappedItems = 8;
inline constexpr std::size_t kJoinCappedChars = 300;

// The items of `items`, formatted with fmt and joined by `separator`: at most `max_items`
// of them and at most `max_chars` characters, then "… and N more" for the items not
// shown. The first item is always shown, cut and ended with "…" when it alone is longer
// than max_chars; showing stops at the first later item that does not fit. Items after
// that are only counted, never formatted.
// join_capped_by(items, f, ...) shows f(item) instead of the item itself.
// (Plain begin/end rather than std::ranges: clang 14, which builds the fuzz
// targets, cannot compile libstdc++ 12's range concepts.)
template <class R, class Project>
std::string join_capped_by(const R& items, Project project, std::size_t max_items = kJoinCappedItems,
                           std::size_t max_chars = kJoinCappedChars, std::string_view separator = ", ") {
  using std::begin, std::end;
  std::string out;
  std::size_t shown = 0, hidden = 0;
  bool stopped = max_items == 0;
  for (auto it = begin(items); it != end(items); ++it) {
    if (!stopped) {
      std::string item = fmt::format("{}", project(*it));
      if (shown == 0) {
        out = item.size() <= max_chars ? std::move(item) : std::string(utf8_prefix(item, max_chars)) + "…";
        ++shown;
        stopped = shown == max_items;
        continue;
      }
      if (out.size() + separator.size() + item.size() <= max_chars) {
        out += separator;
        out += item;
        ++shown;
        stopped = shown == max_items;
        continue;
      }
      stopped = true;
    }
    ++hidden;
  }
  if (hidden > 0) out += fmt::format("{}… and {} more", shown > 0 ? separator : std::string_view(), hidden);
  return out;
}

template <class R>
std::string join_capped(const R& items, std::size_t max_items = kJoinCappedItems,
                        std::size_t max_chars = kJoinCappedChars, std::string_view separator = ", ") {
  return join_capped_by(
      items, [](const auto& item) -> const auto& { return item; }, max_items, max_chars, separator);
}

}  // namespace minidl
