// tests/layers/preprocessing_files_test.cpp — the image preprocessing and augmentation layers saved
// in a model through .h5 and .keras and loaded back: same classes, same configs, same predictions.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "io/keras_model.h"
#include "layers/base/input_layer.h"
#include "layers/preprocessing/random_affine.h"
#include "layers/preprocessing/random_color.h"
#include "layers/preprocessing/random_crop.h"
#include "layers/preprocessing/random_flip.h"
#include "layers/preprocessing/resizing.h"
#include "support/assertions.h"
#include "support/files.h"
#include "support/tensors.h"
#include "train/model.h"

namespace minidl {
namespace {

std::shared_ptr<ModelImpl> augmenting_model() {
  reset_layer_names();
  KerasTensor x = Input({12, 10, 3}, {.name = "images"});
  KerasTensor y = Resizing(10, 10, {.interpolation = "nearest", .crop_to_aspect_ratio = true, .name = "resize"})(x);
  y = RandomFlip("horizontal", {.seed = 1, .name = "flip"})(y);
  y = RandomTranslation(0.1, {-0.2, 0.1}, {.fill_mode = "wrap", .seed = 2, .name = "shift"})(y);
  y = RandomRotation({-0.1, 0.2}, {.fill_mode = "constant", .fill_value = 3.0, .name = "turn"})(y);
  y = RandomZoom(0.2, {-0.1, 0.3}, {.interpolation = "nearest", .seed = 4, .name = "zoom"})(y);
  y = RandomContrast(0.3, {.value_range = {0.0, 1.0}, .seed = 5, .name = "contrast"})(y);
  y = RandomBrightness({-0.1, 0.2}, {.value_range = {0.0, 1.0}, .name = "brightness"})(y);
  y = CenterCrop(8, 8, {.name = "centre"})(y);
  y = RandomCrop(6, 6, {.seed = 6, .name = "crop"})(y);
  return Model(x, y, "augment").ptr();
}

void expect_same_model(const ModelImpl& a, const ModelImpl& b) {
  const std::vector<LayerPtr> la = a.layers(), lb = b.layers();
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) {
    EXPECT_EQ(la[i]->class_name(), lb[i]->class_name());
    EXPECT_EQ(la[i]->get_config(), lb[i]->get_config()) << la[i]->name();
  }
}

TEST(ImagePreprocessingFiles, LayersSurviveH5AndKerasArchives) {
  auto model = augmenting_model();
  const Tensor x = testing::random_tensor({2, 12, 10, 3}, 1);
  const Tensor y = model->predict(x);
  for (const std::string file : {"augment.h5", "augment.keras"}) {
    const std::string path = testing::fresh_path(file);
    model->save(path);
    auto back = load_model(path);
    expect_same_model(*model, *back);
    // Inference: only the resize and the centre crop act (RandomCrop passes its input through).
    EXPECT_TRUE(testing::AllClose(back->predict(x), y, 0, 0)) << file;
  }
  EXPECT_EQ(y.shape(), (Shape{2, 8, 8, 3}));
}

}  // namespace
}  // namespace minidl
