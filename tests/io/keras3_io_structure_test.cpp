// tests/io/keras3_io_structure_test.cpp — input_layers/output_layers in the .keras files minidl writes
// have the structure Keras 3's Functional.get_config gives them (keras/src/models/functional.py
// maps the tensors the model was built with): a single tensor is a bare ["name", 0, 0], several
// are a list of them. Keras's reader rebuilds the model with that structure, so a bare reference
// makes predict return an array, not a one-element list.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "io/zip.h"
#include "minidl/minidl.h"
#include "support/assertions.h"
#include "support/files.h"
#include "support/tensors.h"

namespace minidl {
namespace {

nlohmann::json saved_model_config(const ModelImpl& model, const std::string& file) {
  const std::string path = (testing::temp_dir() / file).string();
  model.save(path);
  const Bytes text = read_zip(path).at("config.json");
  return nlohmann::json::parse(std::string(text.begin(), text.end())).at("config");
}

TEST(Keras3IoStructure, SingleInputAndOutputAreBareReferences) {
  KerasTensor x = Input({6}, {.name = "x"});
  KerasTensor y = Dense(3, {.name = "head"})(x);
  Model model(x, y);
  const nlohmann::json cfg = saved_model_config(*model, "single.keras");
  EXPECT_EQ(cfg.at("input_layers"), nlohmann::json::parse(R"(["x", 0, 0])"));
  EXPECT_EQ(cfg.at("output_layers"), nlohmann::json::parse(R"(["head", 0, 0])"));

  auto loaded = load_model((testing::temp_dir() / "single.keras").string());
  const Tensor in = testing::random_tensor({4, 6}, 3);
  EXPECT_TRUE(testing::AllClose(loaded->predict(in), model->predict(in), 1e-6, 1e-6));
}

TEST(Keras3IoStructure, SeveralInputsAreAListOfReferences) {
  KerasTensor a = Input({4}, {.name = "a"});
  KerasTensor b = Input({4}, {.name = "b"});
  KerasTensor s = Add({.name = "sum"})({a, b});
  Model model({a, b}, {s});
  const nlohmann::json cfg = saved_model_config(*model, "two.keras");
  EXPECT_EQ(cfg.at("input_layers"), nlohmann::json::parse(R"([["a", 0, 0], ["b", 0, 0]])"));
  EXPECT_EQ(cfg.at("output_layers"), nlohmann::json::parse(R"(["sum", 0, 0])"));

  auto loaded = load_model((testing::temp_dir() / "two.keras").string());
  EXPECT_EQ(loaded->inputs().size(), 2u);
}

}  // namespace
}  // namespace minidl
