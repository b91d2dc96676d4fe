// tests/train/sequential_construction_test.cpp — every Keras-like way to
// construct a Sequential compiles and does the obvious thing, a one-layer
// braced list included.
#include <gtest/gtest.h>

#include <memory>
#include <type_traits>
#include <vector>

#include "layers/conv/conv2d.h"
#include "layers/core/dense.h"
#include "train/model.h"

using namespace minidl;

// A holder converts to its own impl's bases only: a braced list of one holder
// then means "the layers", not "the impl".
static_assert(std::is_convertible_v<Conv2D, std::shared_ptr<Layer>>);
static_assert(!std::is_convertible_v<Conv2D, std::shared_ptr<SequentialImpl>>);
static_assert(std::is_convertible_v<Sequential, std::shared_ptr<ModelImpl>>);
static_assert(std::is_constructible_v<Sequential, std::shared_ptr<SequentialImpl>>);

TEST(SequentialConstruction, OneLayerInBraces) {
  Sequential model({Conv2D(4, 3, {.input_shape = Shape{8, 8, 1}})});
  ASSERT_EQ(model->layers().size(), 1u);
  EXPECT_EQ(model->layers()[0]->class_name(), "Conv2D");
  EXPECT_EQ(model->output_shape(), (Shape{kNone, 6, 6, 4}));
  EXPECT_EQ(model->predict(Tensor::zeros({2, 8, 8, 1})).shape(), (Shape{2, 6, 6, 4}));

  Sequential named({Dense(2)}, "one");
  EXPECT_EQ(named->name(), "one");
  EXPECT_EQ(named->layers().size(), 1u);
}

TEST(SequentialConstruction, SeveralLayersInBraces) {
  const Conv2D a(4, 3, {.input_shape = Shape{8, 8, 1}});
  const Conv2D b(2, 1);
  Sequential model({a, b});
  ASSERT_EQ(model->layers().size(), 2u);
  EXPECT_EQ(model->layers()[0].get(), a.ptr().get());
  EXPECT_EQ(model->layers()[1].get(), b.ptr().get());
  EXPECT_EQ(model->predict(Tensor::zeros({1, 8, 8, 1})).shape(), (Shape{1, 6, 6, 2}));
}

TEST(SequentialConstruction, EmptyForms) {
  Sequential none;
  EXPECT_TRUE(none->layers().empty());
  Sequential braces({});
  EXPECT_TRUE(braces->layers().empty());
  Sequential named({}, "name");
  EXPECT_EQ(named->name(), "name");
  EXPECT_TRUE(named->layers().empty());
  named->add(Dense(3, {.input_shape = Shape{2}}));
  EXPECT_EQ(named->layers().size(), 1u);
}

TEST(SequentialConstruction, FromAVectorAndFromAnImpl) {
  std::vector<LayerPtr> layers{Dense(3, {.input_shape = Shape{2}}), Dense(1)};
  Sequential from_vector(layers, "v");
  EXPECT_EQ(from_vector->layers().size(), 2u);
  Sequential copy_init = layers;
  EXPECT_EQ(copy_init->layers().size(), 2u);
  auto impl = std::make_shared<SequentialImpl>(std::vector<LayerPtr>{Dense(1, {.input_shape = Shape{2}})});
  Sequential wrapped(impl);
  EXPECT_EQ(wrapped.ptr().get(), impl.get());
}
