#include "layers/base/layer.h"

#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>

#include "autograd/functions.h"
#include "core/errors.h"

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

// The one-element input list of Layer::operator()(const Variable&), reused:
// one list per thread and nesting depth (a layer calling a layer goes one
// deeper), emptied when the call returns. A model's training step calls it
// once per step, and a fresh std::vector allocated each time.
class SingleInputLease {
 public:
  explicit SingleInputLease(const Variable& x) {
    if (t_depth == t_lists.size()) t_lists.push_back(std::make_unique<std::vector<Variable>>());
    list_ = t_lists[t_depth++].get();
    list_->assign(1, x);
  }
  ~SingleInputLease() {
    list_->clear();
    --t_depth;
  }
  SingleInputLease(const SingleInputLease&) = delete;
  SingleInputLease& operator=(const SingleInputLease&) = delete;
  const std::vector<Variable>& list() const { return *list_; }

 private:
  static thread_local std::vector<std::unique_ptr<std::vector<Variable>>> t_lists;
  static thread_local size_t t_depth;
  std::vector<Variable>* list_;
};
thread_local std::vector<std::unique_ptr<std::vector<Variable>>> SingleInputLease::t_lists;
thread_local size_t SingleInputLease::t_depth = 0;
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
      dtype_(o.dtype.empty() ? "float32" : o.dtype),
      trainable_(o.trainable),
      initial_weights_(std::move(o.weights)),
      activity_regularizer_(o.activity_regularizer.resolve()) {
  MINIDL_CHECK(dtype_ == "float32", ValueError,
               "layer '{}': dtype '{}' is not supported (minidl computes in float32)", name_, dtype_);
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
      const auto& node = x.layer()->inbound_nodes_.at(x.node_index());
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
    specs.push_back(std::make_shared<TensorSpec>(TensorSpec{out_shapes[i], dtype_, nm}));
    std::shared_ptr<const TensorSpec> ms;
    if (i < out_mask_shapes.size() && out_mask_shapes[i])
      ms = std::make_shared<TensorSpec>(TensorSpec{*out_mask_shapes[i], "bool", nm + "_mask"});
    mask_specs.push_back(ms);
  }
  auto node = std::make_shared<Node>(this, xs, specs, mask_specs);
  inbound_nodes_.push_back(node);
  for (const auto& x : xs)
    if (x.has_history()) x.layer()->record_outbound(node);

  const int node_index = static_cast<int>(inbound_nodes_.size()) - 1;
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
  const SingleInputLease in(x);
  const VariableList out = call_with_masks(in.list(), args, nullptr);
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
  if (t_call_depth == 0) clear_eager_losses_recursive();
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
  called_eagerly_ = true;
  VariableList outs = call(xs, args);

  if (activity_regularizer_) {
    // tf.keras 2: the activity loss is divided by the batch size.
    for (const auto& y : outs) {
      const float batch = y.rank() > 0 ? static_cast<float>(y.shape()[0]) : 1.f;
      eager_losses_.push_back({autograd::mul_scalar((*activity_regularizer_)(y), 1.f / batch), xs[0].id()});
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
  if (!supports_masking_)
    raise<TypeError>("Layer {} does not support masking, but was passed an input_mask", name_);
  return masks;
}

std::vector<std::optional<Shape>> Layer::compute_mask_shape(const std::vector<Shape>&,
                                                            const std::vector<std::optional<Shape>>& mask_shapes) {
  bool any = false;
  for (const auto& m : mask_shapes) any = any || m.has_value();
  if (!supports_masking_) {
    if (any) raise<TypeError>("Layer {} does not support masking, but was passed an input_mask", name_);
    return {};
  }
  return mask_shapes;
}

const Variable& Layer::single_input(const std::vector<Variable>& inputs) const {
  if (inputs.size() != 1) fail("expects a single input, received {} inputs", inputs.size());
  return inputs[0];
}

const Shape& Layer::single_shape(const std::vector<Shape>& shapes) const {
  if (shapes.size() != 1) fail("expects a single input, received {} inputs", shapes.size());
  return shapes[0];
}

// ---------------------------------------------------------------------------
// Nodes

void Layer::record_outbound(const std::shared_ptr<Node>& node) { outbound_nodes_.push_back(node); }

std::vector<std::shared_ptr<Node>> Layer::outbound_nodes() const {
  std::vector<std::shared_ptr<Node>> out;
  for (const auto& w : outbound_nodes_)
    if (auto n = w.lock()) out.push_back(n);
  return out;
}

const Node& Layer::node_at(int node_index, const char* what) const {
  if (inbound_nodes_.empty()) {
    if (called_eagerly_)
      raise<RuntimeError>(
          "Layer {} has only been called on concrete tensors (eager mode), which records no nodes, "
          "and thus has no defined {}",
          name_, what);
    raise<RuntimeError>("The layer {} has never been called and thus has no defined {}.", name_, what);
  }
  if (node_index < 0 || node_index >= static_cast<int>(inbound_nodes_.size()))
    raise<ValueError>("Asked to get {} at node {}, but the layer {} has only {} inbound nodes.", what, node_index,
                      name_, inbound_nodes_.size());
  return *inbound_nodes_[node_index];
}

std::vector<KerasTensor> Layer::get_inputs_at(int node_index) const {
  const Node& n = node_at(node_index, "input");
  if (n.is_input()) return get_outputs_at(node_index);  // an InputLayer's input is its output
  return n.input_tensors();
}

KerasTensor Layer::get_input_at(int node_index) const {
  auto v = get_inputs_at(node_index);
  if (v.size() != 1) fail("node {} has {} inputs; use get_inputs_at", node_index, v.size());
  return v[0];
}

std::vector<KerasTensor> Layer::get_outputs_at(int node_index) const {
  const Node& n = node_at(node_index, "output");
  // The holder of this node is this layer; rebuild handles with history.
  auto self = std::const_pointer_cast<Layer>(shared_from_this());
  std::vector<KerasTensor> out;
  for (size_t i = 0; i < n.output_specs().size(); ++i)
    out.emplace_back(n.output_specs()[i], self, node_index, static_cast<int>(i));
  return out;
}

KerasTensor Layer::get_output_at(int node_index) const {
  auto v = get_outputs_at(node_index);
  if (v.size() != 1) fail("node {} has {} outputs; use get_outputs_at", node_index, v.size());
  return v[0];
}

std::vector<Shape> Layer::get_input_shapes_at(int node_index) const {
  std::vector<Shape> s;
  for (const auto& t : get_inputs_at(node_index)) s.push_back(t.shape());
  return s;
}

Shape Layer::get_input_shape_at(int node_index) const { return get_input_at(node_index).shape(); }

std::vector<Shape> Layer::get_output_shapes_at(int node_index) const {
  return node_at(node_index, "output shape").output_shapes();
}

Shape Layer::get_output_shape_at(int node_index) const { return get_output_at(node_index).shape(); }

std::optional<KerasTensor> Layer::get_input_mask_at(int node_index) const {
  const Node& n = node_at(node_index, "input mask");
  if (n.is_input()) return std::nullopt;
  auto specs = n.input_mask_specs();
  if (specs.size() != 1) fail("node {} has {} inputs; masks of multi-input nodes are per input", node_index, specs.size());
  if (!specs[0]) return std::nullopt;
  return KerasTensor(specs[0]);
}

std::optional<KerasTensor> Layer::get_output_mask_at(int node_index) const {
  const Node& n = node_at(node_index, "output mask");
  if (n.output_mask_specs().empty() || !n.output_mask_specs()[0]) return std::nullopt;
  return KerasTensor(n.output_mask_specs()[0]);
}

template <class T>
T Layer::single_property(const char* what, const std::function<T(const Node&)>& get) const {
  if (inbound_nodes_.empty()) {
    if (called_eagerly_)
      raise<RuntimeError>("Layer {} has only been called on concrete tensors (eager mode); {} is only defined "
                          "for layers called on symbolic tensors",
                          name_, what);
    raise<AttributeError>("Layer {} is not connected, no {} to return.", name_, what);
  }
  if (inbound_nodes_.size() > 1)
    raise<AttributeError>(
        "Layer {} has multiple inbound nodes, hence the notion of \"layer {}\" is ill-defined. "
        "Use `get_{}_at(node_index)` instead.",
        name_, what, what);
  return get(*inbound_nodes_[0]);
}

KerasTensor Layer::input() const {
  return single_property<KerasTensor>("input", [&](const Node&) { return get_input_at(0); });
}

KerasTensor Layer::output() const {
  return single_property<KerasTensor>("output", [&](const Node&) { return get_output_at(0); });
}

Shape Layer::input_shape() const {
  if (inbound_nodes_.size() > 1) {
    std::set<std::vector<Shape>> all;
    for (size_t i = 0; i < inbound_nodes_.size(); ++i) all.insert(get_input_shapes_at(static_cast<int>(i)));
    if (all.size() > 1)
      raise<AttributeError>(
          "The layer \"{}\" has multiple inbound nodes, with different input shapes. Hence the notion of "
          "\"input shape\" is ill-defined for the layer. Use `get_input_shape_at(node_index)` instead.",
          name_);
    return get_input_shape_at(0);
  }
  return single_property<Shape>("input shape", [&](const Node&) { return get_input_shape_at(0); });
}

Shape Layer::output_shape() const {
  if (inbound_nodes_.size() > 1) {
    std::set<std::vector<Shape>> all;
    for (size_t i = 0; i < inbound_nodes_.size(); ++i) all.insert(get_output_shapes_at(static_cast<int>(i)));
    if (all.size() > 1)
      raise<AttributeError>(
          "The layer \"{}\" has multiple inbound nodes, with different output shapes. Hence the notion of "
          "\"output shape\" is ill-defined for the layer. Use `get_output_shape_at(node_index)` instead.",
          name_);
    return get_output_shape_at(0);
  }
  return single_property<Shape>("output shape", [&](const Node&) { return get_output_shape_at(0); });
}

std::optional<KerasTensor> Layer::input_mask() const {
  return single_property<std::optional<KerasTensor>>("input mask", [&](const Node&) { return get_input_mask_at(0); });
}

std::optional<KerasTensor> Layer::output_mask() const {
  return single_property<std::optional<KerasTensor>>("output mask",
                                                     [&](const Node&) { return get_output_mask_at(0); });
}

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

const std::vector<std::shared_ptr<Layer>>& Layer::sublayer_list() const {
  static const std::vector<std::shared_ptr<Layer>> none;
  return none;
}

void Layer::apply_constraints() {
  for (auto& w : weights_)
    if (w.constraint && w.trainable) w.constraint->apply(w.variable.mutable_value());
  for (const auto& sub : sublayer_list()) sub->apply_constraints();
}

std::vector<std::pair<std::string, const Weight*>> Layer::weight_records() const {
  std::vector<std::pair<std::string, const Weight*>> out;
  for (const auto& w : weights_) out.emplace_back(fmt::format("{}/{}:0", name_, w.name), &w);
  for (const auto& sub : sublayer_list()) {
    auto r = sub->weight_records();
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

std::vector<Variable> Layer::weights() const {
  std::vector<Variable> out;
  for (const auto& w : weights_) out.push_back(w.variable);
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
  losses_.push_back({loss, inputs ? inputs->id() : nullptr});
}

void Layer::clear_eager_losses_recursive() {
  eager_losses_.clear();
  for (const auto& sub : sublayer_list()) sub->clear_eager_losses_recursive();
}

std::vector<Variable> Layer::losses() const {
  std::vector<Variable> out;
  append_losses(out);
  return out;
}

void Layer::append_losses(std::vector<Variable>& out) const {
  for (const auto& w : weights_)
    if (w.regularizer) out.push_back((*w.regularizer)(w.variable));
  for (const auto& l : losses_) out.push_back(l.value);
  for (const auto& l : eager_losses_) out.push_back(l.value);
  for (const auto& sub : sublayer_list()) sub->append_losses(out);
}

std::vector<Variable> Layer::get_losses_for(const Variable* inputs) const {
  const void* key = inputs ? inputs->id() : nullptr;
  std::vector<Variable> out;
  if (!key)
    for (const auto& w : weights_)
      if (w.regularizer) out.push_back((*w.regularizer)(w.variable));
  for (const auto* list : {&losses_, &eager_losses_})
    for (const auto& l : *list)
      if (l.inputs == key) out.push_back(l.value);
  for (const auto& sub : sublayer_list()) {
    auto s = sub->get_losses_for(inputs);
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

void Layer::add_update(std::function<void()> update, const Variable* inputs) {
  MINIDL_CHECK(static_cast<bool>(update), ValueError, "layer '{}': add_update received an empty update", name_);
  updates_.push_back({std::move(update), inputs ? inputs->id() : nullptr});
}

std::vector<std::function<void()>> Layer::updates() const {
  std::vector<std::function<void()>> out;
  for (const auto& u : updates_) out.push_back(u.apply);
  for (const auto& sub : sublayer_list()) {
    auto s = sub->updates();
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

std::vector<std::function<void()>> Layer::get_updates_for(const Variable* inputs) const {
  const void* key = inputs ? inputs->id() : nullptr;
  std::vector<std::function<void()>> out;
  for (const auto& u : updates_)
    if (u.inputs == key) out.push_back(u.apply);
  for (const auto& sub : sublayer_list()) {
    auto s = sub->get_updates_for(inputs);
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

void Layer::run_updates() {
  // Swapped out first, so an update that adds updates does not disturb the
  // loop; both lists keep their buffers from step to step.
  std::vector<UpdateEntry> pending;
  pending.swap(running_updates_);
  pending.swap(updates_);  // updates_ takes the (empty) spare buffer
  for (auto& u : pending) u.apply();
  pending.clear();
  running_updates_.swap(pending);
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
  c["dtype"] = dtype_;
  return c;
}

json Layer::get_config() const { return base_config(); }

}  // namespace minidl
