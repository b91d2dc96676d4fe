// tests/io/keras3_optimizer_state_test.cpp — optimizer state in Keras 3 files: model.weights.h5's
// optimizer/vars (inside `.keras`, and in `.weights.h5`), laid out as Keras 3's
// optimizer.save_own_variables writes it (iteration, learning_rate, then the slots in the
// order its build() creates them); restored by load_model so training resumes where it
// stopped; files whose optimizer variables do not fit load with a fresh optimizer.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>

#include "io/hdf5.h"
#include "io/keras_internal.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "support/keras_files.h"
#include "train/schedules.h"

namespace minidl {
namespace {

using nlohmann::json;

// Input(5, 5, 2) -> Conv2D(3, 3) -> BatchNormalization -> Flatten -> Dense(2), compiled.
std::shared_ptr<ModelImpl> compiled_model(OptimizerPtr optimizer) {
  auto m = testing::conv_bn_sequential(5, 2);
  m->compile(std::move(optimizer), "mse");
  return m;
}

// Batch k of a fixed sequence (no shuffling): every run sees the same steps.
void train_step(ModelImpl& m, int k) {
  Tensor x({4, 5, 5, 2}), y({4, 2});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(std::cos(0.21 * static_cast<double>(i) + k));
  for (int64_t i = 0; i < y.numel(); ++i) y[i] = static_cast<float>(std::sin(0.7 * static_cast<double>(i) - k));
  m.train_on_batch(x, y);
}

::testing::AssertionResult WeightsClose(const ModelImpl& a, const ModelImpl& b, double tol) {
  const auto wa = a.get_weights(), wb = b.get_weights();
  if (wa.size() != wb.size()) return ::testing::AssertionFailure() << wa.size() << " vs " << wb.size() << " weights";
  for (size_t i = 0; i < wa.size(); ++i) {
    auto r = testing::AllClose(wa[i], wb[i], tol, tol);
    if (!r) return r << " (weight " << i << ")";
  }
  return ::testing::AssertionSuccess();
}

std::string saved(const ModelImpl& m, const std::string& name) {
  const std::string path = (testing::temp_dir() / name).string();
  m.save(path);
  return path;
}

h5::H5File weights_of_archive(const std::string& path) {
  const auto entries = read_zip(path);
  return h5::H5File::open_from_memory(entries.at("model.weights.h5"), path + "/model.weights.h5");
}

// Hyperparameters exact in float32 (config.json carries them as Keras's float32 values).
constexpr double kLr = 0.015625, kBeta1 = 0.875, kBeta2 = 0.998046875;

struct OptimizerCase {
  const char* label;
  std::function<OptimizerPtr()> make;
  size_t slots_per_weight;  // the Keras 3 variables per trainable weight
};

class Keras3OptimizerResume : public ::testing::TestWithParam<OptimizerCase> {};

// 2 steps, save `.keras`, load, 1 step == 3 uninterrupted steps from the same start.
TEST_P(Keras3OptimizerResume, TwoStepsSavedLoadedAndOneMoreEqualThreeSteps) {
  auto first = compiled_model(GetParam().make());
  auto straight = compiled_model(GetParam().make());
  straight->set_weights(first->get_weights());
  train_step(*first, 0);
  train_step(*first, 1);
  testing::LogCapture log;
  auto resumed = load_model(saved(*first, "resume.keras"));
  EXPECT_EQ(log.text(), "");
  ASSERT_TRUE(resumed->compiled());
  EXPECT_EQ(resumed->optimizer()->iterations(), 2);
  train_step(*resumed, 2);
  for (int k = 0; k < 3; ++k) train_step(*straight, k);
  EXPECT_EQ(resumed->optimizer()->iterations(), 3);
  EXPECT_TRUE(WeightsClose(*resumed, *straight, 1e-6));
}

TEST_P(Keras3OptimizerResume, VariableCountIsKeras3s) {
  auto m = compiled_model(GetParam().make());
  train_step(*m, 0);
  const h5::Group vars = weights_of_archive(saved(*m, "count.keras")).root().open_group("optimizer/vars");
  const size_t base = GetParam().label == std::string("Nadam") ? 3 : 2;  // + Nadam's u_product
  EXPECT_EQ(vars.children().size(), base + GetParam().slots_per_weight * m->trainable_weights().size());
}

INSTANTIATE_TEST_SUITE_P(
    BuiltIns, Keras3OptimizerResume,
    ::testing::Values(
        OptimizerCase{"Adam",
                      [] { return OptimizerPtr(std::make_shared<Adam>(kLr, AdamOptions{.beta_1 = kBeta1, .beta_2 = kBeta2})); },
                      2},
        OptimizerCase{"AdamAmsgrad",
                      [] {
                        return OptimizerPtr(
                            std::make_shared<Adam>(kLr, AdamOptions{.beta_1 = kBeta1, .beta_2 = kBeta2, .amsgrad = true}));
                      },
                      3},
        OptimizerCase{"SGDMomentum", [] { return OptimizerPtr(std::make_shared<SGD>(0.0625, SGDOptions{.momentum = 0.875})); }, 1},
        OptimizerCase{"SGD", [] { return OptimizerPtr(std::make_shared<SGD>(0.0625)); }, 0},
        OptimizerCase{"RMSpropCenteredMomentum",
                      [] {
                        return OptimizerPtr(
                            std::make_shared<RMSprop>(0.0078125, RMSpropOptions{.momentum = 0.5, .centered = true}));
                      },
                      3},
        OptimizerCase{"RMSprop", [] { return OptimizerPtr(std::make_shared<RMSprop>(0.0078125)); }, 1},
        OptimizerCase{"Adagrad", [] { return OptimizerPtr(std::make_shared<Adagrad>(0.0625)); }, 1},
        OptimizerCase{"Adadelta", [] { return OptimizerPtr(std::make_shared<Adadelta>(1.0)); }, 2},
        OptimizerCase{"Adamax",
                      [] { return OptimizerPtr(std::make_shared<Adamax>(kLr, AdamaxOptions{.beta_1 = kBeta1, .beta_2 = kBeta2})); },
                      2},
        OptimizerCase{"Nadam",
                      [] { return OptimizerPtr(std::make_shared<Nadam>(kLr, NadamOptions{.beta_1 = kBeta1, .beta_2 = kBeta2})); },
                      2}),
    [](const ::testing::TestParamInfo<OptimizerCase>& info) { return std::string(info.param.label); });

// Without its optimizer state the resumed run ends elsewhere: the resume test can fail.
TEST(Keras3OptimizerState, AFreshOptimizerEndsOutsideTheTolerance) {
  auto first = compiled_model(std::make_shared<Adam>(kLr));
  auto straight = compiled_model(std::make_shared<Adam>(kLr));
  straight->set_weights(first->get_weights());
  train_step(*first, 0);
  train_step(*first, 1);
  auto fresh = compiled_model(std::make_shared<Adam>(kLr));
  fresh->set_weights(first->get_weights());
  train_step(*fresh, 2);
  for (int k = 0; k < 3; ++k) train_step(*straight, k);
  EXPECT_FALSE(WeightsClose(*fresh, *straight, 1e-6));
}

// Adam: iteration, learning_rate, then momentum and velocity interleaved per trainable
// weight (Keras 3's add_optimizer_variables(var_list, ["momentum", "velocity"])).
TEST(Keras3OptimizerState, AdamVariablesAreInKeras3Order) {
  auto m = compiled_model(std::make_shared<Adam>(kLr));
  train_step(*m, 0);
  train_step(*m, 1);
  const h5::H5File f = weights_of_archive(saved(*m, "adam.keras"));
  const h5::Group vars = f.root().open_group("optimizer/vars");
  EXPECT_EQ(vars.read_string_attr("name"), m->optimizer()->get_config()["name"].get<std::string>());
  EXPECT_EQ(vars.open_dataset("0").type_name(), "int64");
  EXPECT_EQ(vars.open_dataset("0").shape(), Shape{});
  EXPECT_EQ(vars.open_dataset("0").read_scalar(), 2.0);
  EXPECT_EQ(vars.open_dataset("1").type_name(), "float32");
  EXPECT_EQ(vars.open_dataset("1").read_scalar(), kLr);
  auto& opt = dynamic_cast<OptimizerBase&>(*m->optimizer());
  const auto params = m->trainable_weights();
  ASSERT_EQ(vars.children().size(), 2 + 2 * params.size());
  for (size_t p = 0; p < params.size(); ++p) {
    for (size_t s = 0; s < 2; ++s) {
      const Tensor got = vars.open_dataset(std::to_string(2 + 2 * p + s)).read_tensor();
      EXPECT_EQ(got.to_vector(), opt.slots_of(params[p])[s].to_vector()) << "weight " << p << " slot " << s;
    }
  }
}

// RMSprop builds velocity, momentum and average_gradient in three calls: not interleaved.
TEST(Keras3OptimizerState, RMSpropSlotKindsFollowOneAnother) {
  auto m = compiled_model(std::make_shared<RMSprop>(0.0078125, RMSpropOptions{.momentum = 0.5, .centered = true}));
  train_step(*m, 0);
  const h5::H5File f = weights_of_archive(saved(*m, "rms.keras"));
  const h5::Group vars = f.root().open_group("optimizer/vars");
  auto& opt = dynamic_cast<OptimizerBase&>(*m->optimizer());
  const auto params = m->trainable_weights();
  for (size_t s = 0; s < 3; ++s)
    for (size_t p = 0; p < params.size(); ++p)
      EXPECT_EQ(vars.open_dataset(std::to_string(2 + s * params.size() + p)).read_tensor().to_vector(),
                opt.slots_of(params[p])[s].to_vector())
          << "slot " << s << " weight " << p;
}

// A schedule is not a variable: no learning_rate after iteration.
TEST(Keras3OptimizerState, ScheduleHasNoLearningRateVariable) {
  auto m = compiled_model(std::make_shared<SGD>(std::make_shared<ExponentialDecay>(0.0625, 10, 0.5),
                                                SGDOptions{.momentum = 0.5}));
  train_step(*m, 0);
  const std::string path = saved(*m, "schedule.keras");
  const h5::Group vars = weights_of_archive(path).root().open_group("optimizer/vars");
  EXPECT_EQ(vars.children().size(), 1 + m->trainable_weights().size());
  testing::LogCapture log;
  auto back = load_model(path);
  EXPECT_EQ(log.text(), "");
  EXPECT_EQ(back->optimizer()->iterations(), 1);
}

// Saved before the first step: the slots at their initial values (a built Keras optimizer),
// so Keras loads them without a warning, and minidl too.
TEST(Keras3OptimizerState, UntrainedModelSavesInitialSlots) {
  auto m = compiled_model(std::make_shared<Adagrad>(0.0625));
  const std::string path = saved(*m, "untrained.keras");
  const h5::Group vars = weights_of_archive(path).root().open_group("optimizer/vars");
  ASSERT_EQ(vars.children().size(), 2 + m->trainable_weights().size());
  EXPECT_EQ(vars.open_dataset("0").read_scalar(), 0.0);
  const Tensor acc = vars.open_dataset("2").read_tensor();
  for (int64_t i = 0; i < acc.numel(); ++i) ASSERT_EQ(acc[i], 0.1f);  // Adagrad's initial_accumulator_value
  testing::LogCapture log;
  auto back = load_model(path);
  EXPECT_EQ(log.text(), "");
  EXPECT_EQ(back->optimizer()->iterations(), 0);
}

TEST(Keras3OptimizerState, UncompiledModelHasNoOptimizerGroup) {
  auto m = testing::conv_bn_sequential(5, 2);
  EXPECT_FALSE(weights_of_archive(saved(*m, "plain.keras")).root().exists("optimizer"));
}

// model.save_weights("x.weights.h5") saves the optimizer too, as Keras 3 does.
TEST(Keras3OptimizerState, WeightsFileCarriesTheOptimizer) {
  auto m = compiled_model(std::make_shared<Adam>(kLr));
  train_step(*m, 0);
  const std::string path = (testing::temp_dir() / "w.weights.h5").string();
  m->save_weights(path);
  const h5::Group vars = h5::H5File::open_read(path).root().open_group("optimizer/vars");
  EXPECT_EQ(vars.open_dataset("0").read_scalar(), 1.0);
  EXPECT_EQ(vars.children().size(), 2 + 2 * m->trainable_weights().size());
}

// A weights root whose optimizer/vars holds iteration (int64), learning_rate and `slots`.
h5::H5File hand_made(double iteration, double learning_rate, const std::vector<Tensor>& slots = {}) {
  h5::H5File f = h5::H5File::create_in_memory("hand.weights.h5");
  const h5::Group g = f.root().create_group("optimizer/vars");
  g.write_string_attr("name", "adam");
  g.write_scalar("0", iteration, h5::DType::kInt64);
  g.write_scalar("1", learning_rate, h5::DType::kFloat32);
  for (size_t i = 0; i < slots.size(); ++i) g.write_tensor(std::to_string(2 + i), slots[i]);
  return f;
}

// An optimizer Keras never built saves iteration and learning_rate only (as the
// k3.10.0 mnist weights file holds): nothing to restore, and nothing to warn about.
TEST(Keras3OptimizerState, UnbuiltKerasOptimizerIsAFreshStateSilently) {
  auto m = compiled_model(std::make_shared<Adam>(kLr));
  const h5::H5File f = hand_made(0, 0.001);
  testing::LogCapture log;
  keras_io::restore_keras3_optimizer_vars(*m, f.root(), "hand");
  EXPECT_EQ(log.text(), "");
  EXPECT_EQ(m->optimizer()->iterations(), 0);
}

TEST(Keras3OptimizerState, OtherCountsWarnAsKerasAndChangeNothing) {
  auto m = compiled_model(std::make_shared<Adam>(kLr));
  const h5::H5File f = hand_made(7, 0.5, {Tensor::full({3}, 1.f)});
  testing::LogCapture log;
  keras_io::restore_keras3_optimizer_vars(*m, f.root(), "hand");
  EXPECT_TRUE(testing::ContainsAll(log.text(), {"hand: /optimizer/vars", "skipping variable loading for optimizer",
                                                "whereas the saved optimizer has 3 variables", "fresh state"}))
      << log.text();
  EXPECT_EQ(m->optimizer()->iterations(), 0);
  EXPECT_EQ(m->optimizer()->learning_rate(), kLr);
}

// Every slot checked before anything is set: one wrong shape leaves the optimizer untouched.
TEST(Keras3OptimizerState, WrongSlotShapeChangesNothing) {
  auto m = compiled_model(std::make_shared<SGD>(0.0625, SGDOptions{.momentum = 0.5}));
  std::vector<Tensor> slots;
  const auto params = m->trainable_weights();
  for (size_t p = 0; p < params.size(); ++p) {
    Shape s = params[p].value().shape();
    if (p == 1) s = {s[0] + 1};  // the conv bias, one too long
    slots.push_back(Tensor::full(s, 0.25f));
  }
  const h5::H5File f = hand_made(4, 0.0625, slots);
  testing::LogCapture log;
  keras_io::restore_keras3_optimizer_vars(*m, f.root(), "hand");
  EXPECT_TRUE(testing::ContainsAll(log.text(), {"variable 3 is float32 of shape (4,)", "expected float of shape (3,)"})) << log.text();
  EXPECT_EQ(m->optimizer()->iterations(), 0);
}

// The learning_rate variable is the rate in use (Keras 3 assigns it on load): a file whose
// rate differs from the config's (e.g. lowered by ReduceLROnPlateau) sets it.
TEST(Keras3OptimizerState, LearningRateVariableIsRestored) {
  auto m = compiled_model(std::make_shared<SGD>(0.0625));
  const h5::H5File f = hand_made(5, 0.25);
  testing::LogCapture log;
  keras_io::restore_keras3_optimizer_vars(*m, f.root(), "hand");
  EXPECT_EQ(log.text(), "");
  EXPECT_EQ(m->optimizer()->iterations(), 5);
  EXPECT_EQ(m->optimizer()->learning_rate(), 0.25);
}

// A real Keras 3.10 weights file (k3.10.0_mnist-cnn.weights.h5) with the compile_config of
// its model (the arch.json), zipped into a `.keras`: its optimizer group (iteration and
// learning_rate of an unbuilt Adam) loads quietly, the model compiled.
TEST(Keras3OptimizerState, RealKerasFileWithItsOptimizerGroupLoads) {
  MINIDL_REQUIRE_SHARED();
  const auto dir = testing::keras_h5_dir();
  const std::string arch = testing::read_file(dir / "k3.10.0_mnist-cnn.weights.arch.json");
  const std::string weights = testing::read_file(dir / "k3.10.0_mnist-cnn.weights.h5");
  const h5::H5File original = h5::H5File::open_read((dir / "k3.10.0_mnist-cnn.weights.h5").string());
  ASSERT_EQ(original.root().open_group("optimizer/vars").children().size(), 2u);
  const std::string path = (testing::temp_dir() / "k3.10.keras").string();
  write_zip(path, {{"metadata.json", Bytes{'{', '}'}, {}},
                   {"config.json", Bytes(arch.begin(), arch.end()), {}},
                   {"model.weights.h5", Bytes(weights.begin(), weights.end()), {}}});
  testing::LogCapture log;
  auto m = load_model(path);
  EXPECT_EQ(log.text(), "");
  ASSERT_TRUE(m->compiled());
  EXPECT_EQ(m->optimizer()->class_name(), "Adam");
  EXPECT_EQ(m->optimizer()->iterations(), 0);
  EXPECT_EQ(json(m->training_config()["loss"]), "categorical_crossentropy");
}

}  // namespace
}  // namespace minidl
