// layers/base/layer.h — the Keras Layer: weights, a call, and a record of where it was called.
//
// A Layer is the unit models are built from. It follows the tf.keras Layer of
// the TF 1.x reference pages:
//
//  * Calling it (operator(), or apply()) on a *symbolic* KerasTensor builds the
//    layer from the input shape if needed, computes the output shape and
//    records a Node (layers/base/node.h) — nothing is computed.
//  * Calling it on a *concrete* Variable computes the output now, recording the
//    autograd tape when gradients are needed — no Node is created.
//  * Both paths run the same public, non-virtual entry point, which does the
//    checks, the build and the bookkeeping once for every layer; subclasses
//    implement the protected virtuals (Keras's __call__ -> call split, Caffe's
//    Forward -> Forward_cpu).
//
// How to write a layer: derive from Layer and override the subclass contract,
// the first section of the class below. class_name and call are required;
// check_input, build, compute_output_shape, compute_mask and get_config have
// defaults. For example, a layer scaling each channel by a learned weight:
//
//   class ScaleImpl : public Layer {
//    public:
//     explicit ScaleImpl(LayerOptions o = {}) : Layer(std::move(o), "scale") {}
//     std::string class_name() const override { return "Scale"; }
//     std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) override { return {single_shape(in)}; }
//
//    protected:
//     void check_input(const std::vector<Shape>& in) const override {  // real shapes, batch axis included
//       if (single_shape(in).size() < 2) fail("expected input of rank >= 2, received shape {}", shape_str(in[0]));
//     }
//     void build(const std::vector<Shape>& in) override {  // once, batch axis None
//       scale_ = add_weight("scale", {in[0].back()}, "ones");
//     }
//     VariableList call(const std::vector<Variable>& in, const CallArgs&) override {
//       return {autograd::mul(single_input(in), scale_)};  // autograd ops: the gradient comes for free
//     }
//
//    private:
//     Variable scale_;
//   };
//
// The base class then gives it everything else: symbolic calls and nodes,
// weights lists, get_weights / set_weights, regularization losses, the
// construction-time `weights` option, names. A MINIDL_REGISTER_LAYER line
// (layers/base/registry.h) makes it loadable from a Keras config.
//
// Layers are always owned by std::shared_ptr (a Node, a Model and the user all
// refer to the same layer, as in Keras). User code holds them through small
// holder classes named exactly as in Keras — `Conv2D`, `Dense` — each wrapping
// a `Conv2DImpl` (the PyTorch C++ frontend's module-holder pattern):
//
//   auto conv = Conv2D(32, 3, {.padding = "same", .activation = "relu"});
//   KerasTensor y = conv(Input({28, 28, 1}));   // symbolic: records node 0
//   conv->get_output_shape_at(0);               // (None, 28, 28, 32)
//   Variable z = conv(Variable(images));        // concrete: computes
//
// Multi-input layers take and return lists; single-input layers see a list of
// one (single_input() unwraps it with a clear error). call() takes the
// caller's std::vector and returns a VariableList (autograd/variable.h), a
// vector whose buffer comes from the small-object pool, so that the every-step
// path allocates nothing; a layer writes `return {y};` either way.
//
// The machinery lives in named parts: the nodes and their node-indexed
// queries in NodeHistory (layers/base/node.h), add_loss / add_update records
// in LossesAndUpdates (layers/base/losses_and_updates.h). Layer's public
// methods of those groups forward to them.
#pragma once

// The declaration of nlohmann::json only: every file that builds or reads a config
// includes <nlohmann/json.hpp> itself (and <minidl/minidl.h> includes it for users).
#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/variable.h"
#include "core/errors.h"
#include "core/tensor.h"
#include "layers/base/keras_tensor.h"
#include "layers/base/losses_and_updates.h"
#include "layers/base/node.h"
#include "layers/parts/constraints.h"
#include "layers/parts/initializers.h"
#include "layers/parts/regularizers.h"

