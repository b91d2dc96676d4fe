// layers/base/layer_weights.cpp — Layer's weights, losses and updates (walking sublayers), and base config.
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "layers/base/layer.h"

namespace minidl {

// ---------------------------------------------------------------------------
// Weights

Variable Layer::add_weight(const std::string& name, const Shape& shape, InitializerArg initializer,
                           RegularizerArg regularizer, bool trainable, ConstraintArg constraint,
                           const std::string& dtype) {
  MINIDL_CHECK(dtype == "float32", ValueError, "layer '{}': weight '{}' has dtype '{}'; only float32 is supported",
               name_, name, dtype);
  MINIDL_CHECK(is_fully_defined(shape), ValueError, "layer '{}': weight '{}' needs a fully defined shape, got {}",
               name_, name, shape_str(shape));
  for (const auto& w : weights_)
    MINIDL_CHECK(w.name != name, ValueError, "layer '{}' already has a weight named '{}'", name_, name);
  auto init = initializer.resolve();
  Tensor value = init ? (*init)(shape) : Tensor::zeros(shape);
  // A weight of a frozen layer needs no gradient until the layer is unfrozen (set_trainable).
  Variable v(value, trainable && trainable_, fmt::format("{}/{}:0", name_, name));
  weights_.push_back(Weight{name, v, trainable, regularizer.resolve(), constraint.resolve()});
  return v;
}

void Layer::apply_constraints() {
  for (auto& w : weights_)
    if (w.constraint && w.trainable) w.constraint->apply(w.variable.mutable_value());
  for (const auto& sub : sublayer_list()) sub->apply_constraints();
}

std::vector<Variable> Layer::weights() const {
  std::vector<Variable> out;
  out.reserve(weights_.size());
  for (bool trainable : {true, false})
    for (const auto& w : weights_)
      if (w.trainable == trainable) out.push_back(w.variable);
  for (const auto& sub : sublayer_list()) {
    auto s = sub->weights();
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

std::vector<Variable> Layer::trainable_weights() const {
  std::vector<Variable> out;
  append_trainable_weights(out);
  return out;
}

// One list for the whole tree (a list per layer, spliced, allocated per layer).
void Layer::append_trainable_weights(std::vector<Variable>& out) const {
  if (!trainable_) return;
  for (const auto& w : weights_)
    if (w.trainable) out.push_back(w.variable);
  for (const auto& sub : sublayer_list()) sub->append_trainable_weights(out);
}

std::vector<Variable> Layer::non_trainable_weights() const {
  if (!trainable_) return weights();
  std::vector<Variable> out;
  for (const auto& w : weights_)
    if (!w.trainable) out.push_back(w.variable);
  for (const auto& sub : sublayer_list()) {
    auto s = sub->non_trainable_weights();
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

void Layer::set_trainable(bool trainable) {
  trainable_ = trainable;
  // Frozen weights need no gradient: the tape then skips them entirely.
  for (auto& w : weights_) w.variable.set_requires_grad(trainable && w.trainable);
  for (const auto& sub : sublayer_list()) sub->set_trainable(trainable);
}

std::vector<Tensor> Layer::get_weights() const {
  std::vector<Tensor> out;
  for (const auto& v : weights()) out.push_back(v.value().clone());
  return out;
}

void Layer::set_weights(const std::vector<Tensor>& values) {
  const auto params = weights();
  auto shapes_of = [](const auto& list, auto get) {
    std::string s = "[";
    for (size_t i = 0; i < list.size(); ++i) s += (i ? ", " : "") + shape_str(get(list[i]));
    return s + "]";
  };
  if (params.size() != values.size())
    raise<ValueError>(
        "You called `set_weights(weights)` on layer \"{}\" with a weight list of length {}, but the layer was "
        "expecting {} weights. Expected shapes {}, provided shapes {}.",
        name_, values.size(), params.size(), shapes_of(params, [](const Variable& v) { return v.shape(); }),
        shapes_of(values, [](const Tensor& t) { return t.shape(); }));
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].shape() != values[i].shape())
      raise<ValueError>("Layer \"{}\" weight {} ('{}') has shape {}, not compatible with provided weight shape {}",
                        name_, i, params[i].name(), shape_str(params[i].shape()), shape_str(values[i].shape()));
  for (size_t i = 0; i < params.size(); ++i) Variable(params[i]).mutable_value().copy_from(values[i]);
}

int64_t Layer::count_params() const {
  if (!built_)
    raise<ValueError>(
        "You tried to call `count_params` on {}, but the layer isn't built. You can build it manually via: "
        "`{}.build(batch_input_shape)`.",
        name_, name_);
  int64_t n = 0;
  for (const auto& v : weights()) n += v.value().numel();
  return n;
}

// ---------------------------------------------------------------------------
// Losses and updates

void Layer::add_loss(const Variable& loss, const Variable* inputs) {
  MINIDL_CHECK(loss.defined(), ValueError, "layer '{}': add_loss received an undefined loss", name_);
  losses_and_updates_.add_loss(loss, inputs ? inputs->id() : nullptr);
}

void Layer::clear_activity_losses_recursive() {
  losses_and_updates_.clear_activity_losses();
  for (const auto& sub : sublayer_list()) sub->clear_activity_losses_recursive();
}

std::vector<Variable> Layer::losses() const {
  std::vector<Variable> out;
  append_losses(out);
  return out;
}

void Layer::append_losses(std::vector<Variable>& out, LossKinds kinds) const {
  if (kinds != LossKinds::kExceptWeightRegularization)
    for (const auto& w : weights_)
      if (w.regularizer) out.push_back((*w.regularizer)(w.variable));
  if (kinds != LossKinds::kWeightRegularization) losses_and_updates_.append_losses(out);
  for (const auto& sub : sublayer_list()) sub->append_losses(out, kinds);
}

std::vector<Variable> Layer::get_losses_for(const Variable* inputs) const {
  const void* key = inputs ? inputs->id() : nullptr;
  std::vector<Variable> out;
  if (!key)
    for (const auto& w : weights_)
      if (w.regularizer) out.push_back((*w.regularizer)(w.variable));
  losses_and_updates_.append_losses_for(key, out);
  for (const auto& sub : sublayer_list()) {
    auto s = sub->get_losses_for(inputs);
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

void Layer::add_update(std::function<void()> update, const Variable* inputs) {
  MINIDL_CHECK(static_cast<bool>(update), ValueError, "layer '{}': add_update received an empty update", name_);
  losses_and_updates_.add_update(std::move(update), inputs ? inputs->id() : nullptr);
}

std::vector<std::function<void()>> Layer::updates() const {
  std::vector<std::function<void()>> out;
  losses_and_updates_.append_updates(out);
  for (const auto& sub : sublayer_list()) {
    auto s = sub->updates();
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

std::vector<std::function<void()>> Layer::get_updates_for(const Variable* inputs) const {
  const void* key = inputs ? inputs->id() : nullptr;
  std::vector<std::function<void()>> out;
  losses_and_updates_.append_updates_for(key, out);
  for (const auto& sub : sublayer_list()) {
    auto s = sub->get_updates_for(inputs);
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

void Layer::run_updates() {
  losses_and_updates_.run_updates();
  for (const auto& sub : sublayer_list()) sub->run_updates();
}

void Layer::set_activity_regularizer(RegularizerArg reg) { activity_regularizer_ = reg.resolve(); }

// ---------------------------------------------------------------------------
// Config

json Layer::base_config() const {
  json c;
  c["name"] = name_;
  c["trainable"] = trainable_;
  if (batch_input_shape_) {
    json s = json::array();
    for (int64_t d : *batch_input_shape_) s.push_back(d == kNone ? json(nullptr) : json(d));
    c["batch_input_shape"] = s;
  }
  // tf.keras 2.x writes a policy that is a single dtype as its name and a mixed one as the Policy object.
  if (compute_bfloat16_)
    c["dtype"] = {{"class_name", "Policy"}, {"config", {{"name", dtype_}}}};
  else
    c["dtype"] = dtype_;
  return c;
}

json Layer::get_config() const { return base_config(); }

}  // namespace minidl
