// Tests for layers/reshaping/spatial_utils: argument types, keras.json reading,
// data_format/padding normalisation and the config readers.
#include "layers/reshaping/spatial_utils.h"
#include "support/assertions.h"
#include "support/files.h"


#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace minidl {
namespace {

using testing::ThrowsWith;

std::string write_json(const std::string& text) {
  const auto path = testing::temp_dir() / "keras.json";
  std::ofstream(path) << text;
  return path.string();
}

TEST(SpatialUtils, KerasJsonDataFormatIsReadWhenPresent) {
  EXPECT_EQ(read_keras_json_data_format(write_json(R"({"floatx": "float32", "epsilon": 1e-07,
      "backend": "tensorflow", "image_data_format": "channels_first"})")),
            "channels_first");
}

TEST(SpatialUtils, KerasJsonFallsBackToChannelsLastLikeKeras) {
  EXPECT_EQ(read_keras_json_data_format((testing::temp_dir() / "absent.json").string()), "channels_last");
  EXPECT_EQ(read_keras_json_data_format(write_json(R"({"backend": "tensorflow"})")), "channels_last");
  EXPECT_EQ(read_keras_json_data_format(write_json("{not json")), "channels_last");
  EXPECT_EQ(read_keras_json_data_format(""), "channels_last");
}

TEST(SpatialUtils, KerasJsonWithAnInvalidFormatIsAnError) {
  const std::string path = write_json(R"({"image_data_format": "channels_middle"})");
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { read_keras_json_data_format(path); }, {path, "channels_middle"}));
}

TEST(SpatialUtils, NormalizeDataFormatLowercasesAndDefaults) {
  EXPECT_EQ(normalize_data_format("Channels_First", "L"), "channels_first");
  EXPECT_EQ(normalize_data_format("", "L"), image_data_format());
  EXPECT_TRUE(ThrowsWith<ValueError>([] { normalize_data_format("NCHW", "Owner 'x'"); }, {"Owner 'x'", "NCHW"}));
}

TEST(SpatialUtils, NormalizePaddingAcceptsValidAndSameOnly) {
  EXPECT_EQ(normalize_padding("SAME", "L"), "same");
  EXPECT_EQ(normalize_padding("valid", "L"), "valid");
  EXPECT_TRUE(ThrowsWith<ValueError>([] { normalize_padding("causal", "Owner"); }, {"Owner", "causal"}));
}

TEST(SpatialUtils, SizeAndPaddingFormsReadLikeKeras) {
  EXPECT_EQ(Size2D(3), Size2D(3, 3));
  const OptionalSize2D none, two = 2, pair = {1, 2};
  EXPECT_FALSE(none.has_value());
  EXPECT_EQ(*two, Size2D(2, 2));
  EXPECT_EQ(pair.value_or(5), Size2D(1, 2));
  EXPECT_EQ(none.value_or({4, 5}), Size2D(4, 5));
  const Padding2D p({1, 2}, {3, 4});
  EXPECT_EQ(p.top, 1);
  EXPECT_EQ(p.bottom, 2);
  EXPECT_EQ(p.left, 3);
  EXPECT_EQ(p.right, 4);
  EXPECT_EQ(Padding2D(1, 2), Padding2D({1, 1}, {2, 2}));
}

TEST(SpatialUtils, ConfigReadersTakeEveryKerasFormAndRejectOthers) {
  const json c = json::parse(R"({"a": 3, "b": [2, 4], "c": [5], "d": null, "e": "3", "f": [1, 2, 3]})");
  EXPECT_EQ(size2d_from_json(c, "a", 1, "L"), Size2D(3, 3));
  EXPECT_EQ(size2d_from_json(c, "b", 1, "L"), Size2D(2, 4));
  EXPECT_EQ(size2d_from_json(c, "c", 1, "L"), Size2D(5, 5));
  EXPECT_EQ(size2d_from_json(c, "d", 7, "L"), Size2D(7, 7));
  EXPECT_EQ(size2d_from_json(c, "missing", {1, 2}, "L"), Size2D(1, 2));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { size2d_from_json(c, "e", 1, "Owner"); }, {"Owner", "'e'"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { size2d_from_json(c, "f", 1, "Owner"); }, {"Owner", "'f'"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { padding2d_from_json(c, "f", 0, "Owner"); }, {"Owner", "'f'"}));
  EXPECT_TRUE(ThrowsWith<ValueError>([&] { padding2d_from_json(c, "e", 0, "Owner"); }, {"'e'"}));
}

TEST(SpatialUtils, ImageBlockViewsChannelsFirstAsSingleChannelImages) {
  const ImageBlock a = image_block({2, 5, 6, 3}, false), b = image_block({2, 3, 5, 6}, true);
  EXPECT_EQ((std::vector<int64_t>{a.B, a.H, a.W, a.C}), (std::vector<int64_t>{2, 5, 6, 3}));
  EXPECT_EQ((std::vector<int64_t>{b.B, b.H, b.W, b.C}), (std::vector<int64_t>{6, 5, 6, 1}));
  EXPECT_THROW(image_block({2, 3}, false), ValueError);
}

}  // namespace
}  // namespace minidl
