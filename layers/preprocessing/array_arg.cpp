// layers/preprocessing/array_arg.cpp — reading, writing and printing ArrayArg values.
#include "layers/preprocessing/array_arg.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "core/errors.h"
#include "layers/base/config_utils.h"
#include "layers/base/json_text.h"

namespace minidl {
namespace {

using json = nlohmann::json;

// Walks nested lists: the first path down fixes the shape, every other branch must agree.
class NestedReader {
 public:
  NestedReader(const std::string& owner, const std::string& key, const json& whole)
      : owner_(owner), key_(key), whole_(whole) {}

  void read(const json& j, size_t depth) {
    if (j.is_array()) {
      if (depth == shape_.size() && !shape_fixed_) shape_.push_back(static_cast<int64_t>(j.size()));
      if (depth >= shape_.size() || shape_[depth] != static_cast<int64_t>(j.size())) ragged();
      if (j.empty()) shape_fixed_ = true;
      for (const auto& e : j) read(e, depth + 1);
      return;
    }
    if (!j.is_number()) bad();
    shape_fixed_ = true;
    if (depth != shape_.size()) ragged();
    if (static_cast<int64_t>(values_.size()) >= kMaxConfigElements) bad();
    integral_ = integral_ && (j.is_number_integer() || j.is_number_unsigned());
    values_.push_back(j.get<double>());
  }

  Shape shape_;
  std::vector<double> values_;
  bool integral_ = true;

 private:
  [[noreturn]] void bad() const {
    raise<ValueError>("{}: `{}` must be a number or a (nested) list of numbers, received {}", owner_, key_,
                      json_preview(whole_));
  }
  [[noreturn]] void ragged() const {
    raise<ValueError>("{}: `{}` must be a rectangular (nested) list of numbers, received {}", owner_, key_,
                      json_preview(whole_));
  }