namespace minidl {

using json = nlohmann::json;

// The construction arguments every Keras layer accepts (R's layer_conv_2d page
// lists them). Layer option structs repeat these fields at their end through
// MINIDL_COMMON_LAYER_OPTIONS so designated initializers can name them:
//   Dense(10, {.activation = "softmax", .name = "out"})
class DTypePolicy;  // layers/base/dtype_policy.h

struct LayerOptions {
  // Every field has a default member initializer so that designated
  // initializers naming only some fields stay -Wextra clean.
  std::optional<Shape> input_shape{};        // without the batch axis, e.g. {28, 28, 1}
  std::optional<Shape> batch_input_shape{};  // with it, e.g. {kNone, 28, 28, 1}
  std::optional<int64_t> batch_size{};       // combined with input_shape
  std::string dtype{};                       // a DTypePolicy name ("float32", "mixed_bfloat16"); "" = global_policy()
  std::string name{};                        // "" = unique default ("conv2d", "conv2d_1", ...)
  bool trainable = true;
  std::vector<Tensor> weights{};             // initial weights, applied by set_weights at build
  RegularizerArg activity_regularizer{};     // on the layer's output, divided by the batch size
};

#define MINIDL_COMMON_LAYER_OPTIONS                    \
  std::optional<::minidl::Shape> input_shape{};        \
  std::optional<::minidl::Shape> batch_input_shape{};  \
  std::optional<int64_t> batch_size{};                 \
  std::string dtype{};                                 \
  std::string name{};                                  \
  bool trainable = true;                               \
  std::vector<::minidl::Tensor> weights {}

// Extracts the common fields from a layer's options struct.
template <class O>
LayerOptions common_options(const O& o, RegularizerArg activity_regularizer = {}) {
  return LayerOptions{o.input_shape, o.batch_input_shape, o.batch_size, o.dtype,
                      o.name,        o.trainable,         o.weights,    std::move(activity_regularizer)};
}

// Per-call arguments of a concrete call.
struct CallArgs {
  bool training = false;  // Dropout / BatchNormalization behave differently when true
  // One entry per input; an undefined Tensor means "no mask". Masks are 0/1 floats.
  std::vector<Tensor> masks{};
};

// A weight as the layer sees it: the variable plus its Keras attributes.
struct Weight {
  std::string name;  // short name: "kernel", "bias", "moving_mean"
  Variable variable;
  bool trainable = true;
  std::shared_ptr<Regularizer> regularizer;
  std::shared_ptr<Constraint> constraint;
};

class Layer : public std::enable_shared_from_this<Layer> {
 public:
  explicit Layer(LayerOptions options = {}, const std::string& default_name_prefix = "layer");
  virtual ~Layer();
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // ===========================================================================
  // The subclass contract
  // ===========================================================================

  // Keras class name ("Conv2D"); used by get_config, summary and the registry.
  virtual std::string class_name() const = 0;
  // Output shapes for the given input shapes (batch axis may be kNone),
  // without computing. Default: Keras's fallback, which calls the layer on
  // zeros of those shapes (batch 1); a layer that knows its rule overrides it.
  virtual std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes);
  // Keras's get_config(): {"name", "trainable", "dtype", ["batch_input_shape"],
  // ...layer keys}. Default: base_config(); a layer adds its own arguments.
  virtual json get_config() const;
  // Layers made of layers (a Model) list them here, own list, no copy: the
  // recursive accessors (weights, losses, updates) walk it every training
  // step. Default: none.
  virtual const std::vector<std::shared_ptr<Layer>>& sublayer_list() const;

