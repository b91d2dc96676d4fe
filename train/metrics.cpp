// train/metrics.cpp — the Keras metrics (train/metrics.h).
#include "train/metrics.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/errors.h"

namespace minidl {

namespace {

// A weighted mean of per-sample values, the shape of every built-in metric
// (Keras's MeanMetricWrapper).
class MeanMetric : public Metric {
 public:
  // fn writes one value per sample into out (n values) from y_true, y_pred.
  using Fn = std::function<void(const Tensor& y_true, const Tensor& y_pred, std::vector<double>& out)>;
  MeanMetric(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  // A metric class with arguments: `arguments` are its config keys besides name and dtype.
  MeanMetric(std::string name, Fn fn, std::string class_name, nlohmann::json arguments)
      : name_(std::move(name)), fn_(std::move(fn)), class_name_(std::move(class_name)),
        arguments_(std::move(arguments)) {}

  const std::string& name() const override { return name_; }
  std::string class_name() const override { return class_name_; }
  nlohmann::json get_config() const override {
    if (class_name_.empty()) return Metric::get_config();
    nlohmann::json c = arguments_;
    c["name"] = name_;
    c["dtype"] = "float32";
    return c;
  }
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sw) override {
    MINIDL_CHECK(y_pred.rank() >= 1 && y_true.rank() >= 1 && y_true.dim(0) == y_pred.dim(0), ValueError,
                 "metric {}: y_true {} and y_pred {} disagree on the batch size", name_, shape_str(y_true.shape()),
                 shape_str(y_pred.shape()));
    values_.clear();
    fn_(y_true, y_pred, values_);
    MINIDL_CHECK(!sw.defined() || sw.numel() == static_cast<int64_t>(values_.size()), ValueError,
                 "metric {}: sample_weight {} does not give one weight per sample ({})", name_, shape_str(sw.shape()),
                 values_.size());
    for (size_t i = 0; i < values_.size(); ++i) {
      const double w = sw.defined() ? sw[static_cast<int64_t>(i)] : 1.0;
      total_ += w * values_[i];
      count_ += w;
    }
  }
  double result() const override { return count_ > 0 ? total_ / count_ : 0.0; }
  void reset_state() override { total_ = count_ = 0; }

