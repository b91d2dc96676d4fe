// layers/merge/operation_layers.cpp — OperationImpl: Keras 3's binary numpy operations (Add, Multiply,
// TrueDivide, ...) as layers with tensor or constant arguments, their constants read from and written
// to Keras's call arguments, and the keras_ops functions that record them.
#include "layers/merge/operation_layers.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "autograd/functions.h"
#include "core/errors.h"
#include "layers/base/json_text.h"
#include "layers/base/registry.h"

namespace minidl {

const char* operation_class_name(OperationKind kind) {
  switch (kind) {
    case OperationKind::kAdd: return "Add";
    case OperationKind::kSubtract: return "Subtract";
    case OperationKind::kMultiply: return "Multiply";
    case OperationKind::kDivide: return "Divide";
    case OperationKind::kTrueDivide: return "TrueDivide";
    case OperationKind::kMaximum: return "Maximum";
    case OperationKind::kMinimum: return "Minimum";
    case OperationKind::kPower: return "Power";
  }
  return "Operation";
}

namespace {

constexpr size_t kOperationArgs = 2;  // every operation here is binary

// Keras's broadcast_shapes (keras/src/ops/operation_utils.py) on two shapes, None as kNone.
// Returns the message of Keras's ValueError in `error` when they do not broadcast.
Shape keras_broadcast(const Shape& a, const Shape& b, std::string* error) {
  // Both padded with leading 1s to the longer rank.
  const size_t rank = std::max(a.size(), b.size());
  Shape s1(rank, 1), s2(rank, 1);
  std::copy(a.begin(), a.end(), s1.begin() + static_cast<std::ptrdiff_t>(rank - a.size()));
  std::copy(b.begin(), b.end(), s2.begin() + static_cast<std::ptrdiff_t>(rank - b.size()));
  Shape out = s1;
  for (size_t i = 0; i < s1.size(); ++i) {
    if (s1[i] == 1) {
      out[i] = s2[i];
    } else if (s1[i] == kNone) {
      out[i] = s2[i] == 1 ? kNone : s2[i];
    } else if (s2[i] != 1 && s2[i] != kNone && s2[i] != s1[i]) {
      *error = fmt::format(
          "Cannot broadcast shape, the failure dim has value {}, which cannot be broadcasted to {}. Input shapes "
          "are: {} and {}.",
          s1[i], s2[i], shape_str(a), shape_str(b));
      return {};
    }
  }
  return out;
}

// The shape of a nested JSON list of numbers (rectangular), or ValueError via `bad`.
template <class Bad>
void nested_shape(const json& v, Shape& shape, size_t depth, Bad bad) {
  if (!v.is_array()) {
    if (depth != shape.size()) bad("ragged nesting");
    return;
  }
  if (depth == shape.size()) {
    if (depth > 32) bad("more than 32 axes");
    shape.push_back(static_cast<int64_t>(v.size()));
  } else if (depth > shape.size() || shape[depth] != static_cast<int64_t>(v.size())) {
    bad("rows of different lengths");
  }
  for (const auto& e : v) nested_shape(e, shape, depth + 1, bad);
}

void flatten_numbers(const json& v, std::vector<float>& out) {
  if (v.is_array()) {
    for (const auto& e : v) flatten_numbers(e, out);
    return;
  }
  out.push_back(v.get<float>());
}

bool is_numeric(const json& v) {
  if (v.is_array()) {
    for (const auto& e : v)
      if (!is_numeric(e)) return false;
    return true;
  }
  return v.is_number();
}

json nested_values(const Tensor& t, size_t axis, int64_t& flat) {
  if (axis == t.shape().size()) return json(static_cast<double>(t[flat++]));
  json out = json::array();
  for (int64_t i = 0; i < t.shape()[axis]; ++i) out.push_back(nested_values(t, axis + 1, flat));
  return out;
}

// A constant's file form: a number for a scalar, a __numpy__ array otherwise (Keras's
// serialize_keras_object of a NumPy array).
json constant_config(const Tensor& t) {
  if (t.shape().empty()) return json(static_cast<double>(t[0]));
  int64_t flat = 0;
  return {{"class_name", "__numpy__"}, {"config", {{"value", nested_values(t, 0, flat)}, {"dtype", "float32"}}}};
}

// The arguments as one JSON list, null for a tensor (for messages).
json args_json(const std::vector<std::optional<json>>& args) {
  json out = json::array();
  for (const auto& a : args) out.push_back(a ? *a : json(nullptr));
  return out;
}

const std::set<std::string> kNumericDtypes = {"float16", "bfloat16", "float32", "float64", "int8",   "int16",
                                              "int32",   "int64",    "uint8",   "uint16",  "uint32", "uint64"};

}  // namespace

// ---------------------------------------------------------------------------
// OperationImpl

OperationImpl::OperationImpl(OperationKind kind, std::vector<std::optional<Tensor>> args, std::string name)
    : Layer(LayerOptions{.name = std::move(name)}, to_snake_case(operation_class_name(kind))), kind_(kind) {
  if (args.size() != kOperationArgs)
    fail("an operation takes exactly {} positional arguments, received {}", kOperationArgs, args.size());
  for (auto& a : args) {
    Arg arg;
    if (a) {
      if (!a->defined()) fail("a constant argument is an undefined Tensor");
      arg.is_tensor = false;
      arg.config = constant_config(*a);
      arg.constant = Variable(std::move(*a));
    }
    args_.push_back(std::move(arg));
  }
  if (tensor_count() == 0) fail("at least one argument must be a tensor; both are constants");
}

OperationImpl::OperationImpl(OperationKind kind, std::string name)
    : OperationImpl(kind, std::vector<std::optional<Tensor>>(kOperationArgs), std::move(name)) {}

size_t OperationImpl::tensor_count() const {
  size_t n = 0;
  for (const auto& a : args_) n += a.is_tensor ? 1 : 0;
  return n;
}

std::pair<Shape, Shape> OperationImpl::argument_shapes(const std::vector<Shape>& input_shapes) const {
  if (input_shapes.size() != tensor_count())
    fail("expected {} tensor argument(s), received {}", tensor_count(), input_shapes.size());
  Shape s[kOperationArgs];
  size_t next = 0;
  for (size_t i = 0; i < kOperationArgs; ++i)
    s[i] = args_[i].is_tensor ? input_shapes[next++] : args_[i].constant.shape();
  return {s[0], s[1]};
}

std::vector<Shape> OperationImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const auto [a, b] = argument_shapes(input_shapes);
  std::string error;
  Shape out = keras_broadcast(a, b, &error);
  if (!error.empty()) fail("{}", error);
  return {out};
}

