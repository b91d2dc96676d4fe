// tests/io/mixed_bfloat16_io_test.cpp — layer policies in saved files: tf.keras 2's
// {"class_name": "Policy"} in a legacy .h5, Keras 3's DTypePolicy in a .keras, and both loaded back.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "io/keras_model.h"
#include "layers/base/dtype_policy.h"
#include "layers/base/input_layer.h"
#include "layers/core/dense.h"
#include "support/saved_configs.h"
#include "support/tensors.h"

namespace minidl {
namespace {

// Input(6) -> Dense(8, mixed_bfloat16, named "mixed") -> Dense(3, float32, named "plain").
Model two_policy_model() {
  KerasTensor x = Input({6});
  KerasTensor h = Dense(8, {.activation = "relu", .dtype = "mixed_bfloat16", .name = "mixed"})(x);
  return Model(x, Dense(3, {.dtype = "float32", .name = "plain"})(h));
}

const nlohmann::json* layer_config(const std::vector<nlohmann::json>& entries, const std::string& name) {
  for (const auto& e : entries)
    if (e.at("config").value("name", "") == name) return &e.at("config");
  return nullptr;
}

TEST(MixedBfloat16Io, LegacyH5WritesTfKerasPolicyAndLoadsItBack) {
  auto m = two_policy_model();
  const auto entries = testing::saved_layer_entries(*m, "policy.h5");
  const auto* mixed = layer_config(entries, "mixed");
  const auto* plain = layer_config(entries, "plain");
  ASSERT_TRUE(mixed && plain);
  EXPECT_EQ(mixed->at("dtype"),
            nlohmann::json({{"class_name", "Policy"}, {"config", {{"name", "mixed_bfloat16"}}}}));
  EXPECT_EQ(plain->at("dtype"), "float32");

  auto back = load_model((testing::temp_dir() / "policy.h5").string());
  EXPECT_EQ(back->get_layer("mixed")->dtype_policy().name(), "mixed_bfloat16");
  EXPECT_EQ(back->get_layer("plain")->dtype_policy().name(), "float32");
  const Tensor x = testing::random_tensor({4, 6}, 3);
  const Tensor a = (*m)(x), b = (*back)(x);
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a[i], b[i]);
}

TEST(MixedBfloat16Io, Keras3WritesDTypePolicyAndLoadsItBack) {
  auto m = two_policy_model();
  const auto entries = testing::saved_layer_entries(*m, "policy.keras");
  const auto* mixed = layer_config(entries, "mixed");
  const auto* plain = layer_config(entries, "plain");
  ASSERT_TRUE(mixed && plain);
  const nlohmann::json want = {{"module", "keras"},
                               {"class_name", "DTypePolicy"},
                               {"config", {{"name", "mixed_bfloat16"}}},
                               {"registered_name", nullptr}};
  EXPECT_EQ(mixed->at("dtype"), want);
  EXPECT_EQ(plain->at("dtype").at("config").at("name"), "float32");

  auto back = load_model((testing::temp_dir() / "policy.keras").string());
  EXPECT_EQ(back->get_layer("mixed")->dtype_policy().name(), "mixed_bfloat16");
  EXPECT_EQ(back->get_layer("plain")->dtype_policy().name(), "float32");
}

}  // namespace
}  // namespace minidl
