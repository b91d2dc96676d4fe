// Exception messages are one bounded line (core/errors.h), and lists enter messages capped
// (core/message.h join_capped).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/errors.h"
#include "core/message.h"

namespace minidl {
namespace {

const std::string kEllipsis = "…";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

template <class Exc>
std::string message_of(const std::string& text) {
  try {
    throw Exc(text);
  } catch (const std::exception& e) {
    return e.what();
  }
}

TEST(ErrorMessages, ShortMessagesAreKeptAsTheyAre) {
  EXPECT_EQ(message_of<ValueError>("m.h5: /model_weights: layer count mismatch"),
            "m.h5: /model_weights: layer count mismatch");
  EXPECT_EQ(message_of<IOError>(std::string(kMaxErrorMessageChars, 'x')), std::string(kMaxErrorMessageChars, 'x'));
}

TEST(ErrorMessages, A5000CharacterMessageIsCutTo1000WithAMarker) {
  const std::string text = "m.h5: /model_weights: " + std::string(5000, 'x');
  for (const std::string& m : {message_of<ValueError>(text), message_of<TypeError>(text),
                               message_of<AttributeError>(text), message_of<RuntimeError>(text),
                               message_of<IOError>(text)}) {
    EXPECT_LE(m.size(), kMaxErrorMessageChars);
    EXPECT_GT(m.size(), kMaxErrorMessageChars - 10);
    EXPECT_EQ(m.rfind("m.h5: /model_weights: xxx", 0), 0u);
    EXPECT_TRUE(ends_with(m, "x" + kEllipsis)) << m.substr(m.size() - 10);
  }
}

TEST(ErrorMessages, RaiseAndCheckAreBoundedToo) {
  const std::string name(5000, 'n');
  try {
    raise<ValueError>("layer '{}' is unknown", name);
    FAIL() << "raise returned";
  } catch (const ValueError& e) {
    EXPECT_LE(std::string(e.what()).size(), kMaxErrorMessageChars);
    EXPECT_TRUE(ends_with(e.what(), kEllipsis));
  }
  try {
    MINIDL_CHECK(name.empty(), IOError, "f.h5: {}: cannot open", name);
    FAIL() << "MINIDL_CHECK passed";
  } catch (const IOError& e) {
    EXPECT_LE(std::string(e.what()).size(), kMaxErrorMessageChars);
    EXPECT_EQ(std::string(e.what()).rfind("f.h5: nnn", 0), 0u);
  }
}

TEST(ErrorMessages, LineBreaksBecomeSpaces) {
  EXPECT_EQ(message_of<RuntimeError>("a\nb\r\nc"), "a b  c");
  const std::string long_lines = std::string(3000, 'x') + "\n" + std::string(3000, 'y');
  const std::string m = message_of<ValueError>(long_lines);
  EXPECT_EQ(m.find('\n'), std::string::npos);
  EXPECT_LE(m.size(), kMaxErrorMessageChars);
}

TEST(ErrorMessages, TheCutNeverSplitsAUtf8Character) {
  // "é" is 2 bytes, "€" 3: whichever byte the limit falls on, the kept text is whole characters.
  for (const std::string& unit : {std::string("é"), std::string("€"), std::string("x€")}) {
    std::string text;
    while (text.size() < 3000) text += unit;
    const std::string m = message_of<ValueError>(text);
    ASSERT_TRUE(ends_with(m, kEllipsis));
    const std::string kept = m.substr(0, m.size() - kEllipsis.size());
    EXPECT_LE(m.size(), kMaxErrorMessageChars);
    EXPECT_EQ(kept, text.substr(0, kept.size()));
    // The first byte left out starts a character: the kept one before it is whole.
    EXPECT_NE(static_cast<unsigned char>(text[kept.size()]) & 0xC0, 0x80) << unit;
    EXPECT_GT(kept.size(), kMaxErrorMessageChars - kEllipsis.size() - unit.size()) << unit;
  }
}

TEST(Utf8Prefix, StopsBeforeACharacterThatDoesNotFit) {
  EXPECT_EQ(utf8_prefix("abc", 5), "abc");
  EXPECT_EQ(utf8_prefix("abc", 2), "ab");
  EXPECT_EQ(utf8_prefix("aé", 2), "a");       // é = C3 A9
  EXPECT_EQ(utf8_prefix("a€b", 3), "a");      // € = E2 82 AC
  EXPECT_EQ(utf8_prefix("a€b", 4), "a€");
  EXPECT_EQ(utf8_prefix("\x80\x80\x80\x80\x80", 2), "\x80\x80");  // not UTF-8: cut where asked
}

TEST(JoinCapped, ShortListsAreJoinedWhole) {
  EXPECT_EQ(join_capped(std::vector<std::string>{"a", "b", "c"}), "a, b, c");
  EXPECT_EQ(join_capped(std::vector<int>{1, 2}), "1, 2");
  EXPECT_EQ(join_capped(std::vector<std::string>{}), "");
  EXPECT_EQ(join_capped(std::vector<std::string>{"a", "b"}, 8, 300, " | "), "a | b");
}

TEST(JoinCapped, LongListsNameTheFirstItemsAndCountTheRest) {
  std::vector<std::string> names;
  for (int i = 0; i < 100000; ++i) names.push_back("layer_" + std::to_string(i));
  EXPECT_EQ(join_capped(names, 3), "layer_0, layer_1, layer_2, … and 99997 more");
  const std::string d = join_capped(names);
  EXPECT_EQ(d.rfind("layer_0, layer_1, ", 0), 0u);
  EXPECT_TRUE(ends_with(d, "… and " + std::to_string(100000 - kJoinCappedItems) + " more")) << d;
  EXPECT_EQ(join_capped(std::vector<std::string>{"a"}, 0), "… and 1 more");
}

TEST(JoinCapped, LongItemsAreCutToTheCharacterBudget) {
  const std::vector<std::string> names = {std::string(1000, 'a'), "b", "c"};
  const std::string s = join_capped(names, 8, 40);
  EXPECT_EQ(s, std::string(40, 'a') + "…, … and 2 more");
  // Many short items stop at the budget even below max_items.
  const std::vector<std::string> words(50, "word");
  EXPECT_EQ(join_capped(words, 50, 20), "word, word, word, … and 47 more");
}

}  // namespace
}  // namespace minidl
