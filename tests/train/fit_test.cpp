// The fit loop end to end on tiny Dense models: learning, the reported loss
// (regularization, batch averaging, sample and class weights), validation
// split, reproducibility, the evaluate/predict/*_on_batch calls and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "autograd/functions.h"
#include "core/errors.h"
#include "core/random.h"
#include "core/threads.h"
#include "layers/regularization/dropout.h"
#include "support/assertions.h"
#include "support/models.h"
#include "train/model.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

// n points in two classes around (-1, -1) and (1, 1) (spread 0.4): x [n, 2], labels [n].
std::pair<Tensor, Tensor> two_blobs(int64_t n) {
  Tensor x({n, 2}), y({n});
  Tensor noise = Tensor::uniform({n, 2}, -0.4f, 0.4f);
  for (int64_t i = 0; i < n; ++i) {
    const float c = static_cast<float>(i % 2);
    y[i] = c;
    for (int j = 0; j < 2; ++j) x[i * 2 + j] = (2 * c - 1) + noise[i * 2 + j];
  }
  return {x, y};
}

// Input(2) -> Dense(8, relu) [-> Dropout] -> Dense(2, softmax).
Model classifier(bool dropout = false) {
  KerasTensor x = Input({2});
  KerasTensor h = Dense(8, {.activation = "relu"})(x);
  if (dropout) h = Dropout(0.3)(h);
  return Model(x, Dense(2, {.activation = "softmax"})(h));
}

// Per-sample mse of a [N, 1] prediction, in double.
std::vector<double> per_sample_mse(const Tensor& pred, const Tensor& y) {
  std::vector<double> out;
  for (int64_t i = 0; i < pred.numel(); ++i) out.push_back(std::pow(double(pred[i]) - double(y[i]), 2));
  return out;
}

}  // namespace

TEST(Fit, LearnsASeparableProblemToFullAccuracy) {
  set_random_seed(7);
  auto [x, y] = two_blobs(64);
  Model model = classifier();
  model->compile(std::make_shared<Adam>(0.05), "sparse_categorical_crossentropy", {"accuracy"});
  History h = model->fit(x, y, {.batch_size = 16, .epochs = 15, .verbose = 0});
  ASSERT_EQ(h.history["loss"].size(), 15u);
  EXPECT_LT(h.history["loss"].back(), 0.5 * h.history["loss"].front());
  EXPECT_LT(h.history["loss"].back(), 0.1);
  EXPECT_DOUBLE_EQ(h.history["accuracy"].back(), 1.0);
  EXPECT_DOUBLE_EQ(model->evaluate(x, y, {.verbose = 0})["accuracy"], 1.0);
  EXPECT_EQ(h.epoch, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}));
}

TEST(Fit, ReportedLossIncludesRegularizationTerms) {
  Model model = linear_model(3, 1, 0.0, {.kernel_regularizer = L2(0.1), .bias_regularizer = L1(0.05)});
  model->set_weights({Tensor::from_data({3, 1}, {0.5f, -1.f, 2.f}), Tensor::from_data({1}, {0.3f})});
  Tensor x = ramp(6, 3), y = ramp(6, 1, 0.3f);
  History h = model->fit(x, y, {.batch_size = 6, .epochs = 1, .verbose = 0, .shuffle = false});
  // By hand, in double: mse + 0.1 * sum(w^2) + 0.05 * |b|.
  const double w[3] = {0.5, -1, 2}, b = 0.3;
  double mse = 0;
  for (int i = 0; i < 6; ++i) {
    double p = b;
    for (int j = 0; j < 3; ++j) p += double(x[i * 3 + j]) * w[j];
    mse += (p - y[i]) * (p - y[i]) / 6;
  }
  const double reg = 0.1 * (0.25 + 1 + 4) + 0.05 * 0.3;
  EXPECT_NEAR(h.history["loss"][0], mse + reg, 1e-5 * (mse + reg));
  // The same through model.losses().
  double losses = 0;
  for (const auto& l : model->losses()) losses += autograd::sum(l).value().item();
  EXPECT_NEAR(losses, reg, 1e-6);
  EXPECT_NEAR(model->evaluate(x, y, {.verbose = 0})["loss"], mse + reg, 1e-5 * (mse + reg));
}

TEST(Fit, EpochLossIsTheSampleWeightedMeanOfBatchLosses) {
  // 8 samples in batches of 3, 3, 2; with lr 0 the epoch mean must equal the full-batch loss.
  Model model = linear_model(2, 1, 0.0);
  Tensor x = ramp(8, 2), y = ramp(8, 1, 0.2f);
  History h = model->fit(x, y, {.batch_size = 3, .epochs = 1, .verbose = 0});
  const double full = model->evaluate(x, y, {.batch_size = 8, .verbose = 0})["loss"];
  EXPECT_NEAR(h.history["loss"][0], full, 1e-6);
  EXPECT_NEAR(model->evaluate(x, y, {.batch_size = 3, .verbose = 0})["loss"], full, 1e-6);
}

