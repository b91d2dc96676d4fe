// JSON from files is parsed with a nesting limit (layers/base/json_text.h kMaxJsonDepth): a
// model_config, training_config, architecture .json or .keras config.json nested 100,000
// levels is one IOError naming the file, the place inside it and the limit, never a stack
// overflow in a later walk of the parsed value. Real Keras configs stay far below it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <utility>

#include "io/hdf5.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "layers/base/json_text.h"
#include "support/keras_files.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::ThrowsQuietly;

constexpr int kHostileDepth = 100000;

// "[[[...]]]" nested `depth` levels.
std::string deep_array(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// {"a":{"a":...{"a":1}...}} nested `depth` levels.
std::string deep_object(int depth) {
  std::string s;
  s.reserve(static_cast<size_t>(depth) * 6 + 1);
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  s += '1';
  s.append(static_cast<size_t>(depth), '}');
  return s;
}

const std::string kLimitText = "exceeds the limit of " + std::to_string(kMaxJsonDepth) + " levels";

std::string dense_config() {
  return R"({"class_name": "Sequential", "config": {"name": "s", "layers": [)"
         R"({"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "name": "in"}},)"
         R"({"class_name": "Dense", "config": {"name": "dense", "units": 2}}]}})";
}

// A legacy full-model file: the given attributes at the root, one Dense layer's weights.
std::string write_model(const std::string& name, const std::string& model_config,
                        const std::string& training_config = "") {
  const std::string path = (testing::temp_dir() / name).string();
  h5::H5File f = h5::H5File::create(path);
  f.root().write_string_attr("keras_version", "2.4.0");
  f.root().write_string_attr("backend", "tensorflow");
  // Variable-length strings live in the global heap: the 200-500 KB hostile texts fit where
  // a fixed-length attribute of the root would exceed HDF5's 64 KiB object-header limit.
  f.root().write_string_attr("model_config", model_config);
  if (!training_config.empty()) f.root().write_string_attr("training_config", training_config);
  const h5::Group mw = f.root().create_group("model_weights");
  mw.write_string_array_attr("layer_names", {"dense"});
  const h5::Group g = mw.create_group("dense");
  g.write_string_array_attr("weight_names", {"dense/kernel:0", "dense/bias:0"});
  g.write_tensor("dense/kernel:0", Tensor::ones({3, 2}));
  g.write_tensor("dense/bias:0", Tensor::zeros({2}));
  f.close();
  return path;
}

std::string write_keras_zip(const std::string& name, const std::string& config_json) {
  const std::string path = (testing::temp_dir() / name).string();
  write_zip(path, {{"metadata.json", Bytes{'{', '}'}, std::nullopt},
                   {"config.json", Bytes(config_json.begin(), config_json.end()), std::nullopt}});
  return path;
}

// load_model on the files `write(name, config)` makes (name "deep_array" or
// "deep_object" + extension) from a config nested past the limit as arrays, then as
// objects: each an IOError naming the file, the config's place `where` and the limit.
template <class Write>
void expect_deep_configs_refused(const std::string& extension, Write write, const std::string& where) {
  const std::pair<std::string, std::string> configs[] = {{"deep_array", deep_array(kHostileDepth)},
                                                         {"deep_object", deep_object(kHostileDepth)}};
  for (const auto& [stem, config] : configs) {
    const std::string path = write(stem + extension, config);
    EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model(path); }, {path, where, kLimitText}));
  }
}

TEST(JsonDepth, ParsesUpToTheLimitAndRefusesOneLevelMore) {
  const json at_limit = parse_json_limited(deep_array(kMaxJsonDepth), "at_limit.json");
  EXPECT_TRUE(at_limit.is_array());
  EXPECT_TRUE(ThrowsQuietly<IOError>([] { parse_json_limited(deep_array(kMaxJsonDepth + 1), "over.json"); },
                                     {"over.json", kLimitText}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([] { parse_json_limited(deep_object(kMaxJsonDepth + 1), "over.json"); },
                                     {"over.json", kLimitText}));
  // Brackets inside strings are text, not nesting.
  const json in_string = parse_json_limited("{\"s\": \"" + deep_array(1000) + "\"}", "s.json");
  EXPECT_EQ(in_string["s"].get<std::string>().size(), 2000u);
}

TEST(JsonDepth, InvalidJsonStaysAValueError) {
  EXPECT_TRUE(ThrowsQuietly<ValueError>([] { parse_json_limited("{\"a\": [1, 2}", "bad.json"); },
                                        {"bad.json", "invalid JSON"}));
}

TEST(JsonDepth, DeepModelConfigIsAnIOErrorNamingTheFileAndTheLimit) {
  expect_deep_configs_refused(
      ".h5", [](const std::string& name, const std::string& config) { return write_model(name, config); },
      "model_config");
}

TEST(JsonDepth, DeepTrainingConfigLeavesTheModelLoadedUncompiled) {
  const std::string p = write_model("deep_training.h5", dense_config(), deep_object(kHostileDepth));
  testing::LogCapture log;
  const auto model = load_model(p);
  EXPECT_FALSE(model->compiled());
  EXPECT_EQ(model->get_layer("dense")->get_weights()[0].to_vector(), Tensor::ones({3, 2}).to_vector());
  EXPECT_NE(log.text().find(p + ": training_config: JSON nesting " + kLimitText), std::string::npos) << log.text();
}

TEST(JsonDepth, DeepArchitectureJsonIsAnIOError) {
  const fs::path arch = testing::temp_dir() / "deep.json";
  testing::write_file(arch, deep_array(kHostileDepth));
  const std::string weights = write_model("weights.h5", dense_config());
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { load_model_from_parts(arch.string(), weights); },
                                     {arch.string(), kLimitText}));
  EXPECT_TRUE(ThrowsQuietly<IOError>([] { model_from_json(deep_object(kHostileDepth)); },
                                     {"model_from_json", kLimitText}));
}

