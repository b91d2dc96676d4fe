// train/model.cpp — Model and Sequential: construction, compile, saving, adding and popping layers (train/model.h).
#include "train/model.h"

#include <nlohmann/json.hpp>

#include <utility>
#include <vector>

#include "core/errors.h"
#include "layers/base/input_layer.h"
#include "layers/base/json_text.h"
#include "layers/base/registry.h"
#include "train/distributed.h"

namespace minidl {

namespace {
ModelSaver g_saver = nullptr;
WeightsLoader g_loader = nullptr;
}  // namespace

void set_model_io(ModelSaver saver, WeightsLoader loader) {
  g_saver = saver;
  g_loader = loader;
}

// ---------------------------------------------------------------------------
// Model

ModelImpl::ModelImpl(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, const std::string& name)
    : FunctionalImpl(name, "model") {
  init_graph(std::move(inputs), std::move(outputs));
}

ModelImpl::ModelImpl(const KerasTensor& input, const KerasTensor& output, const std::string& name)
    : ModelImpl(std::vector<KerasTensor>{input}, std::vector<KerasTensor>{output}, name) {}

namespace {

// Every layer under `layer` with its trainable flag, each parent before its children.
void collect_trainable_flags(const Layer& layer, std::vector<std::pair<Layer*, bool>>& out) {
  for (const auto& sub : layer.sublayer_list()) {
    out.emplace_back(sub.get(), sub->trainable());
    collect_trainable_flags(*sub, out);
  }
}

// Sets the model's own trainable flag and leaves each layer inside with the
// flag it has. Keras 3's Functional(trainable=...) sets the flag before the
// model tracks its layers, so a config's "trainable": false freezes the model
// (its trainable_weights are empty) while a layer inside keeps its own config's
// flag: a BatchNormalization unfrozen inside a frozen model still runs in
// training mode under fit, as in Keras.
void set_own_trainable(Layer& model, bool trainable) {
  std::vector<std::pair<Layer*, bool>> flags;
  collect_trainable_flags(model, flags);
  model.set_trainable(trainable);
  // set_trainable reaches the whole tree; put back each layer's flag, parents
  // first so that a child's own flag is the last one set.
  for (const auto& [layer, flag] : flags) layer->set_trainable(flag);
}

}  // namespace

std::shared_ptr<ModelImpl> ModelImpl::from_config(const json& config) {
  auto [inputs, outputs] = graph_from_config(config);
  std::string name;
  if (config.contains("name") && config["name"].is_string()) name = config["name"].get<std::string>();
  auto model = std::make_shared<ModelImpl>(inputs, outputs, name);
  // Keras 3 writes the model's flag ("trainable"); tf.keras 2 configs have none.
  if (!ConfigReader(config, "Functional").boolean("trainable", true)) set_own_trainable(*model, false);
  return model;
}

void ModelImpl::compile(OptimizerArg optimizer, LossArg loss, std::vector<MetricArg> metrics) {
  auto opt = optimizer.resolve();
  auto l = loss.resolve();
  MINIDL_CHECK(opt && l, ValueError, "model '{}': compile needs an optimizer and a loss", name());
  std::vector<MetricPtr> ms;
  for (const auto& m : metrics) ms.push_back(m.resolve(l->name()));
  optimizer_ = opt;
  loss_ = l;
  loss_identifier_ = loss.name();
  metric_args_ = std::move(metrics);
  metrics_ = std::move(ms);
}

json ModelImpl::training_config() const {
  MINIDL_CHECK(compiled(), RuntimeError, "model '{}' is not compiled; it has no training config", name());
  json metrics = json::array();
  for (size_t i = 0; i < metric_args_.size(); ++i) {
    const Metric& m = *metrics_[i];
    if (!metric_args_[i].name().empty()) {
      metrics.push_back(metric_args_[i].name());
    } else if (m.class_name().empty()) {
      metrics.push_back(m.name());
    } else {
      metrics.push_back({{"class_name", m.class_name()}, {"config", m.get_config()}});
    }
  }
  json c;
  c["loss"] = loss_identifier_.empty() ? loss_->name() : loss_identifier_;
  c["metrics"] = metrics;
  c["weighted_metrics"] = nullptr;
  c["loss_weights"] = nullptr;
  c["optimizer_config"] = {{"class_name", optimizer_->class_name()}, {"config", optimizer_->get_config()}};
  return c;
}

// In data-parallel training every rank holds the same model; rank 0 alone
// writes it (Keras's chief), so ranks never race on one file.
void ModelImpl::save(const std::string& path) const {
  MINIDL_CHECK(g_saver != nullptr, RuntimeError, "model.save needs minidl_io linked (link minidl::minidl)");
  if (distributed::rank() == 0) g_saver(*this, path, false);
}

void ModelImpl::save_weights(const std::string& path) const {
  MINIDL_CHECK(g_saver != nullptr, RuntimeError, "model.save_weights needs minidl_io linked (link minidl::minidl)");
  if (distributed::rank() == 0) g_saver(*this, path, true);
}

void ModelImpl::load_weights(const std::string& path, bool by_name, bool skip_mismatch) {
  MINIDL_CHECK(g_loader != nullptr, RuntimeError, "model.load_weights needs minidl_io linked (link minidl::minidl)");
  g_loader(*this, path, by_name, skip_mismatch);
}

// ---------------------------------------------------------------------------
// Sequential

SequentialImpl::SequentialImpl(std::vector<LayerPtr> layers, const std::string& name) : ModelImpl(name, "sequential") {
  for (const auto& l : layers) add(l);
}

void SequentialImpl::add(const KerasTensor& input) {
  MINIDL_CHECK(input.has_history() && input.layer()->class_name() == "InputLayer", ValueError,
               "Sequential '{}': add() takes layers or an Input() tensor; received tensor '{}'", name(),
               input.defined() ? input.name() : "undefined");
  MINIDL_CHECK(stack_.empty() && !input_, ValueError,
               "Sequential '{}': an Input can only be added first, before any layer", name());
  input_ = input;
}

void SequentialImpl::add(const LayerPtr& layer) {
  MINIDL_CHECK(layer != nullptr, ValueError, "Sequential '{}': add() received a null layer", name());
  if (auto in = std::dynamic_pointer_cast<InputLayerImpl>(layer)) {
    MINIDL_CHECK(!in->inbound_nodes().empty(), ValueError, "Sequential '{}': InputLayer '{}' has no tensor", name(),
                 in->name());
    add(in->get_output_at(0));
    return;
  }
  MINIDL_CHECK(!stack_names_.count(layer->name()), ValueError,
               "All layers added to a Sequential model should have unique names. Name \"{}\" is already the name "
               "of a layer in this model. Update the `name` argument to pass a unique name.",
               layer->name());
  if (stack_.empty() && !input_ && layer->batch_input_shape()) {
    // Keras names the implicit input after the first layer: "conv2d_input".
    Shape s = *layer->batch_input_shape();
    InputOptions o;
    o.name = layer->name() + "_input";
    if (s[0] != kNone) o.batch_size = s[0];
    input_ = Input(Shape(s.begin() + 1, s.end()), o);
  }
  if (!input_) {  // deferred: built on first call or build()
    stack_.push_back(layer);
    stack_names_.insert(layer->name());
    return;
  }
  const KerasTensor prev = chain_.empty() ? *input_ : chain_.back();
  std::vector<KerasTensor> out = (*layer)(std::vector<KerasTensor>{prev});
  if (out.size() != 1)
    raise<ValueError>(
        "All layers in a Sequential model should have a single output tensor. For multi-output layers, use the "
        "functional API (layer '{}' has {} outputs).",
        layer->name(), out.size());
  // The graph grows by one node (append_to_chain), so adding N layers costs O(N), not a
  // whole-graph walk per layer; init_graph covers the first layer and the unusual cases.
  if (!append_to_chain(out[0])) init_graph({*input_}, {out[0]});
  stack_.push_back(layer);
  stack_names_.insert(layer->name());
  chain_.push_back(out[0]);
}

void SequentialImpl::pop() {
  if (stack_.empty()) raise<TypeError>("There are no layers in the model.");
  stack_names_.erase(stack_.back()->name());
  stack_.pop_back();
  if (!chain_.empty()) chain_.pop_back();
  if (input_ && !chain_.empty()) {
    init_graph({*input_}, {chain_.back()});
  } else {
    clear_graph();
  }
}

void SequentialImpl::rebuild_from(const KerasTensor& input) {
  input_ = input;
  chain_.clear();
  KerasTensor prev = input;
  for (const auto& l : stack_) {
    auto out = (*l)(std::vector<KerasTensor>{prev});
    MINIDL_CHECK(out.size() == 1, ValueError,
                 "All layers in a Sequential model should have a single output tensor (layer '{}').", l->name());
    chain_.push_back(out[0]);
    prev = out[0];
  }
  MINIDL_CHECK(!chain_.empty(), ValueError, "Sequential '{}' has no layers to build", name());
  init_graph({*input_}, {chain_.back()});
}

void SequentialImpl::build(const Shape& batch_input_shape) {
  MINIDL_CHECK(!stack_.empty(), ValueError, "Sequential '{}': cannot build a model with no layers", name());
  if (has_graph()) {
    MINIDL_CHECK(shapes_compatible(inputs_[0].shape(), batch_input_shape), ValueError,
                 "Sequential '{}' was built for input shape {}; build() received {}", name(),
                 shape_str(inputs_[0].shape()), shape_str(batch_input_shape));
    return;
  }
  MINIDL_CHECK(!batch_input_shape.empty(), ValueError, "Sequential '{}': build() needs a batch input shape", name());
  InputOptions o;
  o.name = stack_.front()->name() + "_input";
  if (batch_input_shape[0] != kNone) o.batch_size = batch_input_shape[0];
  rebuild_from(Input(Shape(batch_input_shape.begin() + 1, batch_input_shape.end()), o));
}

void SequentialImpl::ensure_graph(const Shape& input_shape) {
  if (has_graph()) return;
  Shape s = input_shape;
  if (!s.empty()) s[0] = kNone;
  build(s);
}

VariableList SequentialImpl::call(const std::vector<Variable>& inputs, const CallArgs& args) {
  if (!has_graph()) ensure_graph(single_input(inputs).shape());
  return ModelImpl::call(inputs, args);
}

std::vector<Shape> SequentialImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  if (!has_graph()) ensure_graph(single_shape(input_shapes));
  return ModelImpl::compute_output_shape(input_shapes);
}

