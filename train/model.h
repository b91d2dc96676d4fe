// train/model.h — Model and Sequential: a graph of layers that can be trained.
//
// As in Keras, the user-facing Model is the functional graph
// (layers/base/functional.h) plus training: compile, fit, evaluate, predict and the
// *_on_batch variants. Sequential is a Model built by add().
//
//   auto in = Input({28, 28, 1});
//   auto out = Dense(10, {.activation = "softmax"})(Flatten()(Conv2D(32, 3)(in)));
//   Model model(in, out);
//   model->compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
//   History h = model->fit(x, y, {.batch_size = 128, .epochs = 3});
//
// One training step (train_step in fit.cpp): forward in training mode with the
// tape on -> compiled loss + sum(model.losses()) -> backward -> optimizer step
// -> constraints on the updated weights -> layer updates (BatchNorm moving
// statistics) -> metrics and callbacks.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "layers/base/functional.h"
#include "train/batch_source.h"
#include "train/callbacks.h"
#include "train/losses.h"
#include "train/metrics.h"
#include "train/optimizers.h"

namespace minidl {

struct FitOptions {
  int64_t batch_size = 32;
  int epochs = 1;
  int verbose = 1;  // 0 silent, 1 progress bar, 2 one line per epoch
  std::vector<CallbackPtr> callbacks{};
  double validation_split = 0.0;  // last fraction of x/y, taken before shuffling (Keras)
  std::optional<std::pair<Tensor, Tensor>> validation_data{};
  // Validation read from a source instead (not owned; used when validation_data
  // and validation_split give none).
  BatchSource* validation_source = nullptr;
  bool shuffle = true;
  int initial_epoch = 0;
  Tensor sample_weight{};                  // [N], optional
  std::map<int, double> class_weight{};    // class index -> weight, optional
};

struct EvaluateOptions {
  int64_t batch_size = 32;
  int verbose = 1;
  std::vector<CallbackPtr> callbacks{};
  Tensor sample_weight{};
};

class ModelImpl : public FunctionalImpl {
 public:
  ModelImpl(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, const std::string& name = "");
  ModelImpl(const KerasTensor& input, const KerasTensor& output, const std::string& name = "");

  // Keras 2.4+ writes "Functional" for graph models ("Model" in older files; both load).
  std::string class_name() const override { return "Functional"; }
  static std::shared_ptr<ModelImpl> from_config(const json& config);

  // Keras's compute_mask(inputs, mask=None) on a model: the masks of its
  // outputs (Layer's forms; FunctionalImpl's override would hide them).
  using Layer::compute_mask;

  // --- training ------------------------------------------------------------
  void compile(OptimizerArg optimizer, LossArg loss, std::vector<MetricArg> metrics = {});
  bool compiled() const { return static_cast<bool>(optimizer_); }
  const OptimizerPtr& optimizer() const { return optimizer_; }
  const LossPtr& loss() const { return loss_; }
  const std::vector<MetricPtr>& metrics() const { return metrics_; }
  // Keras's training_config JSON (loss, metrics, optimizer_config), for saving. The loss and
  // each metric are what compile() was given: a name stays that name ("mse"); a loss object
  // is its name; a metric object is {"class_name", "config"} when it has a Keras class with
  // arguments (TopKCategoricalAccuracy), else its name.
  json training_config() const;

  // x: [N, ...] matching the (single) model input; y: targets for the (single) output.
  History fit(const Tensor& x, const Tensor& y, FitOptions options = {});
  // Keras's fit(dataset): batches (x, y) read from `train`, pass by pass. The
  // source batches and shuffles itself, so options.batch_size and .shuffle do
  // not apply to it; validation_split and sample_weight are ValueErrors (as
  // in Keras for a dataset); class_weight applies.
  History fit(BatchSource& train, FitOptions options = {});
  // {"loss": ..., "<metric>": ...}
  std::map<std::string, double> evaluate(const Tensor& x, const Tensor& y, EvaluateOptions options = {});
  // One pass over the source; options.batch_size does not apply.
  std::map<std::string, double> evaluate(BatchSource& source, EvaluateOptions options = {});
  // Inference (training = false, no tape) in batches; output for the single output.
  Tensor predict(const Tensor& x, int64_t batch_size = 32, int verbose = 0);
  // One pass over the source (its y, if any, is ignored): [num_samples, ...].
  Tensor predict(BatchSource& source);
  std::vector<Tensor> predict(const std::vector<Tensor>& xs, int64_t batch_size = 32);
  // One step on one batch; returns {"loss", metrics...} for that batch. The
  // logs live in the model and the next call of the same function overwrites
  // them (a fresh map would be the step's only heap allocation): copy them,
  // `Logs logs = model->train_on_batch(x, y);`, to keep them past that.
  const Logs& train_on_batch(const Tensor& x, const Tensor& y, const Tensor& sample_weight = {});
  const Logs& test_on_batch(const Tensor& x, const Tensor& y, const Tensor& sample_weight = {});
  Tensor predict_on_batch(const Tensor& x);