TEST(JsonDepth, DeepKerasArchiveConfigIsAnIOError) {
  expect_deep_configs_refused(".keras", write_keras_zip, "config.json");
}

TEST(JsonDepth, DescribeReportsTheLimitInsteadOfCrashing) {
  const std::string p = write_model("deep_describe.h5", deep_array(kHostileDepth), deep_array(kHostileDepth));
  const std::string text = describe_keras_file(p);
  EXPECT_NE(text.find("model: model_config: JSON nesting " + kLimitText), std::string::npos) << text.substr(0, 2000);
  EXPECT_NE(text.find("training_config: loss ?"), std::string::npos) << text.substr(0, 2000);
}

TEST(JsonDepth, AShallowFileStillLoads) {
  const auto model = load_model(write_model("good.h5", dense_config()));
  EXPECT_EQ(model->get_layer("dense")->get_weights()[0].to_vector(), Tensor::ones({3, 2}).to_vector());
}

// The deepest configs in ../shared (the keras-apps MobileNets, 11 levels) parse well under the limit.
TEST(JsonDepth, RealKerasConfigsParseUnderTheLimit) {
  MINIDL_REQUIRE_SHARED();
  const fs::path apps = testing::shared_dir() / "keras-apps";
  if (!fs::is_directory(apps)) GTEST_SKIP() << "no " << apps;
  int checked = 0;
  for (const char* name : {"MobileNet", "MobileNetV2", "MobileNetV3Small"}) {
    const fs::path h5_path = apps / (std::string(name) + ".h5");
    const fs::path zip_path = apps / (std::string(name) + ".keras");
    if (fs::exists(h5_path)) {
      const std::string text = h5::H5File::open_read(h5_path.string()).root().read_string_attr("model_config");
      EXPECT_NO_THROW(parse_json_limited(text, h5_path.string())) << h5_path;
      ++checked;
    }
    if (fs::exists(zip_path)) {
      const Bytes cfg = read_zip(zip_path.string()).at("config.json");
      EXPECT_NO_THROW(parse_json_limited(std::string(cfg.begin(), cfg.end()), zip_path.string())) << zip_path;
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no MobileNet files in " << apps;
}

TEST(JsonPreview, SmallValuesPreviewAsTheirCompactDump) {
  const json j = json::parse(R"({"b": [1, 2.5, null, true], "a": {"s": "t\"\n\u00e9"}, "c": []})");
  EXPECT_EQ(json_preview(j), j.dump());
  EXPECT_EQ(json_preview(json("x")), "\"x\"");
  EXPECT_EQ(json_preview(json(3)), "3");
}

TEST(JsonPreview, LargeValuesAreCutWithAMarker) {
  const json long_string(std::string(1 << 20, 'x'));
  const std::string s = json_preview(long_string);
  EXPECT_EQ(s.size(), kJsonPreviewChars + 3);
  EXPECT_EQ(s.substr(0, 2), "\"x");
  EXPECT_EQ(s.substr(s.size() - 3), "...");

  json wide = json::array();
  for (int i = 0; i < 100000; ++i) wide.push_back(i);
  const std::string w = json_preview(wide, 50);
  EXPECT_EQ(w, wide.dump().substr(0, 50) + "...");
}

// A value built in memory is not limited at parse time; its preview still writes only
// what it shows (a full dump would recurse once per level).
TEST(JsonPreview, DeepValuesAreCutWithoutWalkingThemWhole) {
  json deep = 1;
  for (int i = 0; i < 10000; ++i) deep = json::array({std::move(deep)});
  const std::string s = json_preview(deep, 120);
  EXPECT_EQ(s, std::string(120, '[') + "...");
}

}  // namespace
}  // namespace minidl