Variable OperationImpl::compute(const Variable& x1, const Variable& x2) const {
  switch (kind_) {
    case OperationKind::kAdd: return autograd::add(x1, x2);
    case OperationKind::kSubtract: return autograd::sub(x1, x2);
    case OperationKind::kMultiply: return autograd::mul(x1, x2);
    case OperationKind::kDivide:
    case OperationKind::kTrueDivide: return autograd::div(x1, x2);
    case OperationKind::kMaximum: return autograd::maximum(x1, x2);
    case OperationKind::kMinimum: return autograd::minimum(x1, x2);
    case OperationKind::kPower: return autograd::pow(x1, x2);
  }
  fail("unknown operation");
}

VariableList OperationImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  if (inputs.size() != tensor_count())
    fail("expected {} tensor argument(s), received {}", tensor_count(), inputs.size());
  const Variable& x1 = args_[0].is_tensor ? inputs[0] : args_[0].constant;
  const Variable& x2 = args_[1].is_tensor ? inputs[args_[0].is_tensor ? 1 : 0] : args_[1].constant;
  try {
    return {compute(x1, x2)};
  } catch (const ValueError&) {
    // The kernels name the shapes; this names the layer and uses Keras's words.
    std::string error;
    keras_broadcast(x1.shape(), x2.shape(), &error);
    if (error.empty()) throw;
    fail("{}", error);
  }
}

std::vector<Tensor> OperationImpl::compute_mask(const std::vector<Variable>&, const std::vector<Tensor>&) {
  return {};
}

std::vector<std::optional<Shape>> OperationImpl::compute_mask_shape(const std::vector<Shape>&,
                                                                    const std::vector<std::optional<Shape>>&) {
  return {std::nullopt};
}

json OperationImpl::get_config() const { return {{"name", name()}}; }

std::shared_ptr<OperationImpl> OperationImpl::from_config(OperationKind kind, const json& config) {
  const std::string owner = std::string(operation_class_name(kind)) + " (operation)";
  MINIDL_CHECK(config.is_object(), ValueError, "{}: the config must be a JSON object, received {}", owner,
               json_preview(config));
  ConfigReader r(config, owner);
  r.check_keys({});
  return std::make_shared<OperationImpl>(kind, r.str("name", ""));
}

