// summary, inspect, predict, convert and fit on models the tests build and save
// themselves (a small Sequential of Dense layers), checked against the library
// doing the same in process.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "io/keras_model.h"
#include "support/assertions.h"
#include "support/cli.h"

namespace minidl::testing {
namespace {

namespace fs = std::filesystem;

// The small model saved as a full-model .h5 in the test's directory.
fs::path saved_model(Sequential& model) {
  const fs::path path = temp_dir() / "model.h5";
  save_model(*model.ptr(), path.string());
  return path;
}

void expect_same_weights(const std::vector<Tensor>& got, const std::vector<Tensor>& expected) {
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(AllClose(got[i], expected[i], 0, 0)) << "weight " << i;
}

// Each command's tests share the fixture: the CLI, small_dense_model() and a scratch directory.
using CliSummary = CliModelTest;
using CliInspect = CliModelTest;
using CliPredict = CliModelTest;
using CliConvert = CliModelTest;
using CliFit = CliModelTest;

TEST_F(CliSummary, PrintsTheLayersAndParameterCount) {
  const CliResult r = run_cli({"summary", saved_model(model).string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_NE(r.out.find("hidden"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("out (Dense)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Total params: 26"), std::string::npos) << r.out;  // 3*4+4 + 4*2+2
  EXPECT_EQ(r.err, "");
}

TEST_F(CliInspect, PrintsTheLayerNames) {
  const CliResult r = run_cli({"inspect", saved_model(model).string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  // Keras weight names: "<layer>/<weight>:0".
  EXPECT_NE(r.out.find("hidden/kernel:0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("out/bias:0"), std::string::npos) << r.out;
}

TEST_F(CliPredict, WritesTheModelsPrediction) {
  const Tensor x = Tensor::uniform({7, 3}, -2.f, 2.f);
  write_h5(dir / "in.h5", "x", x);
  const CliResult r = run_cli({"predict", saved_model(model).string(), "--input", (dir / "in.h5:x").string(),
                               "--output", (dir / "pred.h5:y").string(), "--batch-size", "3"});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(AllClose(read_h5(dir / "pred.h5", "y"), model->predict(x), 1e-6, 1e-6));
}

TEST_F(CliPredict, ReadsFloat64InputIntoAGroupPath) {
  const Tensor x = Tensor::uniform({4, 3}, -2.f, 2.f);
  write_h5(dir / "in.h5", "data/x", x, h5::DType::kFloat64);
  const CliResult r = run_cli({"predict", saved_model(model).string(), "--input", (dir / "in.h5:/data/x").string(),
                               "--output", (dir / "pred.h5:results/y").string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  const h5::Dataset y = h5::H5File::open_read((dir / "pred.h5").string()).root().open_dataset("results/y");
  EXPECT_EQ(y.type_name(), "float32");
  EXPECT_TRUE(AllClose(y.read_tensor(), model->predict(x), 1e-6, 1e-6));
}

TEST_F(CliPredict, DatasetNamesMayHoldColons) {
  const Tensor x = Tensor::uniform({2, 3}, -2.f, 2.f);
  write_h5(dir / "in.h5", "inputs/x:0", x);
  const CliResult r = run_cli({"predict", saved_model(model).string(), "--input", (dir / "in.h5:inputs/x:0").string(),
                               "--output", (dir / "pred.h5:y:1").string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_TRUE(AllClose(read_h5(dir / "pred.h5", "y:1"), model->predict(x), 1e-6, 1e-6));
}

TEST_F(CliPredict, ReplacesTheDatasetInAnExistingFileAndKeepsTheOthers) {
  const fs::path model_path = saved_model(model);
  const Tensor x1 = Tensor::uniform({2, 3}, -2.f, 2.f), x2 = Tensor::uniform({5, 3}, -2.f, 2.f);
  write_h5(dir / "in.h5", {{"x1", x1}, {"x2", x2}});
  const std::string out = (dir / "out.h5").string();
  auto predict = [&](const std::string& in, const std::string& to) {
    const CliResult r =
        run_cli({"predict", model_path.string(), "--input", (dir / "in.h5").string() + ":" + in, "--output", out + ":" + to});
    ASSERT_EQ(r.status, 0) << describe(r);
  };
  predict("x1", "y");
  predict("x1", "other");
  predict("x2", "y");  // replaces y, keeps other
  EXPECT_TRUE(AllClose(read_h5(out, "y"), model->predict(x2), 1e-6, 1e-6));
  EXPECT_TRUE(AllClose(read_h5(out, "other"), model->predict(x1), 1e-6, 1e-6));
}

TEST_F(CliPredict, RefusesToRewriteAFileItCannotCopyExactlyAndLeavesItAlone) {
  write_h5(dir / "in.h5", "x", Tensor::ones({2, 3}));
  {
    h5::H5File f = h5::H5File::create((dir / "out.h5").string());
    f.root().write_string_attr("note", "keep me");
    f.root().write_tensor("counts", Tensor::ones({3}), h5::DType::kInt32);
    f.close();
  }
  const CliResult r = run_cli({"predict", saved_model(model).string(), "--input", (dir / "in.h5:x").string(),
                               "--output", (dir / "out.h5:y").string()});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_EQ(r.err_lines().size(), 1u) << describe(r);
  const h5::H5File f = h5::H5File::open_read((dir / "out.h5").string());
  EXPECT_EQ(f.root().read_string_attr("note"), "keep me");
  EXPECT_FALSE(f.root().exists("y"));
}

TEST_F(CliPredict, MissingInputDatasetFailsWithOneLineNamingIt) {
  write_h5(dir / "in.h5", "x", Tensor::ones({2, 3}));
  const CliResult r = run_cli({"predict", saved_model(model).string(), "--input", (dir / "in.h5:nope").string(),
                               "--output", (dir / "out.h5:y").string()});
  EXPECT_EQ(r.status, 1) << describe(r);
  ASSERT_EQ(r.err_lines().size(), 1u) << describe(r);
  EXPECT_NE(r.err.find("nope"), std::string::npos) << describe(r);
  EXPECT_FALSE(fs::exists(dir / "out.h5"));
}

TEST_F(CliPredict, LoadsAnArchitectureAndWeightsPair) {
  const json arch = {{"class_name", model->class_name()}, {"config", model->get_config()},
                     {"keras_version", "2.4.0"}, {"backend", "tensorflow"}};
  std::ofstream(dir / "arch.json") << arch.dump();
  save_weights(*model.ptr(), (dir / "w.h5").string());
  const Tensor x = Tensor::uniform({3, 3}, -2.f, 2.f);
  write_h5(dir / "in.h5", "x", x);
  const CliResult r = run_cli({"predict", "--architecture", (dir / "arch.json").string(), "--weights",
                               (dir / "w.h5").string(), "--input", (dir / "in.h5:x").string(), "--output",
                               (dir / "pred.h5:y").string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_TRUE(AllClose(read_h5(dir / "pred.h5", "y"), model->predict(x), 1e-6, 1e-6));
}

TEST_F(CliConvert, KerasFileRoundTripKeepsEveryWeight) {
  const fs::path h5_path = saved_model(model);
  const std::string keras_path = (dir / "m.keras").string(), back_path = (dir / "back.h5").string();
  CliResult r = run_cli({"convert", h5_path.string(), "--output", keras_path});
  ASSERT_EQ(r.status, 0) << describe(r);
  r = run_cli({"convert", keras_path, "--output", back_path});
  ASSERT_EQ(r.status, 0) << describe(r);
  expect_same_weights(load_model(keras_path)->get_weights(), model->get_weights());
  expect_same_weights(load_model(back_path)->get_weights(), model->get_weights());
}

TEST_F(CliConvert, WritesKeras3WeightsFile) {
  const std::string out = (dir / "m.weights.h5").string();
  const CliResult r = run_cli({"convert", saved_model(model).string(), "--output", out});
  ASSERT_EQ(r.status, 0) << describe(r);
  // Keras 3 layout: layers/<name>/vars/<i>.
  const h5::H5File f = h5::H5File::open_read(out);
  EXPECT_TRUE(f.root().exists("layers")) << "no /layers group in " << out;
  Sequential fresh = small_dense_model();
  load_weights(*fresh.ptr(), out);
  expect_same_weights(fresh->get_weights(), model->get_weights());
}

TEST_F(CliFit, TrainsLikeFitInProcessAndSaves) {
  const fs::path model_path = saved_model(model);
  const Tensor x = Tensor::uniform({6, 3}, -1.f, 1.f), y = Tensor::uniform({6, 2}, -1.f, 1.f);
  write_h5(dir / "data.h5", {{"x", x}, {"y", y}});
  const std::string out = (dir / "trained.h5").string();
  const CliResult r =
      run_cli({"fit", model_path.string(), "--x", (dir / "data.h5:x").string(), "--y", (dir / "data.h5:y").string(),
               "--loss", "mse", "--optimizer", "sgd", "--lr", "0.1", "--epochs", "2", "--batch-size", "3",
               "--no-shuffle", "--save", out});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out, "");  // stdout stays clean without --verbose

  auto reference = load_model(model_path.string());
  reference->compile(std::make_shared<SGD>(0.1), "mse");
  reference->fit(x, y, {.batch_size = 3, .epochs = 2, .verbose = 0, .shuffle = false});
  const auto trained = load_model(out)->get_weights();
  expect_same_weights(trained, reference->get_weights());
  EXPECT_FALSE(AllClose(trained[0], model->get_weights()[0], 0, 0)) << "fit left the kernel unchanged";
}

TEST_F(CliFit, UnknownOptimizerFailsWithOneLine) {
  write_h5(dir / "data.h5", {{"x", Tensor::ones({2, 3})}, {"y", Tensor::ones({2, 2})}});
  const CliResult r = run_cli({"fit", saved_model(model).string(), "--x", (dir / "data.h5:x").string(), "--y",
                               (dir / "data.h5:y").string(), "--loss", "mse", "--optimizer", "sgdx", "--lr", "0.1",
                               "--save", (dir / "o.h5").string()});
  EXPECT_EQ(r.status, 1) << describe(r);
  ASSERT_EQ(r.err_lines().size(), 1u) << describe(r);
  EXPECT_NE(r.err.find("sgdx"), std::string::npos) << describe(r);
  EXPECT_FALSE(fs::exists(dir / "o.h5"));
}

}  // namespace
}  // namespace minidl::testing
