// tests/io/keras3_shared_object_test.cpp — shared_object_id in Keras 3 configs. Keras 3's
// serializer adds it to the wrapper ({"module", "class_name", "config", "registered_name"}) of an
// object serialized more than once, such as the one DTypePolicy every layer of a model shares, and
// its deserializer reads it there only. It is accepted on wrappers (layer dtypes, initializers,
// layer entries) and stays an unknown key inside a layer's or a part's config.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "core/errors.h"
#include "io/keras_model.h"
#include "support/assertions.h"

namespace minidl {
namespace {

using testing::ThrowsQuietly;

// A Keras 3.15 Functional as config.json holds it: the first layer's DTypePolicy without the
// id, the later ones with it (Keras marks the repeats), an initializer shared by both Dense layers,
// the id on a layer entry too.
const char* kSharedObjects = R"({"module": "keras", "class_name": "Functional", "registered_name": null,
  "config": {"name": "shared", "trainable": true, "layers": [
    {"module": "keras.layers", "class_name": "InputLayer", "registered_name": null, "name": "x",
     "config": {"batch_shape": [null, 4], "dtype": "float32", "sparse": false, "ragged": false, "name": "x",
                "optional": false}, "inbound_nodes": []},
    {"module": "keras.layers", "class_name": "Dense", "registered_name": null, "name": "d1",
     "build_config": {"input_shape": [null, 4]},
     "config": {"name": "d1", "trainable": true, "units": 3, "activation": "relu", "use_bias": true,
       "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
       "kernel_initializer": {"module": "keras.initializers", "class_name": "HeNormal",
         "config": {"seed": 7, "input_axes": null, "output_axes": null}, "registered_name": null,
         "shared_object_id": 140001},
       "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null}},
     "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32",
       "keras_history": ["x", 0, 0]}}], "kwargs": {}}]},
    {"module": "keras.layers", "class_name": "Dense", "registered_name": null, "name": "d2",
     "build_config": {"input_shape": [null, 3]}, "shared_object_id": 140002,
     "config": {"name": "d2", "trainable": true, "units": 2,
       "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null,
         "shared_object_id": 140000},
       "kernel_initializer": {"module": "keras.initializers", "class_name": "HeNormal",
         "config": {"seed": 7, "input_axes": null, "output_axes": null}, "registered_name": null,
         "shared_object_id": 140001}},
     "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 3], "dtype": "float32",
       "keras_history": ["d1", 0, 0]}}], "kwargs": {}}]},
    {"module": "keras.layers", "class_name": "BatchNormalization", "registered_name": null, "name": "bn",
     "build_config": {"input_shape": [null, 2]},
     "config": {"name": "bn", "trainable": true, "axis": -1,
       "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null,
         "shared_object_id": 140000}},
     "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 2], "dtype": "float32",
       "keras_history": ["d2", 0, 0]}}], "kwargs": {"mask": null}}]}],
  "input_layers": ["x", 0, 0], "output_layers": ["bn", 0, 0]}})";

TEST(Keras3SharedObjects, IdsOnWrappersAreAccepted) {
  const auto m = model_from_json(kSharedObjects);
  EXPECT_EQ(m->get_layer("d2")->get_config()["dtype"], "float32");
  EXPECT_EQ(m->get_layer("d1")->get_config()["kernel_initializer"],
            json::parse(R"({"class_name": "HeNormal", "config": {"seed": 7}})"));
  const Tensor y = m->predict(Tensor::uniform({2, 4}));
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(m->get_layer("bn")->get_config()["dtype"], "float32");
}

TEST(Keras3SharedObjects, AnIdInsideALayerConfigIsAnUnknownKey) {
  std::string cfg = kSharedObjects;
  const std::string from = R"("config": {"name": "bn", "trainable": true,)";
  ASSERT_NE(cfg.find(from), std::string::npos);
  cfg.replace(cfg.find(from), from.size(), R"("config": {"name": "bn", "trainable": true, "shared_object_id": 3,)");
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { model_from_json(cfg); },
                                        {"BatchNormalization", "unknown config key 'shared_object_id'"}));
}

TEST(Keras3SharedObjects, AnIdInsideAnInitializerConfigIsAnUnexpectedKey) {
  std::string cfg = kSharedObjects;
  const std::string from = R"("config": {"seed": 7, "input_axes": null,)";
  ASSERT_NE(cfg.find(from), std::string::npos);
  cfg.replace(cfg.find(from), from.size(), R"("config": {"seed": 7, "shared_object_id": 1, "input_axes": null,)");
  EXPECT_TRUE(ThrowsQuietly<ValueError>([&] { model_from_json(cfg); },
                                        {"HeNormal initializer", "unexpected config key 'shared_object_id'"}));
}

}  // namespace
}  // namespace minidl