  const std::string& owner_;
  const std::string& key_;
  const json& whole_;
  bool shape_fixed_ = false;
};

std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

ArrayArg::ArrayArg(double value) : present_(true), values_{value} {}

ArrayArg::ArrayArg(int value) : present_(true), values_{static_cast<double>(value)}, integral_(true) {}

ArrayArg::ArrayArg(std::initializer_list<double> values) : ArrayArg(std::vector<double>(values)) {}

ArrayArg::ArrayArg(std::vector<double> values)
    : present_(true), shape_{static_cast<int64_t>(values.size())}, values_(std::move(values)) {}

ArrayArg::ArrayArg(Shape shape, std::vector<double> values)
    : present_(true), shape_(std::move(shape)), values_(std::move(values)) {
  MINIDL_CHECK(numel(shape_) == static_cast<int64_t>(values_.size()), ValueError,
               "ArrayArg: shape {} holds {} value(s), received {}", shape_str(shape_), numel(shape_), values_.size());
}

ArrayArg::ArrayArg(const Tensor& value) : present_(true), shape_(value.shape()), wrapper_dtype_("float32") {
  MINIDL_CHECK(value.defined(), ValueError, "ArrayArg: received an undefined Tensor");
  values_.assign(value.span().begin(), value.span().end());
  // A 0-d array is written as a plain number, as Keras serializes NumPy scalars.
  if (!shape_.empty()) wrapper_ = "__numpy__";
}

ArrayArg ArrayArg::from_json(const json& j, const std::string& owner, const std::string& key) {
  ArrayArg a;
  if (j.is_null()) return a;
  const json* value = &j;
  if (j.is_object()) {
    const std::string cls = j.value("class_name", std::string());
    if ((cls != "__numpy__" && cls != "__tensor__") || !j.contains("config") || !j["config"].is_object() ||
        !j["config"].contains("value"))
      raise<ValueError>("{}: `{}` must be a number, a list of numbers or a serialized array, received {}", owner, key,
                        json_preview(j));
    a.wrapper_ = cls;
    const json& dt = j["config"].value("dtype", json("float32"));
    a.wrapper_dtype_ = dt.is_string() ? dt.get<std::string>() : "float32";
    value = &j["config"]["value"];
  }
  NestedReader r(owner, key, j);
  r.read(*value, 0);
  a.present_ = true;
  a.shape_ = std::move(r.shape_);
  a.values_ = std::move(r.values_);
  a.integral_ = r.integral_ && a.wrapper_.empty();
  return a;
}

json ArrayArg::to_json() const {
  json value = to_plain_json();
  if (!present_ || wrapper_.empty()) return value;
  return {{"class_name", wrapper_}, {"config", {{"value", std::move(value)}, {"dtype", wrapper_dtype_}}}};
}

json ArrayArg::to_plain_json() const {
  if (!present_) return nullptr;
  auto number = [&](double v) -> json {
    if (integral_ && std::abs(v) < 9.0e15) return static_cast<int64_t>(v);
    return v;
  };
  // Builds nested lists axis by axis, from the innermost one out.
  std::vector<json> level;
  for (double v : values_) level.push_back(number(v));
  for (size_t axis = shape_.size(); axis-- > 0;) {
    const size_t n = static_cast<size_t>(shape_[axis]);
    std::vector<json> outer;
    const size_t groups = n == 0 ? 0 : level.size() / n;
    for (size_t g = 0; g < groups; ++g) {
      json arr = json::array();
      for (size_t k = 0; k < n; ++k) arr.push_back(std::move(level[g * n + k]));
      outer.push_back(std::move(arr));
    }
    if (n == 0) outer.assign(static_cast<size_t>(numel(Shape(shape_.begin(), shape_.begin() + axis))), json::array());
    level = std::move(outer);
  }
  return level.empty() ? json::array() : std::move(level.front());
}

Tensor ArrayArg::to_tensor() const { return to_tensor(shape_); }

Tensor ArrayArg::to_tensor(const Shape& shape) const {
  MINIDL_CHECK(present_, ValueError, "ArrayArg: the value is None");
  MINIDL_CHECK(numel(shape) == static_cast<int64_t>(values_.size()), ValueError,
               "ArrayArg: cannot view {} value(s) as shape {}", values_.size(), shape_str(shape));
  Tensor t = Tensor::empty(shape);
  float* p = t.data();
  for (double v : values_) *p++ = static_cast<float>(v);
  return t;
}

std::string ArrayArg::repr() const {
  if (!present_) return "None";
  auto item = [&](double v) { return integral_ ? fmt::format("{}", static_cast<int64_t>(v)) : python_float(v); };
  if (shape_.empty()) return item(values_.empty() ? 0.0 : values_[0]);
  // Nested brackets: open one per axis whose index is 0, close one per axis that ends.
  std::string s;
  std::vector<int64_t> idx(shape_.size(), 0);
  for (size_t flat = 0; flat < values_.size(); ++flat) {
    size_t opening = 0;
    for (size_t k = shape_.size(); k-- > 0 && idx[k] == 0;) ++opening;
    if (flat > 0) s += ", ";
    s.append(opening, '[');
    s += item(values_[flat]);
    size_t closing = 0;
    for (size_t k = shape_.size(); k-- > 0;) {
      if (++idx[k] < shape_[k]) break;
      idx[k] = 0;
      ++closing;
    }
    s.append(closing, ']');
  }
  if (values_.empty()) s = std::string(shape_.size(), '[') + std::string(shape_.size(), ']');
  return s;
}

std::string python_tuple(const std::vector<int64_t>& values) {
  std::string s = "(";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + std::to_string(values[i]);
  if (values.size() == 1) s += ",";
  return s + ")";
}

bool broadcasts_into(const Shape& c, const Shape& x) {
  if (c.size() > x.size()) return false;
  for (size_t k = 1; k <= c.size(); ++k) {
    const int64_t cd = c[c.size() - k], xd = x[x.size() - k];
    if (cd != 1 && xd != kNone && cd != xd) return false;
  }
  return true;
}

}  // namespace minidl