 protected:
  // Keras's input_spec check, on the real input shapes (batch axis included),
  // before anything is built or computed: ValueError naming the layer, what it
  // expected and what it received. The entry point runs it on every symbolic
  // call and on a concrete call that builds the layer (the build itself only
  // sees the batch axis as None, so the message would not echo the input).
  // Default: accepts anything.
  virtual void check_input(const std::vector<Shape>& input_shapes) const;
  // Creates the weights (add_weight). Called once, by maybe_build, with the
  // batch axis None. Default: nothing.
  virtual void build(const std::vector<Shape>& input_shapes);
  // The computation, on concrete variables: one result per output.
  virtual VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) = 0;
  // Concrete masks of the outputs; an empty list means "no output mask" (and
  // costs no allocation). `masks` has one entry per input, undefined for none.
  // Default: pass the input masks through when supports_masking, else
  // TypeError if any mask is given (TF 1.x Layer.compute_mask). Users call the
  // public compute_mask forms below, which reach this hook.
  virtual std::vector<Tensor> compute_mask(const std::vector<Variable>& inputs, const std::vector<Tensor>& masks);
  // Symbolic counterpart: shapes of the output masks (nullopt = no mask).
  virtual std::vector<std::optional<Shape>> compute_mask_shape(const std::vector<Shape>& input_shapes,
                                                               const std::vector<std::optional<Shape>>& mask_shapes);

  // --- helpers for subclasses ---------------------------------------------------
  // The one input of a single-input layer; ValueError naming the layer otherwise.
  const Variable& single_input(const std::vector<Variable>& inputs) const;
  const Shape& single_shape(const std::vector<Shape>& shapes) const;

  // Base part of get_config, for subclasses to extend.
  json base_config() const;

  // Throws ValueError "<Class> '<name>': <message>".
  template <class... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) const {
    throw ValueError(fmt::format("{} '{}': {}", class_name(), name_, fmt::format(f, std::forward<Args>(args)...)));
  }

  void set_supports_masking(bool v) { supports_masking_ = v; }
  void set_built(bool v) { built_ = v; }
  // Sets the name (Model uses it when it must rename); does not re-check uniqueness.
  void set_name(const std::string& name) { name_ = name; }
  // The layer's nodes, for layers that record nodes themselves (InputLayer's
  // node with no inputs, a network's own node 0).
  NodeHistory& node_history() { return node_history_; }

 public:
  // ===========================================================================
  // The public API
  // ===========================================================================

  // --- calling ---------------------------------------------------------------
  // Symbolic: records a Node. ValueError on incompatible input shapes.
  KerasTensor operator()(const KerasTensor& x);
  std::vector<KerasTensor> operator()(const std::vector<KerasTensor>& xs);
  // Concrete: computes now (tape recorded when grad mode is on and inputs/weights need grads).
  Variable operator()(const Variable& x, const CallArgs& args = {});
  std::vector<Variable> operator()(const std::vector<Variable>& xs, const CallArgs& args = {});
  // Keras-style multi-input calls with one output: Add()({a, b}) is a KerasTensor
  // (ValueError when the layer has several outputs; use the vector form then).
  KerasTensor operator()(std::initializer_list<KerasTensor> xs);
  Variable operator()(std::initializer_list<Variable> xs, const CallArgs& args = {});
  // Concrete convenience: inference on a plain tensor, no tape.
  Tensor operator()(const Tensor& x);
  template <class T>
  auto apply(const T& x) {
    return (*this)(x);
  }
  // Concrete call that also returns the output masks (what Model uses).
  VariableList call_with_masks(const std::vector<Variable>& xs, const CallArgs& args, std::vector<Tensor>* out_masks);

  // --- masks -------------------------------------------------------------------
  // Keras's compute_mask(inputs, mask=None): the output mask a call on `inputs`
  // with input mask `mask` would give, std::nullopt being Keras's None. A
  // layer that does not support masking returns std::nullopt for no mask and
  // raises TypeError "Layer <name> does not support masking, but was passed an
  // input_mask: <mask>" for a mask. ValueError for a layer with several outputs
  // (use the list form).
  std::optional<Tensor> compute_mask(const Tensor& inputs, const std::optional<Tensor>& mask = std::nullopt);
  // The list form, one mask per input (an empty `masks`: none for any). The
  // result has one entry per output, or is empty for Keras's None.
  std::vector<std::optional<Tensor>> compute_mask(const std::vector<Tensor>& inputs,
                                                  const std::vector<std::optional<Tensor>>& masks);

  // --- state -----------------------------------------------------------------------
  const std::string& name() const { return name_; }
  // Keras's dtype: the variable dtype, "float32" under every policy minidl computes with.
  const std::string& dtype() const { return variable_dtype(); }
  // The layer's policy (layers/base/dtype_policy.h): the `dtype` it was given, else the global
  // policy when it was constructed.
  DTypePolicy dtype_policy() const;
  // "float32", or "bfloat16" under mixed_bfloat16.
  const std::string& compute_dtype() const;
  const std::string& variable_dtype() const;
  bool computes_in_bfloat16() const { return compute_bfloat16_; }
  bool trainable() const { return trainable_; }
  // Freezes or unfreezes the layer and its sublayers (a frozen weight needs no gradient).
  virtual void set_trainable(bool trainable);
  bool built() const { return built_; }
  bool supports_masking() const { return supports_masking_; }
  // The batch_input_shape given at construction (input_shape / batch_size combined), if any.
  const std::optional<Shape>& batch_input_shape() const { return batch_input_shape_; }
  // Builds the layer for these input shapes (batch axis may be kNone) if not built yet,
  // then applies construction-time `weights`.
  void maybe_build(const std::vector<Shape>& input_shapes);

  // --- weights -----------------------------------------------------------------
  // Creates and tracks a weight (initialised now). Keras's add_weight; add_variable is its alias.
  Variable add_weight(const std::string& name, const Shape& shape, InitializerArg initializer = "glorot_uniform",
                      RegularizerArg regularizer = {}, bool trainable = true, ConstraintArg constraint = {},
                      const std::string& dtype = "float32");
  Variable add_variable(const std::string& name, const Shape& shape, InitializerArg initializer = "glorot_uniform",
                        RegularizerArg regularizer = {}, bool trainable = true, ConstraintArg constraint = {}) {
    return add_weight(name, shape, std::move(initializer), std::move(regularizer), trainable, std::move(constraint));
  }
  // A weight as the layer computes with it: w itself, or under mixed_bfloat16 w
  // rounded to bfloat16 (Keras's variables read inside call in the compute dtype).
  Variable compute_weight(const Variable& w) const;

  // Keras's order: the layer's own trainable weights, its own non-trainable
  // weights, then each sublayer's weights() in turn (TF 1.x Layer.weights is
  // trainable_weights + non_trainable_weights; Network.weights and Keras 3
  // concatenate the layers' lists). get_weights, set_weights and
  // count_params follow it. A weight's place depends on its own trainable
  // flag, not on the layer's: a frozen layer keeps the same order.
  std::vector<Variable> weights() const;
  // Own trainable weights, then sublayers'. Empty when !trainable().
  std::vector<Variable> trainable_weights() const;
  // Appends trainable_weights() to `out` (for a caller that reuses one list
  // across training steps).
  void append_trainable_weights(std::vector<Variable>& out) const;
  // Own non-trainable weights, then sublayers'; all of weights() when !trainable().
  std::vector<Variable> non_trainable_weights() const;
  std::vector<Variable> variables() const { return weights(); }
  std::vector<Variable> trainable_variables() const { return trainable_weights(); }
  std::vector<Variable> non_trainable_variables() const { return non_trainable_weights(); }
  // The layer's own weight records (not sublayers'), in creation order.
  const std::vector<Weight>& own_weights() const { return weights_; }

  std::vector<Tensor> get_weights() const;  // copies
  // ValueError naming the layer, the expected count and shapes, and what was received.
  void set_weights(const std::vector<Tensor>& weights);
  // ValueError before the layer is built ("You tried to call count_params on conv2d, but the layer isn't built").
  int64_t count_params() const;
  // Applies every trainable weight's constraint to its value in place: own
  // weights, then sublayers'. Keras does this right after the optimizer's update.
  void apply_constraints();

  // --- losses and updates (own records in LossesAndUpdates) -----------------------
  // inputs == nullptr: an unconditional loss (like weight regularization);
  // otherwise conditional on that input (activity regularization).
  void add_loss(const Variable& loss, const Variable* inputs = nullptr);
  // Weight-regularization terms (recomputed from the current weights, so they
  // are differentiable), add_loss terms, and the activity losses of the most
  // recent top-level concrete call; this layer's then sublayers'.
  std::vector<Variable> losses() const;
  // Which terms append_losses lists: all of them, the weight-regularization
  // terms alone (they depend on the weights only), or all the others.
  enum class LossKinds { kAll, kWeightRegularization, kExceptWeightRegularization };
  // Appends losses() (or the `kinds` among them) to `out`, in losses()'s
  // order, for a caller that reuses one list across training steps, as fit does.
  void append_losses(std::vector<Variable>& out, LossKinds kinds = LossKinds::kAll) const;
  // inputs == nullptr: the unconditional losses. Otherwise those conditional on `inputs`.
  std::vector<Variable> get_losses_for(const Variable* inputs) const;

  void add_update(std::function<void()> update, const Variable* inputs = nullptr);
  // True when this layer (not its sublayers) has updates waiting for run_updates.
  bool has_pending_updates() const { return losses_and_updates_.has_pending_updates(); }
  // Copies of the pending update functions. They refer to the layer's own
  // state (BatchNormalization's holds `this`): run them while the layer lives.
  std::vector<std::function<void()>> updates() const;
  std::vector<std::function<void()>> get_updates_for(const Variable* inputs) const;
  // Runs and clears the pending updates of this layer and its sublayers.
  void run_updates();

  const std::shared_ptr<Regularizer>& activity_regularizer() const { return activity_regularizer_; }
  void set_activity_regularizer(RegularizerArg reg);

  // --- nodes (kept by NodeHistory, layers/base/node.h) ----------------------------
  const std::vector<std::shared_ptr<Node>>& inbound_nodes() const { return node_history_.inbound(); }
  // Nodes of other layers that consumed this layer's outputs (weak: forward edges).
  std::vector<std::shared_ptr<Node>> outbound_nodes() const { return node_history_.outbound(); }

  // Node-indexed accessors. ValueError for an index out of range; RuntimeError
  // when the layer was never called symbolically ("is not connected").
  KerasTensor get_input_at(int node_index) const { return node_history_.get_input_at(node_index); }
  std::vector<KerasTensor> get_inputs_at(int node_index) const { return node_history_.get_inputs_at(node_index); }
  KerasTensor get_output_at(int node_index) const { return node_history_.get_output_at(node_index); }
  std::vector<KerasTensor> get_outputs_at(int node_index) const { return node_history_.get_outputs_at(node_index); }
  Shape get_input_shape_at(int node_index) const { return node_history_.get_input_shape_at(node_index); }
  std::vector<Shape> get_input_shapes_at(int node_index) const {
    return node_history_.get_input_shapes_at(node_index);
  }
  Shape get_output_shape_at(int node_index) const { return node_history_.get_output_shape_at(node_index); }
  std::vector<Shape> get_output_shapes_at(int node_index) const {
    return node_history_.get_output_shapes_at(node_index);
  }
  // Masks: std::nullopt is Keras's None.
  std::optional<KerasTensor> get_input_mask_at(int node_index) const {
    return node_history_.get_input_mask_at(node_index);
  }
  std::optional<KerasTensor> get_output_mask_at(int node_index) const {
    return node_history_.get_output_mask_at(node_index);
  }

  // Properties, valid when the layer has exactly one inbound node (or all its
  // nodes agree, for shapes). AttributeError otherwise, naming the layer:
  // "Layer conv2d has multiple inbound nodes, hence the notion of "layer input"
  // is ill-defined. Use `get_input_at(node_index)` instead." RuntimeError when
  // never called symbolically.
  KerasTensor input() const { return node_history_.input(); }
  KerasTensor output() const { return node_history_.output(); }
  Shape input_shape() const { return node_history_.input_shape(); }
  Shape output_shape() const { return node_history_.output_shape(); }
  std::optional<KerasTensor> input_mask() const { return node_history_.input_mask(); }
  std::optional<KerasTensor> output_mask() const { return node_history_.output_mask(); }

  // --- sublayers -------------------------------------------------------------------
  // Sublayers (a Model's layers), as a copy of sublayer_list(). Empty for plain layers.
  std::vector<std::shared_ptr<Layer>> sublayers() const { return sublayer_list(); }

 private:
  std::shared_ptr<Layer> self_or_throw();
  void clear_activity_losses_recursive();

  std::string name_;
  std::string dtype_;           // the policy name
  bool compute_bfloat16_ = false;  // the policy computes in bfloat16
  bool trainable_ = true;
  bool built_ = false;
  bool supports_masking_ = false;
  std::optional<Shape> batch_input_shape_;
  std::vector<Tensor> initial_weights_;
  std::shared_ptr<Regularizer> activity_regularizer_;

  std::vector<Weight> weights_;
  NodeHistory node_history_{*this};
  LossesAndUpdates losses_and_updates_;
};

