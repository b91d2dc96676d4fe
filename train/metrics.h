// train/metrics.h — Keras metrics: stateful means over the batches of an epoch.
//
// A Metric accumulates with update_state over the batches of an epoch and
// reports result(); the fit loop resets it at each epoch start. "accuracy" is
// resolved as tf.keras 2 does, from the shapes of the first batch it sees:
// binary_accuracy when y_pred's last axis is 1, sparse_categorical_accuracy
// when y_true has a lower rank than y_pred or a last axis of 1 against several
// classes, categorical_accuracy otherwise (whatever the loss).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>

#include "core/tensor.h"
#include "layers/parts/part_arg.h"

namespace minidl {

class Metric {
 public:
  virtual ~Metric() = default;
  // The name shown in logs ("accuracy", "mae", "top_k_categorical_accuracy").
  virtual const std::string& name() const = 0;
  // Adds one batch. sample_weight: [N] or undefined. ValueError on shape mismatch.
  virtual void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) = 0;
  virtual double result() const = 0;
  virtual void reset_state() = 0;
  // The Keras class of a metric object made with arguments (TopKCategoricalAccuracy, ...),
  // which model files save as {"class_name", "config"}; "" for a metric made from a name
  // ("accuracy", "mae"), which files save as that name.
  virtual std::string class_name() const { return ""; }
  // Keras's get_config of that class, e.g. {"name", "dtype": "float32", "k"}; {"name"} for a
  // metric made from a name.
  virtual nlohmann::json get_config() const;
};

using MetricPtr = std::shared_ptr<Metric>;

// `identifier` is a Keras metric name. "accuracy"/"acc" resolve from shapes on
// the first update (see above); `loss_name` is accepted for callers that pass
// it and not used. ValueError for an unknown name.
MetricPtr get_metric(const std::string& identifier, const std::string& loss_name = "");

// Keras's TopKCategoricalAccuracy / SparseTopKCategoricalAccuracy classes: a
// sample counts when its true class is among the k largest predictions (ties
// at the boundary count, as tf.nn.in_top_k). ValueError unless k >= 1; at
// update, ValueError for a label outside [0, classes).
MetricPtr TopKCategoricalAccuracy(int k = 5, const std::string& name = "top_k_categorical_accuracy");
MetricPtr SparseTopKCategoricalAccuracy(int k = 5, const std::string& name = "sparse_top_k_categorical_accuracy");

// A metric object from the {"class_name", "config"} Keras writes for one (Keras 3 adds
// "module" and "registered_name", which are ignored): TopKCategoricalAccuracy and
// SparseTopKCategoricalAccuracy with their k and name (Keras's defaults when absent).
// ValueError for another class, a k that is not a positive integer, or from_sorted_ids true
// (not supported).
MetricPtr metric_from_config(const nlohmann::json& class_and_config);

// A compile() argument: a metric name or a Metric object.
class MetricArg : public NameOrObject<Metric> {
 public:
  using NameOrObject::NameOrObject;
  MetricPtr resolve(const std::string& loss_name) const { return object_ ? object_ : get_metric(name_, loss_name); }
};

}  // namespace minidl
