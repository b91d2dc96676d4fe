// Golden test of Conv2D against the Keras conformance cases in
// ../shared/conformance/<id>/ (see its README), without the Keras model loader:
// the Conv2D config is read from model.h5's model_config attribute, the layer is
// built with Conv2DImpl::from_config, the initial weights come from weights.h5,
// and case.h5 holds the input and every expected value. Cases whose model has
// layers other than InputLayer + one Conv2D are skipped (the model tests cover them).
//
// Checked per case: the config round trip, the inference output, the weight and
// activity regularizer losses, the training loss mse + sum(losses), its gradients
// for the input and every weight, and one SGD step w <- constraint(w - lr * grad).
// Tolerance (the README's): max abs error <= 1e-6 + 1e-4 * max(1, max|expected|).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "io/hdf5.h"
#include "layers/conv/conv2d.h"
#include "ops/elementwise.h"
#include "support/assertions.h"
#include "support/files.h"

namespace minidl {
namespace {

namespace fs = std::filesystem;

// The layers list of a Sequential or Functional model_config (very old files store a bare list).
json model_layers(const json& model_config) {
  const json& c = model_config.at("config");
  return c.is_array() ? c : c.at("layers");
}

// "" when close enough, else a description.
std::string compare(const std::string& what, const Tensor& got, const Tensor& expected) {
  auto r = testing::AllClose(got, expected, 1e-6, 1e-4);
  return r ? "" : what + ": " + r.message();
}

std::string compare_scalar(const std::string& what, double got, double expected) {
  const double tol = 1e-6 + 1e-4 * std::max(1.0, std::fabs(expected));
  return std::fabs(got - expected) <= tol ? "" : fmt::format("{}: got {}, expected {}", what, got, expected);
}

// The Keras config as Keras 2.4 would write it: Keras 2.3.1 files have no "groups".
json normalised_keras_config(json c) {
  if (!c.contains("groups")) c["groups"] = 1;
  return c;
}

// Runs one case. Returns the list of mismatches (empty = pass).
std::vector<std::string> run_case(const fs::path& dir, const json& conv_config) {
  std::vector<std::string> errors;
  auto note = [&](const std::string& e) {
    if (!e.empty()) errors.push_back(e);
  };

  auto layer = Conv2DImpl::from_config(conv_config);
  if (layer->get_config() != normalised_keras_config(conv_config))
    note("config round trip: got " + layer->get_config().dump() + ", expected " + conv_config.dump());

  const h5::H5File case_file = h5::H5File::open_read((dir / "case.h5").string());
  const h5::Group c = case_file.root();
  const Tensor x = c.open_dataset("x").read_tensor();
  Shape build_shape = x.shape();
  build_shape[0] = kNone;
  layer->maybe_build({build_shape});

  // Initial weights, in the order weight_names lists them (kernel, bias).
  const h5::H5File weights_file = h5::H5File::open_read((dir / "weights.h5").string());
  const h5::Group wg = weights_file.root().open_group(layer->name());
  std::vector<Tensor> weights;
  std::vector<std::string> short_names;  // "kernel:0"
  for (const std::string& wn : wg.read_string_array_attr("weight_names")) {
    weights.push_back(wg.open_dataset(wn).read_tensor());
    short_names.push_back(wn.substr(wn.find('/') + 1));
  }
  layer->set_weights(weights);

  const Tensor predicted = (*layer)(x);  // inference, no tape
  note(compare("expected_output", predicted, c.open_dataset("expected_output").read_tensor()));

  // Training-mode forward: the regularizer losses, then the loss and its gradients.
  Variable xv(x.clone(), /*requires_grad=*/true);
  const Variable out = (*layer)(xv);
  const std::vector<Variable> losses = layer->losses();
  const Tensor reg = c.open_dataset("reg_losses").read_tensor();
  if (reg.numel() != static_cast<int64_t>(losses.size())) {
    note(fmt::format("reg_losses: {} losses, expected {}", losses.size(), reg.numel()));
    return errors;
  }
  for (size_t i = 0; i < losses.size(); ++i)
    note(compare_scalar(fmt::format("reg_losses[{}]", i), losses[i].value().item(), reg[static_cast<int64_t>(i)]));
  if (c.read_int_attr("has_train_step") == 0) return errors;

  const Variable y(c.open_dataset("y").read_tensor());
  const Variable mse = autograd::mean(autograd::square(out - y));
  Variable reg_total(Tensor::scalar(0.f));
  for (const auto& l : losses) reg_total = reg_total + l;
  const Variable total = mse + reg_total;
  const Tensor expected_loss = c.open_dataset("expected_loss").read_tensor();
  note(compare_scalar("mse", mse.value().item(), expected_loss[0]));
  note(compare_scalar("reg_loss_total", reg_total.value().item(), expected_loss[1]));
  note(compare_scalar("total loss", total.value().item(), expected_loss[2]));

  std::vector<Variable> wrt{xv};
  for (const auto& v : layer->weights()) wrt.push_back(v);
  const std::vector<Tensor> grads = grad(total, wrt);
  note(compare("expected_grad_x", grads[0], c.open_dataset("expected_grad_x").read_tensor()));
  const float lr = static_cast<float>(c.read_double_attr("lr"));
  for (size_t i = 0; i < short_names.size(); ++i) {
    const std::string rel = layer->name() + "/" + short_names[i];
    note(compare("expected_grads/" + rel, grads[i + 1], c.open_dataset("expected_grads/" + rel).read_tensor()));
    // One SGD step, then the weight's constraint, as Keras's optimizer applies it.
    Tensor stepped = ops::sub(weights[i], ops::scale(grads[i + 1], lr));
    if (const auto& con = layer->own_weights()[i].constraint) con->apply(stepped);
    note(compare("expected_weights_after_step/" + rel, stepped,
                 c.open_dataset("expected_weights_after_step/" + rel).read_tensor()));
  }
  return errors;
}

TEST(ConformanceConv2D, SingleConv2DCasesMatchKeras) {
  MINIDL_REQUIRE_SHARED();
  const fs::path root = testing::shared_dir() / "conformance";
  if (!fs::is_directory(root)) GTEST_SKIP() << "no conformance cases in " << root;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && fs::exists(e.path() / "case.h5")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());

  int passed = 0, failed = 0, skipped = 0;
  for (const auto& dir : dirs) {
    const std::string id = dir.filename().string();
    const json model = json::parse(h5::H5File::open_read((dir / "model.h5").string()).root().read_string_attr(
        "model_config"));
    json conv_config;
    int convs = 0;
    bool other = false;
    for (const auto& l : model_layers(model)) {
      const std::string cls = l.at("class_name").get<std::string>();
      if (cls == "Conv2D") {
        conv_config = l.at("config");
        ++convs;
      } else if (cls != "InputLayer") {
        other = true;
      }
    }
    if (other || convs != 1) {
      ++skipped;
      continue;
    }
    std::vector<std::string> errors;
    try {
      errors = run_case(dir, conv_config);
    } catch (const std::exception& e) {
      errors.push_back(std::string("exception: ") + e.what());
    }
    if (errors.empty()) {
      ++passed;
    } else {
      ++failed;
      for (const auto& e : errors) ADD_FAILURE() << id << ": " << e;
    }
  }
  std::cout << "[conformance conv2d] passed " << passed << ", failed " << failed << ", skipped (other layers) "
            << skipped << " of " << dirs.size() << " cases\n";
  RecordProperty("passed", passed);
  RecordProperty("failed", failed);
  EXPECT_GT(passed, 0) << "no single-Conv2D case found under " << root;
}

}  // namespace
}  // namespace minidl
