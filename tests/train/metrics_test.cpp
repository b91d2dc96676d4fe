// Metrics: Keras's accuracy resolution, weighted running means, top-k, errors.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "train/metrics.h"

using namespace minidl;

namespace {
Tensor t(const Shape& s, std::initializer_list<float> v) { return Tensor::from_data(s, v); }
}  // namespace

TEST(Metrics, AccuracyOnASingleOutputColumnIsBinaryAccuracy) {
  auto m = get_metric("accuracy");
  // 0.6 > 0.5 -> 1 (right), 0.4 -> 0 (wrong), 0.5 -> 0 (right: not strictly above), 0.9 -> 1 (wrong).
  m->update_state(t({4, 1}, {1, 1, 0, 0}), t({4, 1}, {0.6f, 0.4f, 0.5f, 0.9f}), {});
  EXPECT_DOUBLE_EQ(m->result(), 0.5);
  EXPECT_EQ(m->name(), "accuracy");
}

TEST(Metrics, AccuracyWithLowerRankLabelsIsSparseCategorical) {
  auto m = get_metric("acc");
  m->update_state(t({3}, {2, 0, 1}), t({3, 3}, {0.1f, 0.2f, 0.7f, 0.5f, 0.4f, 0.1f, 0.6f, 0.3f, 0.1f}), {});
  EXPECT_DOUBLE_EQ(m->result(), 2.0 / 3.0);
  EXPECT_EQ(m->name(), "acc");
}

TEST(Metrics, AccuracyWithColumnLabelsAgainstSeveralClassesIsSparse) {
  auto m = get_metric("accuracy");
  m->update_state(t({2, 1}, {1, 1}), t({2, 3}, {0.1f, 0.8f, 0.1f, 0.7f, 0.2f, 0.1f}), {});
  EXPECT_DOUBLE_EQ(m->result(), 0.5);
}

TEST(Metrics, AccuracyWithSameShapesIsCategoricalWhateverTheLoss) {
  // tf.keras 2 resolves from shapes only: a multi-column binary_crossentropy
  // model gets categorical_accuracy (argmax agreement), not per-element binary.
  auto m = get_metric("accuracy", "binary_crossentropy");
  m->update_state(t({2, 3}, {0, 1, 0, 1, 0, 0}), t({2, 3}, {0.2f, 0.7f, 0.1f, 0.4f, 0.45f, 0.3f}), {});
  EXPECT_DOUBLE_EQ(m->result(), 0.5);  // binary accuracy would be (3/3 + 2/3) / 2
}

TEST(Metrics, ResolutionStaysFixedAfterTheFirstBatch) {
  auto m = get_metric("accuracy");
  m->update_state(t({1}, {1}), t({1, 2}, {0.2f, 0.8f}), {});  // sparse
  m->reset_state();
  EXPECT_THROW(m->update_state(t({1, 2}, {0, 1}), t({1, 2}, {0.2f, 0.8f}), {}), ValueError);  // still sparse
}

TEST(Metrics, ExplicitAccuracyNamesIgnoreShapes) {
  auto bin = get_metric("binary_accuracy");
  bin->update_state(t({2, 3}, {0, 1, 0, 1, 0, 0}), t({2, 3}, {0.2f, 0.7f, 0.6f, 0.1f, 0.9f, 0.3f}), {});
  EXPECT_DOUBLE_EQ(bin->result(), 0.5 * (2.0 / 3 + 1.0 / 3));
  auto cat = get_metric("categorical_accuracy");
  cat->update_state(t({2, 3}, {0, 1, 0, 1, 0, 0}), t({2, 3}, {0.2f, 0.7f, 0.6f, 0.1f, 0.9f, 0.3f}), {});
  EXPECT_DOUBLE_EQ(cat->result(), 0.5);
}

TEST(Metrics, SampleWeightsGiveAWeightedMeanAcrossBatches) {
  auto m = get_metric("sparse_categorical_accuracy");
  // Batch 1: right (w 3), wrong (w 1). Batch 2: right (w 0.5), weight 0 on a wrong one.
  m->update_state(t({2}, {0, 1}), t({2, 2}, {0.9f, 0.1f, 0.8f, 0.2f}), t({2}, {3, 1}));
  EXPECT_DOUBLE_EQ(m->result(), 3.0 / 4.0);
  m->update_state(t({2}, {1, 0}), t({2, 2}, {0.3f, 0.7f, 0.1f, 0.9f}), t({2}, {0.5f, 0}));
  EXPECT_DOUBLE_EQ(m->result(), 3.5 / 4.5);
  m->reset_state();
  EXPECT_DOUBLE_EQ(m->result(), 0.0);
  m->update_state(t({1}, {1}), t({1, 2}, {0.3f, 0.7f}), {});
  EXPECT_DOUBLE_EQ(m->result(), 1.0);
}

