// train/losses.h — Keras loss functions.
//
// A Loss maps (y_true, y_pred) to one loss value per sample, shape [N]
// (Keras's loss functions before reduction). The fit loop reduces them the way
// Keras's default SUM_OVER_BATCH_SIZE does — sum(sample_weight * loss) / N —
// and adds sum(model.losses()) (regularization) on top.
//
//   auto loss = get_loss("sparse_categorical_crossentropy");
//   Variable per_sample = loss->per_sample(y_true, y_pred);     // [N]
//
// Formulas and defaults are Keras's (tf.keras 2): predictions are clipped to
// [eps, 1 - eps] with eps = 1e-7 for the probability-based losses unless
// from_logits; mean over the last axis for the elementwise losses.
#pragma once

#include <memory>
#include <string>

#include "autograd/variable.h"
#include "layers/parts/keras_object.h"
#include "layers/parts/part_arg.h"

namespace minidl {

// class_name() is the Keras class name, e.g. "CategoricalCrossentropy", and
// get_config() its config (for training_config).
class Loss : public KerasObject {
 public:
  // Keras function name, e.g. "categorical_crossentropy" (what History and the progress bar show as "loss").
  virtual std::string name() const = 0;
  json get_config() const override;
  // Per-sample losses, shape [N]. ValueError naming both shapes when they are incompatible.
  virtual Variable per_sample(const Variable& y_true, const Variable& y_pred) const = 0;
};

using LossPtr = std::shared_ptr<Loss>;

// By Keras name ("mse", "mean_squared_error", "categorical_crossentropy", ...) or
// class name; ValueError for an unknown one, listing the known names.
LossPtr get_loss(const std::string& identifier);

// Loss objects with arguments (Keras's loss classes).
LossPtr BinaryCrossentropy(bool from_logits = false);
LossPtr CategoricalCrossentropy(bool from_logits = false);
LossPtr SparseCategoricalCrossentropy(bool from_logits = false);
LossPtr Huber(double delta = 1.0);

// A compile() argument: a name or a Loss object.
class LossArg : public NameOrObject<Loss> {
 public:
  using NameOrObject::NameOrObject;
  LossPtr resolve() const { return object_ ? object_ : get_loss(name_); }
};

}  // namespace minidl
