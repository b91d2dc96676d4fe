// layers/base/layer.cpp — Layer's entry points (symbolic and concrete calls), default contract, names.
#include "layers/base/layer.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <regex>

#include "autograd/functions.h"
#include "core/errors.h"
#include "core/scratch.h"
#include "layers/base/dtype_policy.h"
#include "ops/gemm_bf16.h"

namespace minidl {

// ---------------------------------------------------------------------------
// Names and learning phase

namespace {
std::mutex g_names_mu;
std::map<std::string, int> g_name_counts;
thread_local bool t_learning_phase = false;
// Depth of nested concrete calls: a call at depth 0 is "top level" and starts
// a fresh set of activity losses (Keras clears eager losses per outer call).
thread_local int t_call_depth = 0;

// What TF 1.x's masking TypeError prints after "input_mask: " (Python's str of
// the mask): one mask alone, several as a list with None where there is none.
std::string masks_str(const std::vector<std::string>& described) {
  if (described.size() == 1) return described[0];
  std::string s = "[";
  for (size_t i = 0; i < described.size(); ++i) s += (i ? ", " : "") + described[i];
  return s + "]";
}
}  // namespace

std::string unique_layer_name(const std::string& prefix, bool zero_based) {
  std::lock_guard lk(g_names_mu);
  const int n = g_name_counts[prefix]++;
  if (!zero_based) return fmt::format("{}_{}", prefix, n + 1);
  return n == 0 ? prefix : fmt::format("{}_{}", prefix, n);
}

void reset_layer_names() {
  std::lock_guard lk(g_names_mu);
  g_name_counts.clear();
}

std::string to_snake_case(const std::string& s) {
  // Keras's generic_utils.to_snake_case: "MaxPooling2D" -> "max_pooling2d", "PReLU" -> "p_re_lu".
  static const std::regex word_start("(.)([A-Z][a-z0-9]+)");
  static const std::regex lower_upper("([a-z])([A-Z])");
  std::string r = std::regex_replace(std::regex_replace(s, word_start, "$1_$2"), lower_upper, "$1_$2");
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool learning_phase() { return t_learning_phase; }
void set_learning_phase(bool training) { t_learning_phase = training; }

// ---------------------------------------------------------------------------
// Construction

Layer::Layer(LayerOptions o, const std::string& default_name_prefix)
    : name_(o.name.empty() ? unique_layer_name(default_name_prefix) : o.name),
      trainable_(o.trainable),
      initial_weights_(std::move(o.weights)),
      activity_regularizer_(o.activity_regularizer.resolve()) {
  try {
    const DTypePolicy policy = o.dtype.empty() ? global_policy() : DTypePolicy(o.dtype);
    dtype_ = policy.name();
    compute_bfloat16_ = policy.computes_in_bfloat16();
  } catch (const ValueError& e) {
    raise<ValueError>("layer '{}': {}", name_, e.what());
  }
  if (o.batch_input_shape) {
    batch_input_shape_ = *o.batch_input_shape;
  } else if (o.input_shape) {
    Shape s{o.batch_size.value_or(kNone)};
    s.insert(s.end(), o.input_shape->begin(), o.input_shape->end());
    batch_input_shape_ = s;
  }
  if (batch_input_shape_)
    for (int64_t d : *batch_input_shape_)
      MINIDL_CHECK(d == kNone || d > 0, ValueError, "layer '{}': invalid input shape {}", name_,
                   shape_str(*batch_input_shape_));
}

Layer::~Layer() = default;

DTypePolicy Layer::dtype_policy() const { return DTypePolicy(dtype_); }

const std::string& Layer::compute_dtype() const {
  static const std::string f32 = "float32", bf16 = "bfloat16";
  return compute_bfloat16_ ? bf16 : f32;
}

const std::string& Layer::variable_dtype() const {
  static const std::string f32 = "float32";
  return f32;
}

Variable Layer::compute_weight(const Variable& w) const { return compute_bfloat16_ ? cast_to_bfloat16(w) : w; }

std::shared_ptr<Layer> Layer::self_or_throw() {
  try {
    return shared_from_this();
  } catch (const std::bad_weak_ptr&) {
    raise<RuntimeError>("layer '{}' must be owned by a std::shared_ptr to be called on symbolic tensors", name_);
  }
}

// ---------------------------------------------------------------------------
// Calling

KerasTensor Layer::operator()(const KerasTensor& x) {
  auto out = (*this)(std::vector<KerasTensor>{x});
  MINIDL_CHECK(out.size() == 1, ValueError, "{} '{}' has {} outputs; call it with a vector to get all of them",
               class_name(), name_, out.size());
  return out[0];
}

std::vector<KerasTensor> Layer::operator()(const std::vector<KerasTensor>& xs) {
  auto self = self_or_throw();
  if (xs.empty()) fail("called on an empty list of inputs");
  std::vector<Shape> shapes;
  std::vector<std::optional<Shape>> mask_shapes;
  for (const auto& x : xs) {
    if (!x.defined()) fail("called on an undefined KerasTensor");
    shapes.push_back(x.shape());
    std::optional<Shape> m;
    if (x.has_history()) {
      const auto& node = x.layer()->inbound_nodes().at(x.node_index());
      const auto& spec = node->output_mask_specs().at(x.tensor_index());
      if (spec) m = spec->shape;
    }
    mask_shapes.push_back(m);
  }
  check_input(shapes);
  maybe_build(shapes);
  const std::vector<Shape> out_shapes = compute_output_shape(shapes);
  const auto out_mask_shapes = compute_mask_shape(shapes, mask_shapes);

  std::vector<std::shared_ptr<const TensorSpec>> specs, mask_specs;
  for (size_t i = 0; i < out_shapes.size(); ++i) {
    const std::string nm = out_shapes.size() == 1 ? name_ : fmt::format("{}_{}", name_, i);
    specs.push_back(std::make_shared<TensorSpec>(TensorSpec{out_shapes[i], compute_dtype(), nm}));
    std::shared_ptr<const TensorSpec> ms;
    if (i < out_mask_shapes.size() && out_mask_shapes[i])
      ms = std::make_shared<TensorSpec>(TensorSpec{*out_mask_shapes[i], "bool", nm + "_mask"});
    mask_specs.push_back(ms);
  }
  auto node = std::make_shared<Node>(this, xs, specs, mask_specs);
  const int node_index = node_history_.add_inbound(node);
  for (const auto& x : xs)
    if (x.has_history()) x.layer()->node_history_.add_outbound(node);

  std::vector<KerasTensor> out;
  for (size_t i = 0; i < specs.size(); ++i) out.emplace_back(specs[i], self, node_index, static_cast<int>(i));
  return out;
}

KerasTensor Layer::operator()(std::initializer_list<KerasTensor> xs) {
  auto out = (*this)(std::vector<KerasTensor>(xs));
  MINIDL_CHECK(out.size() == 1, ValueError, "{} '{}' has {} outputs; call it with a std::vector to get all of them",
               class_name(), name_, out.size());
  return out[0];
}

Variable Layer::operator()(std::initializer_list<Variable> xs, const CallArgs& args) {
  auto out = (*this)(std::vector<Variable>(xs), args);
  MINIDL_CHECK(out.size() == 1, ValueError, "{} '{}' has {} outputs; call it with a std::vector to get all of them",
               class_name(), name_, out.size());
  return out[0];
}

Variable Layer::operator()(const Variable& x, const CallArgs& args) {
  // The one-element input list is this thread's scratch: a training step
  // calls this once per step, and a fresh std::vector would allocate each time.
  const ScratchLease<std::vector<Variable>> in;
  in->assign(1, x);
  const VariableList out = call_with_masks(*in, args, nullptr);
  MINIDL_CHECK(out.size() == 1, ValueError, "{} '{}' has {} outputs; call it with a vector to get all of them",
               class_name(), name_, out.size());
  return out[0];
}

std::vector<Variable> Layer::operator()(const std::vector<Variable>& xs, const CallArgs& args) {
  const VariableList out = call_with_masks(xs, args, nullptr);
  return {out.begin(), out.end()};
}

Tensor Layer::operator()(const Tensor& x) {
  NoGradGuard no_grad;
  CallArgs args;
  args.training = learning_phase();
  return (*this)(Variable(x), args).value();
}

VariableList Layer::call_with_masks(const std::vector<Variable>& xs, const CallArgs& args,
                                    std::vector<Tensor>* out_masks) {
  if (xs.empty()) fail("called on an empty list of inputs");
  struct DepthGuard {
    DepthGuard() { ++t_call_depth; }
    ~DepthGuard() { --t_call_depth; }
  };
  if (t_call_depth == 0) clear_activity_losses_recursive();
  DepthGuard guard;

  for (const auto& x : xs)
    if (!x.defined()) fail("called on an undefined Variable");
  if (!built_) {  // the shapes list only matters for the first call
    std::vector<Shape> shapes;
    for (const auto& x : xs) shapes.push_back(x.shape());
    check_input(shapes);
    for (auto& s : shapes)
      if (!s.empty()) s[0] = kNone;  // weights never depend on the batch size
    maybe_build(shapes);
  }
  node_history_.mark_called_concretely();
  // mixed_bfloat16 (Keras's autocast): a layer's inputs are cast to bfloat16
  // and its outputs are bfloat16. A model's layers do this each for itself.
  const bool cast = compute_bfloat16_ && sublayer_list().empty();
  VariableList outs;
  if (cast) {
    ops::warn_bf16_fallback_once();
    const ScratchLease<std::vector<Variable>> cast_in;
    for (const auto& x : xs) cast_in->push_back(cast_to_bfloat16(x));
    outs = call(*cast_in, args);
    for (auto& y : outs) y = cast_to_bfloat16(y);
  } else {
    outs = call(xs, args);
  }

  if (activity_regularizer_) {
    // tf.keras 2: the activity loss is divided by the batch size.
    for (const auto& y : outs) {
      const float batch = y.rank() > 0 ? static_cast<float>(y.shape()[0]) : 1.f;
      losses_and_updates_.add_activity_loss(autograd::mul_scalar((*activity_regularizer_)(y), 1.f / batch),
                                            xs[0].id());
    }
  }
  if (out_masks) {
    std::vector<Tensor> masks;
    if (args.masks.size() == xs.size()) {
      masks = compute_mask(xs, args.masks);
    } else {
      std::vector<Tensor> in_masks = args.masks;
      in_masks.resize(xs.size());
      masks = compute_mask(xs, in_masks);
    }
    // No output mask (the usual case): reuse the caller's buffer.
    if (masks.empty()) {
      out_masks->assign(outs.size(), Tensor());
    } else {
      *out_masks = std::move(masks);
      out_masks->resize(outs.size());
    }
  }
  return outs;
}

// ---------------------------------------------------------------------------
// Building and the default contract

void Layer::maybe_build(const std::vector<Shape>& input_shapes) {
  if (built_) return;
  build(input_shapes);
  built_ = true;
  if (!initial_weights_.empty()) {
    auto w = std::move(initial_weights_);
    initial_weights_.clear();
    set_weights(w);
  }
}

void Layer::check_input(const std::vector<Shape>&) const {}

void Layer::build(const std::vector<Shape>&) {}

const std::vector<std::shared_ptr<Layer>>& Layer::sublayer_list() const {
  static const std::vector<std::shared_ptr<Layer>> none;
  return none;
}

std::vector<Shape> Layer::compute_output_shape(const std::vector<Shape>& input_shapes) {
  // Keras's fallback: run the layer on a small placeholder and read the shape.
  std::vector<Variable> probes;
  for (const auto& s : input_shapes) {
    Shape c = s;
    for (size_t i = 0; i < c.size(); ++i) {
      if (c[i] != kNone) continue;
      if (i != 0)
        fail("cannot infer the output shape for input shape {}: only the batch axis may be None", shape_str(s));
      c[i] = 1;
    }
    probes.emplace_back(Tensor::zeros(c));
  }
  NoGradGuard no_grad;
  VariableList outs = call(probes, CallArgs{});
  std::vector<Shape> result;
  for (const auto& y : outs) {
    Shape s = y.shape();
    if (!s.empty() && !input_shapes.empty() && !input_shapes[0].empty()) s[0] = input_shapes[0][0];
    result.push_back(s);
  }
  return result;
}

std::vector<Tensor> Layer::compute_mask(const std::vector<Variable>&, const std::vector<Tensor>& masks) {
  bool any = false;
  for (const auto& m : masks) any = any || m.defined();
  if (!any) return {};  // no mask in, none out (an empty list: no allocation)
  if (!supports_masking_) {
    std::vector<std::string> described;
    for (const auto& m : masks)
      described.push_back(m.defined() ? fmt::format("Tensor(shape={})", shape_str(m.shape())) : "None");
    raise<TypeError>("Layer {} does not support masking, but was passed an input_mask: {}", name_,
                     masks_str(described));
  }
  return masks;
}

std::vector<std::optional<Shape>> Layer::compute_mask_shape(const std::vector<Shape>&,
                                                            const std::vector<std::optional<Shape>>& mask_shapes) {
  bool any = false;
  for (const auto& m : mask_shapes) any = any || m.has_value();
  if (!supports_masking_) {
    if (!any) return {};
    std::vector<std::string> described;
    for (const auto& m : mask_shapes)
      described.push_back(m ? fmt::format("KerasTensor(shape={})", shape_str(*m)) : "None");
    raise<TypeError>("Layer {} does not support masking, but was passed an input_mask: {}", name_,
                     masks_str(described));
  }
  return mask_shapes;
}

std::optional<Tensor> Layer::compute_mask(const Tensor& inputs, const std::optional<Tensor>& mask) {
  const auto out = compute_mask(std::vector<Tensor>{inputs}, std::vector<std::optional<Tensor>>{mask});
  if (out.size() > 1) fail("has {} outputs; call compute_mask with a list of inputs to get their masks", out.size());
  return out.empty() ? std::nullopt : out[0];
}

std::vector<std::optional<Tensor>> Layer::compute_mask(const std::vector<Tensor>& inputs,
                                                       const std::vector<std::optional<Tensor>>& masks) {
  if (inputs.empty()) fail("compute_mask called on an empty list of inputs");
  if (!masks.empty() && masks.size() != inputs.size())
    fail("compute_mask expects one mask per input: received {} inputs and {} masks", inputs.size(), masks.size());
  std::vector<Variable> xs;
  std::vector<Tensor> in_masks(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) fail("compute_mask called on an undefined input {}", i);
    xs.emplace_back(inputs[i]);
    if (!masks.empty() && masks[i]) in_masks[i] = *masks[i];
  }
  NoGradGuard no_grad;
  const std::vector<Tensor> out = compute_mask(xs, in_masks);
  bool any = false;
  for (const auto& m : out) any = any || m.defined();
  if (!any) return {};  // no output has a mask: Keras's None
  std::vector<std::optional<Tensor>> result;
  for (const auto& m : out) result.push_back(m.defined() ? std::optional<Tensor>(m) : std::nullopt);
  return result;
}

const Variable& Layer::single_input(const std::vector<Variable>& inputs) const {
  if (inputs.size() != 1) fail("expects a single input, received {} inputs", inputs.size());
  return inputs[0];
}

const Shape& Layer::single_shape(const std::vector<Shape>& shapes) const {
  if (shapes.size() != 1) fail("expects a single input, received {} inputs", shapes.size());
  return shapes[0];
}

}  // namespace minidl