TEST(Fit, ValidationSplitTakesTheLastFraction) {
  Model model = linear_model(2, 1, 0.0);
  Tensor x = ramp(10, 2), y = ramp(10, 1, 0.3f);
  History h = model->fit(x, y, {.epochs = 1, .verbose = 0, .validation_split = 0.2});
  const double train = model->evaluate(x.slice_rows(0, 8), y.slice_rows(0, 8), {.verbose = 0})["loss"];
  const double val = model->evaluate(x.slice_rows(8, 10), y.slice_rows(8, 10), {.verbose = 0})["loss"];
  EXPECT_NE(train, val);
  EXPECT_NEAR(h.history["loss"][0], train, 1e-6);
  EXPECT_NEAR(h.history["val_loss"][0], val, 1e-6);
}

TEST(Fit, SampleWeightScalesPerSampleLossesOverTheBatchSize) {
  Model model = linear_model(2, 1, 0.0);
  Tensor x = ramp(4, 2), y = ramp(4, 1, 0.3f);
  Tensor sw = Tensor::from_data({4}, {1.f, 2.f, 0.f, 0.5f});
  History h = model->fit(x, y, {.epochs = 1, .verbose = 0, .sample_weight = sw});
  auto l = per_sample_mse(model->predict(x), y);
  // Keras's SUM_OVER_BATCH_SIZE divides by the number of samples, not by the weight sum.
  const double want = (1 * l[0] + 2 * l[1] + 0 * l[2] + 0.5 * l[3]) / 4;
  EXPECT_NEAR(h.history["loss"][0], want, 1e-6);
  EXPECT_NEAR(model->evaluate(x, y, {.verbose = 0, .sample_weight = sw})["loss"], want, 1e-6);
}

TEST(Fit, ClassWeightWeighsEachSampleByItsLabel) {
  set_random_seed(3);
  auto [x, y] = two_blobs(6);
  Model model = classifier();
  model->compile(std::make_shared<SGD>(0.0), "sparse_categorical_crossentropy");
  History h = model->fit(x, y, {.epochs = 1, .verbose = 0, .class_weight = {{0, 1.0}, {1, 3.0}}});
  Tensor p = model->predict(x);
  double want = 0;
  for (int64_t i = 0; i < 6; ++i) {
    const int c = static_cast<int>(y[i]);
    want += (c == 1 ? 3.0 : 1.0) * -std::log(double(p[i * 2 + c])) / 6;
  }
  EXPECT_NEAR(h.history["loss"][0], want, 1e-5);
  const double unweighted = model->evaluate(x, y, {.verbose = 0})["loss"];
  EXPECT_GT(std::fabs(h.history["loss"][0] - unweighted), 1e-3);
}

TEST(Fit, TargetsOfShapeNAreAcceptedForASingleOutputUnit) {
  Model model = linear_model(2, 1, 0.0);
  Tensor x = ramp(5, 2), y = ramp(5, 1, 0.3f);
  History h = model->fit(x, y.reshape({5}), {.epochs = 1, .verbose = 0});
  EXPECT_NEAR(h.history["loss"][0], model->evaluate(x, y, {.verbose = 0})["loss"], 1e-6);
}

TEST(Fit, SameSeedAndOneThreadGiveBitwiseIdenticalWeights) {
  const int threads = num_threads();
  set_num_threads(1);
  set_random_seed(11);
  auto [x, y] = two_blobs(32);
  Model model = classifier(/*dropout=*/true);
  const auto init = model->get_weights();
  auto train = [&] {
    model->set_weights(init);
    model->compile(std::make_shared<Adam>(0.01), "sparse_categorical_crossentropy", {"accuracy"});
    set_random_seed(99);  // drives the shuffles and the dropout masks
    model->fit(x, y, {.batch_size = 8, .epochs = 3, .verbose = 0});
    return model->get_weights();
  };
  const auto a = train();
  const auto b = train();
  set_num_threads(threads);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].shape(), b[i].shape());
    EXPECT_EQ(std::memcmp(a[i].data(), b[i].data(), sizeof(float) * a[i].numel()), 0) << "weight " << i;
  }
  EXPECT_GT(max_abs_diff(a[0], init[0]), 1e-4f);  // it did train
}

