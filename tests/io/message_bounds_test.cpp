// Error messages about files with huge lists or names stay one line of at most
// kMaxErrorMessageChars characters, still naming the file and the place inside it: lists
// enter messages through join_capped ("… and N more"), and core/errors.h cuts the rest.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/hdf5.h"
#include "io/keras_internal.h"
#include "io/keras_model.h"
#include "support/assertions.h"
#include "support/files.h"

namespace minidl {
namespace {

constexpr size_t kManyNames = 100000;

std::string dense_config() {
  return R"({"class_name": "Sequential", "config": {"name": "s", "layers": [)"
         R"({"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "name": "in"}},)"
         R"({"class_name": "Dense", "config": {"name": "dense", "units": 2}}]}})";
}

// A legacy full-model file with one Dense layer; /model_weights lists `layer_names` (split
// into layer_names0, 1, ... as Keras splits long lists) and `dense` lists `weight_names`.
std::string write_model(const std::string& name, const std::vector<std::string>& layer_names,
                        const std::vector<std::string>& weight_names = {"dense/kernel:0", "dense/bias:0"}) {
  const std::string path = (testing::temp_dir() / name).string();
  h5::H5File f = h5::H5File::create(path);
  f.root().write_string_attr("keras_version", "2.4.0");
  f.root().write_string_attr("backend", "tensorflow");
  f.root().write_fixed_string_attr("model_config", dense_config());
  const h5::Group mw = f.root().create_group("model_weights");
  keras_io::write_names_attr(mw, "layer_names", layer_names);
  const h5::Group g = mw.create_group("dense");
  keras_io::write_names_attr(g, "weight_names", weight_names);
  g.write_tensor("dense/kernel:0", Tensor::ones({3, 2}));
  g.write_tensor("dense/bias:0", Tensor::zeros({2}));
  f.close();
  return path;
}

// f throws Exc with a message of one line, at most kMaxErrorMessageChars characters,
// containing every needle.
template <class Exc>
::testing::AssertionResult ThrowsBounded(const std::function<void()>& f, const std::vector<std::string>& needles) {
  const ::testing::AssertionResult r = testing::ThrowsQuietly<Exc>(f, needles);
  if (!r) return r;
  const std::string message = r.message();
  if (message.size() > kMaxErrorMessageChars)
    return ::testing::AssertionFailure() << "message of " << message.size() << " characters";
  if (message.find('\n') != std::string::npos) return ::testing::AssertionFailure() << "several lines: " << message;
  return ::testing::AssertionSuccess() << message;
}

TEST(MessageBounds, LayerNamesOf100000EntriesGiveAShortMessage) {
  // Every entry names the one weighted group: 100,000 weighted layers against the model's 1.
  const std::string p = write_model("many_layer_names.h5", std::vector<std::string>(kManyNames, "dense"));
  EXPECT_TRUE(ThrowsBounded<ValueError>([&] { load_model(p); },
                                        {p, "/model_weights", "layer count mismatch", "the file has 100000",
                                         "dense, dense, ", "… and 99992 more"}));
}

TEST(MessageBounds, UnknownLayerAmongManyNamesGivesAShortMessage) {
  std::vector<std::string> names;
  for (size_t i = 0; i < kManyNames; ++i) names.push_back("layer_" + std::to_string(i));
  names.push_back("dense");
  const std::string p = write_model("many_names.h5", names);
  EXPECT_TRUE(ThrowsBounded<ValueError>([&] { read_layer_weights(p, "absent"); },
                                        {p, "/model_weights", "no layer named 'absent'", "layer_0, layer_1",
                                         "… and 99993 more"}));
}

TEST(MessageBounds, WeightNamesOf100000EntriesGiveAShortMessage) {
  const std::string p = write_model("many_weight_names.h5", {"dense"}, std::vector<std::string>(kManyNames, "w"));
  EXPECT_TRUE(ThrowsBounded<ValueError>([&] { load_model(p); },
                                        {p, "/model_weights/dense", "the file lists 100000", "… and 99992 more"}));
}

TEST(MessageBounds, AHugeLayerNameIsCutInsideTheList) {
  const std::string huge(20000, 'n');
  const std::string p = write_model("huge_name.h5", {huge, "dense"});
  EXPECT_TRUE(ThrowsBounded<ValueError>([&] { read_layer_weights(p, "absent"); },
                                        {p, "/model_weights", "no layer named 'absent'", "nnnn…"}));
}

// A name asked for by the caller is echoed whole by the message; the final cut keeps the
// message bounded and its start (the file) intact.
TEST(MessageBounds, AHugeRequestedNameIsCutAtTheEnd) {
  const std::string p = write_model("asked.h5", {"dense"});
  const std::string asked(5000, 'q');
  const ::testing::AssertionResult r =
      ThrowsBounded<ValueError>([&] { read_layer_weights(p, asked); }, {p, "no layer named 'qqq"});
  ASSERT_TRUE(r);
  const std::string message = r.message();
  EXPECT_EQ(message.rfind(p, 0), 0u) << message;
  EXPECT_EQ(message.substr(message.size() - std::string("…").size()), "…");
}

}  // namespace
}  // namespace minidl