std::vector<std::optional<json>> OperationImpl::positional_args() const {
  std::vector<std::optional<json>> out;
  for (const auto& a : args_) out.push_back(a.is_tensor ? std::nullopt : std::optional<json>(a.config));
  return out;
}

OperationImpl::Arg OperationImpl::constant_arg(const json& c, const std::string& owner) {
  auto bad = [&](const std::string& why) {
    raise<ValueError>("{}: cannot read the constant argument {} ({}); expected a number or a __numpy__ / "
                      "__tensor__ array of numbers",
                      owner, json_preview(c), why);
  };
  Arg arg;
  arg.is_tensor = false;
  arg.config = c;
  if (c.is_number()) {
    arg.constant = Variable(Tensor::scalar(c.get<float>()));
    return arg;
  }
  const bool array_object = c.is_object() && c.contains("class_name") &&
                            (c["class_name"] == "__numpy__" || c["class_name"] == "__tensor__") &&
                            c.contains("config") && c["config"].is_object() && c["config"].contains("value");
  if (!array_object) bad("not a number or an array object");
  const json& cfg = c["config"];
  const json dtype = cfg.value("dtype", json("float32"));
  if (!dtype.is_string() || !kNumericDtypes.count(dtype.get<std::string>()))
    bad(fmt::format("dtype {} is not a real number type", json_preview(dtype)));
  const json& value = cfg["value"];
  if (!is_numeric(value)) bad("the value holds something other than numbers");
  Shape shape;
  nested_shape(value, shape, 0, bad);
  if (numel(shape) > kMaxConfigElements) bad("too many elements");
  std::vector<float> data;
  data.reserve(static_cast<size_t>(numel(shape)));
  flatten_numbers(value, data);
  arg.constant = Variable(Tensor::from_data(shape, data));
  return arg;
}

void OperationImpl::set_positional_args(const std::vector<std::optional<json>>& args) {
  if (args.size() != kOperationArgs)
    fail("an operation takes exactly {} positional arguments, received {}", kOperationArgs, args.size());
  std::vector<Arg> parsed;
  bool any_tensor = false;
  for (const auto& a : args) {
    if (!a) {
      parsed.emplace_back();
      any_tensor = true;
      continue;
    }
    parsed.push_back(constant_arg(*a, fmt::format("{} '{}'", class_name(), name())));
  }
  if (!any_tensor) fail("at least one argument must be a tensor; both are constants");
  if (args_set_from_config_ || built()) {
    // A second call of the same operation: minidl keeps one set of constants per layer.
    bool same = true;
    for (size_t i = 0; i < kOperationArgs; ++i)
      same = same && parsed[i].is_tensor == args_[i].is_tensor && parsed[i].config == args_[i].config;
    if (!same)
      fail("is called with different arguments in two of its nodes ({} and {}); minidl keeps one set of constant "
           "arguments per operation layer",
           json_preview(args_json(positional_args())), json_preview(args_json(args)));
    return;
  }
  args_ = std::move(parsed);
  args_set_from_config_ = true;
}

// ---------------------------------------------------------------------------
// keras_ops

namespace keras_ops {

Operand::Operand(double constant) : constant_(Tensor::scalar(static_cast<float>(constant))) {}

KerasTensor apply(OperationKind kind, const Operand& x1, const Operand& x2) {
  std::vector<std::optional<Tensor>> args;
  std::vector<KerasTensor> tensors;
  for (const Operand* x : {&x1, &x2}) {
    if (x->tensor_) {
      args.emplace_back(std::nullopt);
      tensors.push_back(*x->tensor_);
    } else {
      args.emplace_back(x->constant_);
    }
  }
  auto op = std::make_shared<OperationImpl>(kind, std::move(args));
  auto out = (*op)(tensors);
  return out.at(0);
}

}  // namespace keras_ops

namespace {

// Registered under "keras.src.ops.numpy.<Class>": the merge layers own the bare class names.
const bool registered = [] {
  for (OperationKind kind : {OperationKind::kAdd, OperationKind::kSubtract, OperationKind::kMultiply,
                             OperationKind::kDivide, OperationKind::kTrueDivide, OperationKind::kMaximum,
                             OperationKind::kMinimum, OperationKind::kPower})
    LayerRegistry::instance().add(std::string(kKerasNumpyOpsModule) + "." + operation_class_name(kind),
                                  [kind](const json& c) -> LayerPtr { return OperationImpl::from_config(kind, c); });
  return true;
}();

}  // namespace

}  // namespace minidl