  // Set by a callback (EarlyStopping, TerminateOnNaN) to end fit after the current batch/epoch.
  bool stop_training = false;

  // --- saving (implemented by io/, which registers itself: see set_model_saver) ---
  // Keras 2 legacy full-model .h5 (or .keras by extension); atomic. In a
  // data-parallel job (train/distributed.h) only rank 0 writes; the others return.
  void save(const std::string& path) const;
  void save_weights(const std::string& path) const;
  void load_weights(const std::string& path, bool by_name = false, bool skip_mismatch = false);

 protected:
  explicit ModelImpl(const std::string& name, const std::string& default_prefix)
      : FunctionalImpl(name, default_prefix) {}
  // Builds a graph on demand (Sequential with no input shape); no-op here.
  virtual void ensure_graph(const Shape& /*input_shape*/) {}

 private:
  friend struct FitLoop;
  friend struct PredictLoop;
  // The trainable weights of the current step, refilled each step without
  // reallocating (FitLoop::train_step).
  std::vector<Variable> step_params_;
  // The step's regularization and add_loss terms, refilled the same way.
  std::vector<Variable> step_losses_;
  // What train_on_batch and test_on_batch return, reused from call to call.
  Logs train_batch_logs_;
  Logs test_batch_logs_;
  OptimizerPtr optimizer_;
  LossPtr loss_;
  std::string loss_identifier_;  // the name compile() was given; "" for a Loss object
  std::vector<MetricArg> metric_args_;
  std::vector<MetricPtr> metrics_;
};

class SequentialImpl : public ModelImpl {
 public:
  explicit SequentialImpl(std::vector<LayerPtr> layers = {}, const std::string& name = "");

  std::string class_name() const override { return "Sequential"; }
  static std::shared_ptr<SequentialImpl> from_config(const json& config);

  // Appends a layer (or an InputLayer, first only). ValueError for a duplicate
  // name, a multi-output layer, or a layer whose input does not fit.
  void add(const LayerPtr& layer);
  void add(const KerasTensor& input);  // an Input() tensor, first only
  // Removes the last layer. TypeError when empty.
  void pop();
  // Builds the graph for inputs of this shape (batch axis included).
  void build(const Shape& batch_input_shape);
  using ModelImpl::build;  // the Layer form, build({shape}), stays callable

  // The added layers (no InputLayer, as Keras's Sequential.layers).
  std::vector<LayerPtr> layers() const override { return stack_; }
  const std::vector<LayerPtr>& sublayer_list() const override { return stack_; }
  json get_config() const override;
  std::string summary(int line_length = 0) const override;

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  void ensure_graph(const Shape& input_shape) override;

 private:
  void rebuild_from(const KerasTensor& input);

  std::vector<LayerPtr> stack_;
  std::unordered_set<std::string> stack_names_;  // the names in stack_, for add()'s uniqueness check
  std::optional<KerasTensor> input_;     // the InputLayer's tensor, once known
  std::vector<KerasTensor> chain_;       // output of each stacked layer, once built
};

// Holders, named as in Keras.
class Model : public LayerHolder<ModelImpl> {
 public:
  Model(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, const std::string& name = "")
      : LayerHolder(std::make_shared<ModelImpl>(std::move(inputs), std::move(outputs), name)) {}
  Model(const KerasTensor& input, const KerasTensor& output, const std::string& name = "")
      : LayerHolder(std::make_shared<ModelImpl>(input, output, name)) {}
  explicit Model(std::shared_ptr<ModelImpl> impl) : LayerHolder(std::move(impl)) {}
};

// Sequential({a, b}), Sequential({conv}), Sequential() and Sequential({}, "name")
// all take the braced list as the layers: the initializer_list constructor is
// the better match for a braced list than the vector and the impl constructors.
class Sequential : public LayerHolder<SequentialImpl> {
 public:
  Sequential() : Sequential(std::vector<LayerPtr>{}) {}
  Sequential(std::initializer_list<LayerPtr> layers, const std::string& name = "")
      : Sequential(std::vector<LayerPtr>(layers), name) {}
  Sequential(std::vector<LayerPtr> layers, const std::string& name = "")
      : LayerHolder(std::make_shared<SequentialImpl>(std::move(layers), name)) {}
  explicit Sequential(std::shared_ptr<SequentialImpl> impl) : LayerHolder(std::move(impl)) {}
  operator Model() const { return Model(std::static_pointer_cast<ModelImpl>(impl_)); }  // NOLINT
};

// io/ registers these at load time so that Model::save works without train/ depending on io/.
using ModelSaver = void (*)(const ModelImpl& model, const std::string& path, bool weights_only);
using WeightsLoader = void (*)(ModelImpl& model, const std::string& path, bool by_name, bool skip_mismatch);
void set_model_io(ModelSaver saver, WeightsLoader loader);

}  // namespace minidl