TEST(Metrics, UnweightedMeanCountsEverySampleOfEveryBatch) {
  auto m = get_metric("mae");
  m->update_state(t({2, 2}, {0, 0, 0, 0}), t({2, 2}, {1, -3, 2, 2}), {});  // per sample 2, 2
  m->update_state(t({1, 2}, {1, 1}), t({1, 2}, {1, 2}), {});                // per sample 0.5
  EXPECT_DOUBLE_EQ(m->result(), (2 + 2 + 0.5) / 3);
  auto mse = get_metric("mean_squared_error");
  mse->update_state(t({2, 2}, {0, 0, 0, 0}), t({2, 2}, {1, -3, 2, 2}), t({2}, {1, 3}));  // 5 and 4
  EXPECT_DOUBLE_EQ(mse->result(), (5 + 3 * 4) / 4.0);
}

TEST(Metrics, TopKCountsTiesAtTheBoundaryAsInside) {
  auto m = TopKCategoricalAccuracy(2);
  // True class 1 ties with two others at 0.3: nothing is strictly greater -> in top 2.
  m->update_state(t({1, 4}, {0, 1, 0, 0}), t({1, 4}, {0.1f, 0.3f, 0.3f, 0.3f}), {});
  EXPECT_DOUBLE_EQ(m->result(), 1.0);
  // True class 0 has three strictly greater -> out.
  m->update_state(t({1, 4}, {1, 0, 0, 0}), t({1, 4}, {0.1f, 0.3f, 0.3f, 0.3f}), {});
  EXPECT_DOUBLE_EQ(m->result(), 0.5);
  EXPECT_EQ(m->name(), "top_k_categorical_accuracy");
}

TEST(Metrics, SparseTopKUsesIntegerLabels) {
  auto m = SparseTopKCategoricalAccuracy(1);
  m->update_state(t({3}, {2, 0, 1}), t({3, 3}, {0.1f, 0.2f, 0.7f, 0.5f, 0.4f, 0.1f, 0.6f, 0.3f, 0.1f}), {});
  EXPECT_DOUBLE_EQ(m->result(), 2.0 / 3.0);
  // The default k is 5: with 3 classes every label is inside.
  auto k5 = get_metric("sparse_top_k_categorical_accuracy");
  k5->update_state(t({3}, {2, 0, 1}), t({3, 3}, {0.1f, 0.2f, 0.7f, 0.5f, 0.4f, 0.1f, 0.6f, 0.3f, 0.1f}), {});
  EXPECT_DOUBLE_EQ(k5->result(), 1.0);
  EXPECT_THROW(k5->update_state(t({1}, {3}), t({1, 3}, {0.1f, 0.2f, 0.7f}), {}), ValueError);  // label out of range
  EXPECT_THROW(TopKCategoricalAccuracy(0), ValueError);
}

TEST(Metrics, ShapeAndWeightMismatchesAreValueErrors) {
  EXPECT_THROW(get_metric("categorical_accuracy")->update_state(t({2, 2}, {0, 1, 1, 0}), t({2, 3}, {0, 0, 0, 0, 0, 0}), {}),
               ValueError);
  EXPECT_THROW(get_metric("mae")->update_state(t({3, 1}, {0, 1, 1}), t({2, 1}, {0, 0}), {}), ValueError);
  EXPECT_THROW(get_metric("sparse_categorical_accuracy")->update_state(t({3}, {0, 1, 1}), t({2, 2}, {0, 0, 0, 0}), {}),
               ValueError);
  EXPECT_THROW(get_metric("mae")->update_state(t({2, 1}, {0, 1}), t({2, 1}, {0, 0}), t({3}, {1, 1, 1})), ValueError);
}

TEST(Metrics, UnknownNamesAreValueErrors) {
  EXPECT_THROW(get_metric("f1"), ValueError);
  EXPECT_THROW(MetricArg("precision_at_recall").resolve(""), ValueError);
  auto custom = TopKCategoricalAccuracy(3, "top3");
  EXPECT_EQ(MetricArg(custom).resolve("mse").get(), custom.get());
}