json SequentialImpl::get_config() const {
  json layers = json::array();
  if (input_) layers.push_back(serialize_layer(*input_->layer()));
  for (const auto& l : stack_) layers.push_back(serialize_layer(*l));
  return {{"name", name()}, {"layers", layers}};
}

std::shared_ptr<SequentialImpl> SequentialImpl::from_config(const json& config) {
  // Keras 1 / 2.1 store a bare list of layers; later versions {"name", "layers"}.
  const json* layers = &config;
  std::string name;
  if (config.is_object()) {
    ConfigReader r(config, "Sequential");
    layers = &r.raw("layers");
    name = r.str("name", "");
  }
  MINIDL_CHECK(layers->is_array(), ValueError, "Sequential config: 'layers' must be a list, received {}",
               json_preview(*layers));
  auto model = std::make_shared<SequentialImpl>(std::vector<LayerPtr>{}, name);
  const ModelNestingGuard nesting(model->name());
  for (const auto& entry : *layers) {
    auto layer = layer_from_config(entry);
    if (auto in = std::dynamic_pointer_cast<InputLayerImpl>(layer)) {
      model->add(in->make_input_tensor());
    } else {
      model->add(layer);
    }
  }
  return model;
}

std::string SequentialImpl::summary(int line_length) const {
  if (!has_graph())
    raise<ValueError>(
        "This model has not yet been built. Build the model first by calling `build()` or calling `fit()` with "
        "some data, or specify an `input_shape` argument in the first layer(s) for automatic build.");
  return summary_table(stack_, false, line_length);
}

MINIDL_REGISTER_LAYER("Functional", [](const json& c) -> LayerPtr { return ModelImpl::from_config(c); }, {"Model"});
MINIDL_REGISTER_LAYER("Sequential", [](const json& c) -> LayerPtr { return SequentialImpl::from_config(c); });

}  // namespace minidl