 private:
  std::string name_;
  Fn fn_;
  std::string class_name_;
  nlohmann::json arguments_ = nlohmann::json::object();
  double total_ = 0, count_ = 0;
  std::vector<double> values_;
};

int64_t rows(const Tensor& t) { return t.dim(0); }
int64_t cols(const Tensor& t) { return t.dim(0) ? t.numel() / t.dim(0) : 0; }

int64_t argmax_row(const Tensor& t, int64_t i) {
  const int64_t c = cols(t);
  const float* r = t.data() + i * c;
  return std::max_element(r, r + c) - r;
}

void check_same_size(const std::string& name, const Tensor& a, const Tensor& b) {
  MINIDL_CHECK(a.numel() == b.numel(), ValueError, "metric {}: y_true {} and y_pred {} have different sizes", name,
               shape_str(a.shape()), shape_str(b.shape()));
}

MeanMetric::Fn categorical_accuracy(const std::string& name) {
  return [name](const Tensor& t, const Tensor& p, std::vector<double>& out) {
    check_same_size(name, t, p);
    for (int64_t i = 0; i < rows(p); ++i) out.push_back(argmax_row(t, i) == argmax_row(p, i) ? 1.0 : 0.0);
  };
}

MeanMetric::Fn sparse_categorical_accuracy(const std::string& name) {
  return [name](const Tensor& t, const Tensor& p, std::vector<double>& out) {
    MINIDL_CHECK(t.numel() == rows(p), ValueError, "metric {}: expected one integer label per sample, got y_true {}",
                 name, shape_str(t.shape()));
    for (int64_t i = 0; i < rows(p); ++i)
      out.push_back(std::lround(t[i]) == argmax_row(p, i) ? 1.0 : 0.0);
  };
}

MeanMetric::Fn binary_accuracy(const std::string& name, float threshold = 0.5f) {
  return [name, threshold](const Tensor& t, const Tensor& p, std::vector<double>& out) {
    check_same_size(name, t, p);
    const int64_t c = cols(p);
    for (int64_t i = 0; i < rows(p); ++i) {
      double s = 0;
      for (int64_t j = 0; j < c; ++j) s += (p[i * c + j] > threshold ? 1.f : 0.f) == t[i * c + j] ? 1 : 0;
      out.push_back(c ? s / static_cast<double>(c) : 0);
    }
  };
}

MeanMetric::Fn top_k(const std::string& name, int k, bool sparse) {
  return [name, k, sparse](const Tensor& t, const Tensor& p, std::vector<double>& out) {
    const int64_t c = cols(p);
    if (sparse) {
      MINIDL_CHECK(t.numel() == rows(p), ValueError,
                   "metric {}: expected one integer label per sample, got y_true {} for y_pred {}", name,
                   shape_str(t.shape()), shape_str(p.shape()));
    } else {
      check_same_size(name, t, p);
    }
    for (int64_t i = 0; i < rows(p); ++i) {
      const int64_t label = sparse ? std::lround(t[i]) : argmax_row(t, i);
      MINIDL_CHECK(label >= 0 && label < c, ValueError, "metric {}: label {} of sample {} is not in [0, {})", name,
                   t[i], i, c);
      const float v = p[i * c + label];
      int64_t greater = 0;
      for (int64_t j = 0; j < c; ++j) greater += p[i * c + j] > v;
      out.push_back(greater < k ? 1.0 : 0.0);
    }
  };
}

MeanMetric::Fn elementwise_mean(const std::string& name, double (*f)(double)) {
  return [name, f](const Tensor& t, const Tensor& p, std::vector<double>& out) {
    check_same_size(name, t, p);
    const int64_t c = cols(p);
    for (int64_t i = 0; i < rows(p); ++i) {
      double s = 0;
      for (int64_t j = 0; j < c; ++j) s += f(static_cast<double>(p[i * c + j]) - t[i * c + j]);
      out.push_back(c ? s / static_cast<double>(c) : 0);
    }
  };
}

// "accuracy" / "acc": tf.keras 2 picks the variant from the shapes of the
// first batch it sees (compile_utils), not from the loss: binary when y_pred's
// last axis is 1, sparse when y_true has lower rank or a last axis of 1 against
// several classes, categorical otherwise. The choice then stays fixed.
class AutoAccuracy : public Metric {
 public:
  explicit AutoAccuracy(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sw) override {
    if (!inner_) {
      MINIDL_CHECK(y_pred.rank() >= 1 && y_true.rank() >= 1, ValueError,
                   "metric {}: y_true {} and y_pred {} need a batch axis", name_, shape_str(y_true.shape()),
                   shape_str(y_pred.shape()));
      const int64_t t_last = y_true.shape().back(), p_last = y_pred.shape().back();
      if (p_last == 1) {
        inner_ = std::make_shared<MeanMetric>(name_, binary_accuracy(name_));
      } else if (y_true.rank() < y_pred.rank() || (t_last == 1 && p_last > 1)) {
        inner_ = std::make_shared<MeanMetric>(name_, sparse_categorical_accuracy(name_));
      } else {
        inner_ = std::make_shared<MeanMetric>(name_, categorical_accuracy(name_));
      }
    }
    inner_->update_state(y_true, y_pred, sw);
  }
  double result() const override { return inner_ ? inner_->result() : 0.0; }
  void reset_state() override {
    if (inner_) inner_->reset_state();
  }

