// train/losses.cpp — the Keras loss functions (train/losses.h).
#include "train/losses.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <map>

#include "autograd/functions.h"
#include "core/errors.h"
#include "ops/elementwise.h"

namespace minidl {

namespace ag = autograd;

namespace {

constexpr float kEpsilon = 1e-7f;  // Keras backend.epsilon()

// `loss` is a C string: a std::string parameter made each call allocate for
// names past the short-string buffer ("categorical_crossentropy").
void check_same_shape(const char* loss, const Variable& y_true, const Variable& y_pred) {
  MINIDL_CHECK(y_true.shape() == y_pred.shape(), ValueError,
               "{}: y_true and y_pred must have the same shape, received {} and {}", loss, shape_str(y_true.shape()),
               shape_str(y_pred.shape()));
  MINIDL_CHECK(y_pred.rank() >= 1, ValueError, "{}: predictions need a batch axis, received shape {}", loss,
               shape_str(y_pred.shape()));
}

// Mean over the last axis, keeping [N] for rank-1 inputs (one value per sample).
// The axes list is built once: a braced {-1} would allocate on every step.
const std::vector<int> kLastAxis{-1};
Variable mean_last(const Variable& v) { return v.rank() >= 2 ? ag::mean(v, kLastAxis) : v; }
Variable sum_last(const Variable& v) { return v.rank() >= 2 ? ag::sum(v, kLastAxis) : v; }

// Per-sample reduction down to [N] for ranks > 2 (Keras averages the remaining axes).
Variable to_per_sample(const Variable& v) {
  if (v.rank() <= 1) return v;
  std::vector<int> axes;
  for (int a = 1; a < v.rank(); ++a) axes.push_back(a);
  return ag::mean(v, axes);
}

// Keras (squeeze_or_expand_dimensions) lets targets differ from predictions by
// a trailing axis of 1: y_true (N,) against y_pred (N, 1), or (N, 1) against (N,).
Variable match_rank(const Variable& t, const Variable& p) {
  if (t.rank() + 1 == p.rank() && p.shape().back() == 1) {
    Shape s = t.shape();
    s.push_back(1);
    return ag::reshape(t, s);
  }
  if (t.rank() == p.rank() + 1 && t.shape().back() == 1) return ag::reshape(t, p.shape());
  return t;
}

class FunctionLoss : public Loss {
 public:
  using Fn = std::function<Variable(const Variable&, const Variable&)>;
  FunctionLoss(std::string name, std::string cls, Fn fn, json config = json::object())
      : name_(std::move(name)), cls_(std::move(cls)), fn_(std::move(fn)), config_(std::move(config)) {}
  std::string name() const override { return name_; }
  std::string class_name() const override { return cls_; }
  json get_config() const override {
    json c = config_;
    c["name"] = name_;
    c["reduction"] = "auto";
    return c;
  }
  Variable per_sample(const Variable& y_true, const Variable& y_pred) const override {
    MINIDL_CHECK(y_true.defined() && y_pred.defined(), ValueError, "{}: y_true and y_pred must be defined", name_);
    return to_per_sample(fn_(match_rank(y_true, y_pred), y_pred));
  }