TEST(Fit, EvaluatePredictAndBatchCallsReturnSaneValues) {
  set_random_seed(5);
  auto [x, y] = two_blobs(12);
  Model model = classifier();
  model->compile(std::make_shared<Adam>(0.05), "sparse_categorical_crossentropy", {"accuracy"});
  Tensor p = model->predict(x, 5);
  ASSERT_EQ(p.shape(), (Shape{12, 2}));
  for (int64_t i = 0; i < 12; ++i) EXPECT_NEAR(p[2 * i] + p[2 * i + 1], 1.f, 1e-6);
  EXPECT_TRUE(minidl::testing::AllClose(model->predict_on_batch(x), p, 1e-6));

  const auto before = model->get_weights();
  auto ev = model->evaluate(x, y, {.batch_size = 5, .verbose = 0});
  EXPECT_EQ(ev.size(), 2u);
  EXPECT_GT(ev["loss"], 0.0);
  EXPECT_GE(ev["accuracy"], 0.0);
  EXPECT_LE(ev["accuracy"], 1.0);
  auto tb = model->test_on_batch(x, y);
  EXPECT_NEAR(tb["loss"], ev["loss"], 1e-5);
  EXPECT_DOUBLE_EQ(tb["accuracy"], ev["accuracy"]);
  EXPECT_EQ(max_abs_diff(model->get_weights()[0], before[0]), 0.f);  // evaluation does not train

  const double first = model->train_on_batch(x, y).at("loss");
  EXPECT_NEAR(first, ev["loss"], 1e-5);  // the loss before the step
  double last = first;
  for (int i = 0; i < 30; ++i) last = model->train_on_batch(x, y).at("loss");
  EXPECT_LT(last, 0.5 * first);
  EXPECT_GT(max_abs_diff(model->get_weights()[0], before[0]), 0.f);
}

// train_on_batch and test_on_batch return the model's own logs, overwritten
// by the next call (that is what keeps the step free of heap allocation);
// a copy keeps its values, and a new compile's metrics replace the old keys.
TEST(Fit, BatchCallsReturnTheModelsLogsOverwrittenByTheNextCall) {
  set_random_seed(5);
  auto [x, y] = two_blobs(12);
  Model model = classifier();
  model->compile(std::make_shared<Adam>(0.05), "sparse_categorical_crossentropy", {"accuracy"});
  const Logs& first = model->train_on_batch(x, y);
  const Logs kept = first;  // a copy
  const Logs& second = model->train_on_batch(x, y);
  EXPECT_EQ(&first, &second);
  EXPECT_NE(kept.at("loss"), second.at("loss"));  // a step was taken in between
  EXPECT_EQ(first.at("loss"), second.at("loss"));  // the same object
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second.count("accuracy"), 1u);

  const Logs& tested = model->test_on_batch(x, y);
  EXPECT_NE(&tested, &second);  // test logs do not overwrite the training logs
  EXPECT_EQ(kept.size(), 2u);

  model->compile(std::make_shared<SGD>(0.01), "sparse_categorical_crossentropy", {"sparse_categorical_accuracy"});
  const Logs& recompiled = model->train_on_batch(x, y);
  EXPECT_EQ(recompiled.size(), 2u);
  EXPECT_EQ(recompiled.count("accuracy"), 0u);
  EXPECT_EQ(recompiled.count("sparse_categorical_accuracy"), 1u);
  model->compile(std::make_shared<SGD>(0.01), "sparse_categorical_crossentropy");
  EXPECT_EQ(model->test_on_batch(x, y).size(), 1u);  // just "loss"
}

TEST(Fit, UsageErrorsRaiseKerasExceptions) {
  KerasTensor in = Input({2});
  Model raw(in, Dense(1)(in));
  Tensor x = ramp(4, 2), y = ramp(4, 1);
  EXPECT_THROW(raw->fit(x, y, {.verbose = 0}), RuntimeError);
  EXPECT_THROW(raw->evaluate(x, y, {.verbose = 0}), RuntimeError);
  EXPECT_THROW(raw->train_on_batch(x, y), RuntimeError);

  Model model = linear_model();
  EXPECT_THROW(model->fit(x, ramp(3, 1), {.verbose = 0}), ValueError);  // 4 vs 3 samples
  EXPECT_THROW(model->evaluate(x, ramp(5, 1), {.verbose = 0}), ValueError);
  EXPECT_THROW(model->fit(x, y, {.batch_size = 0, .verbose = 0}), ValueError);
  EXPECT_THROW(model->fit(x, y, {.verbose = 0, .validation_split = 1.0}), ValueError);
  EXPECT_THROW(model->fit(x, y, {.verbose = 0, .sample_weight = Tensor::ones({3})}), ValueError);
  EXPECT_THROW(model->fit(x, ramp(4, 3), {.verbose = 0}), ValueError);  // mse on (4, 3) vs (4, 1)
  EXPECT_THROW(model->fit(ramp(4, 5), y, {.verbose = 0}), ValueError);  // wrong feature count
  try {
    model->fit(x, ramp(3, 1), {.verbose = 0});
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("(3, 1)"), std::string::npos) << e.what();
  }
}