 private:
  std::string name_;
  MetricPtr inner_;
};

}  // namespace

MetricPtr TopKCategoricalAccuracy(int k, const std::string& name) {
  MINIDL_CHECK(k >= 1, ValueError, "TopKCategoricalAccuracy: k must be >= 1, received {}", k);
  return std::make_shared<MeanMetric>(name, top_k(name, k, false), "TopKCategoricalAccuracy", nlohmann::json{{"k", k}});
}

MetricPtr SparseTopKCategoricalAccuracy(int k, const std::string& name) {
  MINIDL_CHECK(k >= 1, ValueError, "SparseTopKCategoricalAccuracy: k must be >= 1, received {}", k);
  return std::make_shared<MeanMetric>(name, top_k(name, k, true), "SparseTopKCategoricalAccuracy",
                                      nlohmann::json{{"k", k}});
}

MetricPtr metric_from_config(const nlohmann::json& cc) {
  const bool shaped = cc.is_object() && cc.contains("class_name") && cc["class_name"].is_string();
  MINIDL_CHECK(shaped, ValueError, "metric: expected {{\"class_name\": ..., \"config\": {{...}}}}, received {}",
               cc.dump().substr(0, 200));
  const std::string cls = cc["class_name"].get<std::string>();
  const bool sparse = cls == "SparseTopKCategoricalAccuracy";
  MINIDL_CHECK(sparse || cls == "TopKCategoricalAccuracy", ValueError,
               "metric class '{}' is not supported as an object (known: TopKCategoricalAccuracy, "
               "SparseTopKCategoricalAccuracy)",
               cls);
  const nlohmann::json c = cc.contains("config") && cc["config"].is_object() ? cc["config"] : nlohmann::json::object();
  std::string name = sparse ? "sparse_top_k_categorical_accuracy" : "top_k_categorical_accuracy";
  if (c.contains("name")) {
    MINIDL_CHECK(c["name"].is_string(), ValueError, "{}: name must be a string, received {}", cls, c["name"].dump());
    name = c["name"].get<std::string>();
  }
  int k = 5;
  if (c.contains("k")) {
    const nlohmann::json& v = c["k"];
    MINIDL_CHECK(v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= (int64_t{1} << 30), ValueError,
                 "{}: k must be a positive integer, received {}", cls, v.dump());
    k = static_cast<int>(v.get<int64_t>());
  }
  MINIDL_CHECK(!c.contains("from_sorted_ids") || c["from_sorted_ids"] == false, ValueError,
               "{}: from_sorted_ids=True is not supported", cls);
  return sparse ? SparseTopKCategoricalAccuracy(k, name) : TopKCategoricalAccuracy(k, name);
}

MetricPtr get_metric(const std::string& id, const std::string& /*loss_name*/) {
  if (id == "accuracy" || id == "acc") return std::make_shared<AutoAccuracy>(id);
  if (id == "categorical_accuracy") return std::make_shared<MeanMetric>(id, categorical_accuracy(id));
  if (id == "sparse_categorical_accuracy") return std::make_shared<MeanMetric>(id, sparse_categorical_accuracy(id));
  if (id == "binary_accuracy") return std::make_shared<MeanMetric>(id, binary_accuracy(id));
  if (id == "top_k_categorical_accuracy") return std::make_shared<MeanMetric>(id, top_k(id, 5, false));
  if (id == "sparse_top_k_categorical_accuracy") return std::make_shared<MeanMetric>(id, top_k(id, 5, true));
  if (id == "mse" || id == "mean_squared_error")
    return std::make_shared<MeanMetric>(id, elementwise_mean(id, [](double d) { return d * d; }));
  if (id == "mae" || id == "mean_absolute_error")
    return std::make_shared<MeanMetric>(id, elementwise_mean(id, [](double d) { return std::fabs(d); }));
  raise<ValueError>(
      "Unknown metric function: '{}'. Known metrics: accuracy, acc, categorical_accuracy, "
      "sparse_categorical_accuracy, binary_accuracy, top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, "
      "mse, mae",
      id);
}

nlohmann::json Metric::get_config() const { return {{"name", name()}}; }

}  // namespace minidl