 private:
  std::string name_, cls_;
  Fn fn_;
  json config_;
};

Variable mse(const Variable& t, const Variable& p) {
  check_same_shape("mean_squared_error", t, p);
  return mean_last(ag::square(p - t));
}

Variable mae(const Variable& t, const Variable& p) {
  check_same_shape("mean_absolute_error", t, p);
  return mean_last(ag::abs(p - t));
}

Variable bce(const Variable& t, const Variable& p, bool from_logits) {
  check_same_shape("binary_crossentropy", t, p);
  if (from_logits) {
    // softplus(x) - x*z equals TF's max(x, 0) - x*z + log1p(exp(-|x|)) and is as
    // stable, but its gradient sigmoid(x) - z is also right at x == 0, where
    // the max/abs subgradients would give 1 - z (an all-zero logit layer starts there).
    return mean_last(ag::softplus(p) - p * t);
  }
  Variable pc = ag::clip(p, kEpsilon, 1.f - kEpsilon);
  Variable one(Tensor::scalar(1.f));
  Variable v = t * ag::log(ag::add_scalar(pc, kEpsilon)) + (one - t) * ag::log(ag::add_scalar(one - pc, kEpsilon));
  return mean_last(-v);
}

Variable cce(const Variable& t, const Variable& p, bool from_logits) {
  check_same_shape("categorical_crossentropy", t, p);
  if (from_logits) return -sum_last(t * ag::log_softmax(p, -1));
  Variable norm = p / ag::sum(p, kLastAxis, true);
  return -sum_last(t * ag::log(ag::clip(norm, kEpsilon, 1.f - kEpsilon)));
}

// One-hot matrix [N, C] of integer labels (any shape with N*1 elements).
Tensor one_hot_labels(const Tensor& labels, int64_t n, int64_t classes) {
  MINIDL_CHECK(labels.numel() == n, ValueError,
               "sparse_categorical_crossentropy: expected {} integer labels (shape (N,) or (N, 1)), received shape {}",
               n, shape_str(labels.shape()));
  Tensor oh = Tensor::zeros({n, classes});
  for (int64_t i = 0; i < n; ++i) {
    const float l = labels[i];
    const int64_t c = static_cast<int64_t>(std::lround(l));
    MINIDL_CHECK(c >= 0 && c < classes && std::fabs(l - static_cast<float>(c)) < 1e-3f, ValueError,
                 "sparse_categorical_crossentropy: label {} at sample {} is not an integer in [0, {})", l, i, classes);
    oh[i * classes + c] = 1.f;
  }
  return oh;
}

Variable scce(const Variable& t, const Variable& p, bool from_logits) {
  MINIDL_CHECK(p.rank() >= 2, ValueError,
               "sparse_categorical_crossentropy: predictions must be (N, classes), received shape {}",
               shape_str(p.shape()));
  const int64_t classes = p.shape().back();
  const int64_t n = p.value().numel() / classes;
  Variable p2 = p.rank() == 2 ? p : ag::reshape(p, {n, classes});
  Variable oh(one_hot_labels(t.value(), n, classes));
  // TF: logits = log(clip(p)) (unless from_logits), then softmax cross-entropy on them.
  Variable logits = from_logits ? p2 : ag::log(ag::clip(p2, kEpsilon, 1.f - kEpsilon));
  Variable per = -ag::sum(oh * ag::log_softmax(logits, -1), kLastAxis);
  if (p.rank() == 2) return per;
  Shape s(p.shape().begin(), p.shape().end() - 1);
  return ag::reshape(per, s);
}

Variable hinge(const Variable& t, const Variable& p) {
  check_same_shape("hinge", t, p);
  // Keras maps {0, 1} labels to {-1, 1}.
  bool binary01 = true;
  for (float v : t.value().span()) binary01 = binary01 && (v == 0.f || v == 1.f);
  Variable tt = binary01 ? Variable(ops::add_scalar(ops::scale(t.value(), 2.f), -1.f)) : t;
  Variable zero(Tensor::scalar(0.f));
  return mean_last(ag::maximum(ag::add_scalar(-(tt * p), 1.f), zero));
}

Variable huber(const Variable& t, const Variable& p, float delta) {
  check_same_shape("huber_loss", t, p);
  Variable err = ag::abs(p - t);
  // 0.5 * min(|e|, d)^2 + d * (|e| - min(|e|, d)) equals the piecewise Huber form.
  Variable q = ag::minimum(err, Variable(Tensor::scalar(delta)));
  return mean_last(ag::mul_scalar(ag::square(q), 0.5f) + ag::mul_scalar(err - q, delta));
}

Variable kld(const Variable& t, const Variable& p) {
  check_same_shape("kl_divergence", t, p);
  Variable tc = ag::clip(t, kEpsilon, 1.f), pc = ag::clip(p, kEpsilon, 1.f);
  return sum_last(tc * ag::log(tc / pc));
}

struct LossEntryDef {
  std::string name, cls;
  FunctionLoss::Fn fn;
};

const std::map<std::string, LossEntryDef>& table() {
  static const std::map<std::string, LossEntryDef> t = [] {
    std::map<std::string, LossEntryDef> m;
    auto add = [&](std::vector<std::string> names, std::string cls, FunctionLoss::Fn fn) {
      for (const auto& n : names) m[n] = {names[0], cls, fn};
      m[cls] = {names[0], cls, fn};
    };
    add({"mean_squared_error", "mse", "MSE"}, "MeanSquaredError", mse);
    add({"mean_absolute_error", "mae", "MAE"}, "MeanAbsoluteError", mae);
    add({"binary_crossentropy"}, "BinaryCrossentropy", [](auto& t, auto& p) { return bce(t, p, false); });
    add({"categorical_crossentropy"}, "CategoricalCrossentropy", [](auto& t, auto& p) { return cce(t, p, false); });
    add({"sparse_categorical_crossentropy"}, "SparseCategoricalCrossentropy",
        [](auto& t, auto& p) { return scce(t, p, false); });
    add({"hinge"}, "Hinge", hinge);
    add({"huber_loss", "huber"}, "Huber", [](auto& t, auto& p) { return huber(t, p, 1.f); });
    add({"kl_divergence", "kld", "KLD", "kullback_leibler_divergence"}, "KLDivergence", kld);
    return m;
  }();
  return t;
}

}  // namespace

json Loss::get_config() const { return {{"name", name()}, {"reduction", "auto"}}; }

LossPtr get_loss(const std::string& id) {
  const auto& t = table();
  auto it = t.find(id);
  if (it == t.end()) {
    std::string known;
    for (const auto& [k, _] : t) known += (known.empty() ? "" : ", ") + k;
    raise<ValueError>("Unknown loss function: '{}'. Known losses: {}", id, known);
  }
  return std::make_shared<FunctionLoss>(it->second.name, it->second.cls, it->second.fn);
}

LossPtr BinaryCrossentropy(bool from_logits) {
  return std::make_shared<FunctionLoss>(
      "binary_crossentropy", "BinaryCrossentropy", [=](auto& t, auto& p) { return bce(t, p, from_logits); },
      json{{"from_logits", from_logits}, {"label_smoothing", 0}});
}

LossPtr CategoricalCrossentropy(bool from_logits) {
  return std::make_shared<FunctionLoss>(
      "categorical_crossentropy", "CategoricalCrossentropy", [=](auto& t, auto& p) { return cce(t, p, from_logits); },
      json{{"from_logits", from_logits}, {"label_smoothing", 0}});
}

LossPtr SparseCategoricalCrossentropy(bool from_logits) {
  return std::make_shared<FunctionLoss>(
      "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
      [=](auto& t, auto& p) { return scce(t, p, from_logits); }, json{{"from_logits", from_logits}});
}

LossPtr Huber(double delta) {
  return std::make_shared<FunctionLoss>(
      "huber_loss", "Huber", [=](auto& t, auto& p) { return huber(t, p, static_cast<float>(delta)); },
      json{{"delta", delta}});
}

}  // namespace minidl
