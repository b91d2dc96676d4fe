// tests/io/weights_order_io_test.cpp — a layer whose non-trainable weight is
// created before its trainable one: Keras files list and read its weights
// trainable first (TF 1.x `_legacy_weights`, Keras 3's own-variable order),
// whether the layer is frozen or not.
#include <gtest/gtest.h>

#include "autograd/functions.h"
#include "io/hdf5.h"
#include "io/keras_model.h"
#include "layers/base/input_layer.h"
#include "layers/core/dense.h"
#include "support/files.h"
#include "support/keras_files.h"
#include "train/model.h"

namespace minidl {
namespace {

// y = x + offset; `seen` (created first) is a non-trainable count kept for the file.
class OffsetImpl : public Layer {
 public:
  explicit OffsetImpl(const std::string& name) : Layer(LayerOptions{.name = name}, "offset") {}
  std::string class_name() const override { return "TestOffset"; }

 protected:
  void build(const std::vector<Shape>& input_shapes) override {
    seen_ = add_weight("seen", {1}, "zeros", {}, /*trainable=*/false);
    offset_ = add_weight("offset", {single_shape(input_shapes).back()}, "zeros");
  }
  VariableList call(const std::vector<Variable>& inputs, const CallArgs&) override {
    return {autograd::add(single_input(inputs), offset_)};
  }

 private:
  Variable seen_, offset_;
};

std::shared_ptr<ModelImpl> offset_model(float seen, float offset) {
  KerasTensor in = Input({2});
  auto layer = std::make_shared<OffsetImpl>("off");
  auto model = std::make_shared<ModelImpl>(in, (*layer)(Dense(2, {.name = "d"})(in)));
  layer->set_weights({Tensor::from_data({2}, {offset, -offset}), Tensor::from_data({1}, {seen})});
  return model;
}

std::vector<std::string> weight_names_in(const std::string& path, const std::string& layer) {
  const h5::H5File f = h5::H5File::open_read(path);
  return f.root().open_group(layer).read_string_array_attr("weight_names");
}

TEST(WeightsOrderIo, LegacyWeightNamesListTheTrainableWeightFirst) {
  for (bool frozen : {false, true}) {
    auto src = offset_model(3.f, 0.5f);
    src->get_layer("off")->set_trainable(!frozen);
    const std::string p = (testing::temp_dir() / (frozen ? "frozen.h5" : "plain.h5")).string();
    save_weights(*src, p);
    EXPECT_EQ(weight_names_in(p, "off"), (std::vector<std::string>{"off/offset:0", "off/seen:0"})) << frozen;

    auto dst = offset_model(0.f, 0.f);
    load_weights(*dst, p);
    EXPECT_TRUE(testing::SameWeights(*src, *dst));
    EXPECT_EQ(dst->get_layer("off")->own_weights()[0].variable.value().to_vector(), (std::vector<float>{3.f}));
  }
}

TEST(WeightsOrderIo, Keras3WeightsFileRoundTrips) {
  auto src = offset_model(4.f, 1.5f);
  src->get_layer("off")->set_trainable(false);
  const std::string p = (testing::temp_dir() / "m.weights.h5").string();
  save_weights(*src, p, /*keras3=*/true);
  auto dst = offset_model(0.f, 0.f);
  load_weights(*dst, p);
  EXPECT_TRUE(testing::SameWeights(*src, *dst));
  EXPECT_EQ(dst->get_layer("off")->own_weights()[1].variable.value().to_vector(), (std::vector<float>{1.5f, -1.5f}));
}

}  // namespace
}  // namespace minidl
