// examples/08_fine_tune.cpp — fine-tuning: freeze a loaded model's base, train a new head.
//
// Transfer learning in three moves, as in Keras:
//   1. a base model is trained on one task and saved (here: a small MLP on
//      synthetic data, saved as a Keras .h5 and loaded back with load_model);
//   2. its layers are frozen (set_trainable(false)): their weights leave
//      trainable_weights(), so no optimizer step can change them;
//   3. a new model reuses the base's layers up to its features and puts a new
//      head on top; fit then trains the head only.
// The example checks that the base's weights are unchanged, bit for bit, and
// that the head's changed. A wrong result exits 1.
//
// Read next: layers/base/layer.h (set_trainable, trainable_weights),
// layers/base/functional.h (get_layer, a graph built from another model's
// tensors), io/keras_model.h (load_model), train/model.h.
//
//   build/examples/08_fine_tune
#include <minidl/minidl.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "example_checks.h"

using namespace minidl;
namespace fs = std::filesystem;

namespace {

// Labels of a toy task: which of the first `classes` features is largest.
Tensor argmax_labels(const Tensor& x, int64_t classes) {
  Tensor y({x.dim(0)});
  for (int64_t i = 0; i < x.dim(0); ++i) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c)
      if (x[i * x.dim(1) + c] > x[i * x.dim(1) + best]) best = c;
    y[i] = static_cast<float>(best);
  }
  return y;
}

bool same(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].to_vector() != b[i].to_vector()) return false;
  return true;
}

}  // namespace

int main() {
  examples::Checks check("08_fine_tune");
  set_random_seed(8);
  const Tensor x = Tensor::normal({64, 6});
  const fs::path path = fs::temp_directory_path() / ("minidl_example_08_" + std::to_string(getpid()) + ".h5");

  // 1. The base: trained on a 4-class task, saved, loaded back.
  {
    KerasTensor in = Input({6}, {.name = "features_in"});
    KerasTensor hidden = Dense(16, {.activation = "relu", .name = "hidden"})(in);
    KerasTensor f = Dense(8, {.activation = "relu", .name = "features"})(hidden);
    KerasTensor out = Dense(4, {.activation = "softmax", .name = "old_head"})(f);
    Model base(in, out, "base");
    base->compile(std::make_shared<Adam>(0.01), "sparse_categorical_crossentropy", {"accuracy"});
    History h = base->fit(x, argmax_labels(x, 4), {.batch_size = 16, .epochs = 20, .verbose = 0});
    std::printf("base on the 4-class task: accuracy %.3f after 20 epochs\n", h.history["accuracy"].back());
    base->save(path.string());
  }
  std::shared_ptr<ModelImpl> base = load_model(path.string());
  fs::remove(path);
  std::printf("loaded base: %zu layers, %zu trainable weight tensors\n", base->layers().size(),
              base->trainable_weights().size());

  // 2. Freeze it: set_trainable reaches every layer inside.
  base->set_trainable(false);
  const std::vector<Tensor> hidden_before = base->get_layer("hidden")->get_weights();
  const std::vector<Tensor> features_before = base->get_layer("features")->get_weights();

  // 3. A new model: the base's input and "features" output, a new 2-class head.
  KerasTensor features = base->get_layer("features")->output();
  KerasTensor new_out = Dense(2, {.activation = "softmax", .name = "new_head"})(features);
  Model tuned(base->inputs()[0], new_out, "fine_tuned");
  std::printf("\n%s\n", tuned->summary().c_str());
  LayerPtr head = tuned->get_layer("new_head");
  const std::vector<Tensor> head_before = head->get_weights();
  std::printf("trainable weight tensors of the new model: %zu (the head's kernel and bias)\n",
              tuned->trainable_weights().size());

  tuned->compile(std::make_shared<Adam>(0.01), "sparse_categorical_crossentropy", {"accuracy"});
  History h = tuned->fit(x, argmax_labels(x, 2), {.batch_size = 16, .epochs = 20, .verbose = 0});
  std::printf("fine-tuning: loss %.4f -> %.4f, accuracy %.3f -> %.3f\n", h.history["loss"].front(),
              h.history["loss"].back(), h.history["accuracy"].front(), h.history["accuracy"].back());

  const bool base_frozen = same(hidden_before, base->get_layer("hidden")->get_weights()) &&
                           same(features_before, base->get_layer("features")->get_weights());
  check(tuned->trainable_weights().size() == 2, "only the head's kernel and bias are trainable");
  check(base_frozen, "the frozen base's weights are unchanged, bit for bit");
  check(!same(head_before, head->get_weights()), "the head's weights changed");
  check(h.history["loss"].back() < h.history["loss"].front(), "the head learned: the loss went down");
  return check.finish();
}