using LayerPtr = std::shared_ptr<Layer>;

// Holder base for the Keras-named handle classes: `Conv2D` holds a
// shared_ptr<Conv2DImpl>, forwards calls, and converts to LayerPtr.
template <class Impl>
class LayerHolder {
 public:
  explicit LayerHolder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  Impl* operator->() const { return impl_.get(); }
  Impl& operator*() const { return *impl_; }
  const std::shared_ptr<Impl>& ptr() const { return impl_; }
  operator std::shared_ptr<Layer>() const { return impl_; }  // NOLINT: implicit by design
  // Upcasts only (e.g. to ModelImpl): a holder does not claim to convert to an
  // unrelated impl, which would make braced lists of holders ambiguous.
  template <class Other>
    requires std::is_convertible_v<Impl*, Other*>
  operator std::shared_ptr<Other>() const {  // NOLINT: implicit by design
    return impl_;
  }

  KerasTensor operator()(const KerasTensor& x) const { return (*impl_)(x); }
  std::vector<KerasTensor> operator()(const std::vector<KerasTensor>& xs) const { return (*impl_)(xs); }
  Variable operator()(const Variable& x, const CallArgs& args = {}) const { return (*impl_)(x, args); }
  std::vector<Variable> operator()(const std::vector<Variable>& xs, const CallArgs& args = {}) const {
    return (*impl_)(xs, args);
  }
  KerasTensor operator()(std::initializer_list<KerasTensor> xs) const { return (*impl_)(xs); }
  Variable operator()(std::initializer_list<Variable> xs, const CallArgs& args = {}) const {
    return (*impl_)(xs, args);
  }
  Tensor operator()(const Tensor& x) const { return (*impl_)(x); }

 protected:
  std::shared_ptr<Impl> impl_;
};

// Keras's unique default names: "conv2d", "conv2d_1", ... per prefix, per process
// (zero_based = false counts from 1: "input_1", "input_2", as Keras 2 names inputs).
std::string unique_layer_name(const std::string& prefix, bool zero_based = true);
// "Conv2D" -> "conv2d", "MaxPooling2D" -> "max_pooling2d", "BatchNormalization" -> "batch_normalization".
std::string to_snake_case(const std::string& class_name);
// Resets all counters (tests use it to get Keras's first names again).
void reset_layer_names();

// Learning phase for concrete calls made outside fit (Keras's K.learning_phase()).
bool learning_phase();
void set_learning_phase(bool training);

}  // namespace minidl
