// layers/preprocessing/normalization.h — Normalization: (x - mean) / sqrt(variance), per kept axis.
//
//   auto norm = Normalization({.axis = -1});          // one mean/variance per feature of the last axis
//   norm->adapt(x_train);                              // mean and variance of the data
//   KerasTensor y = norm(Input({8}));
//
//   Normalization({.mean = {0.485, 0.456, 0.406}, .variance = {0.052, 0.050, 0.051}})   // given values
//   Normalization({.axis = std::nullopt})             // one scalar mean/variance for everything
//   Normalization({.axis = {-1}, .invert = true})      // undoes a normalization: mean + x * sqrt(variance)
//
// keras.layers.Normalization (tf.keras 2: keras.layers.experimental.preprocessing.Normalization,
// the same class name in configs). `axis` lists the axes that keep a separate
// mean and variance per index (their sizes must be known at build); the other
// axes are reduced over. The output is
//     (x - mean) / max(sqrt(variance), 1e-7)         or, with invert,
//     mean + x * max(sqrt(variance), 1e-7)
// in float32, 1e-7 being Keras's backend.epsilon().
//
// Without `mean`/`variance` the layer has three non-trainable weights, created
// at build as Keras creates them: "mean" (zeros) and "variance" (ones) of the
// kept axes' shape, and "count" (shape (), 0). Keras stores count as an
// integer and never reads it; minidl keeps it as a float32 weight so that
// files list the same three weights in the same order. With `mean`/`variance`
// given there are no weights: the values are aligned with the kept axes from
// the right and broadcast to them (a scalar fills them all).
//
// adapt() computes the mean and the population variance of data (one tensor,
// or a list of batches combined as Keras combines them), in double precision.
// The gradient with respect to the input is g / max(sqrt(variance), 1e-7)
// (g times it with invert). Masks pass through.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layers/base/layer.h"
#include "layers/preprocessing/array_arg.h"

namespace minidl {

// Normalization's axis argument: an int, a list of ints, or None (std::nullopt, the empty list).
struct NormalizationAxis {
  NormalizationAxis(int axis) : axes{axis} {}  // NOLINT: implicit, as Keras takes an int
  NormalizationAxis(std::initializer_list<int> list) : axes(list) {}
  NormalizationAxis(std::vector<int> list) : axes(std::move(list)) {}  // NOLINT
  NormalizationAxis(std::nullopt_t) {}  // NOLINT: None
  std::vector<int> axes;
};

struct NormalizationOptions {
  NormalizationAxis axis = -1;
  ArrayArg mean{};      // None unless given; must come with variance
  ArrayArg variance{};
  bool invert = false;
  MINIDL_COMMON_LAYER_OPTIONS;
};

class NormalizationImpl : public Layer {
 public:
  // ValueError (Keras's messages, naming the layer) when only one of mean and
  // variance is given, when their shapes differ, or when mean has more axes
  // than `axis` lists.
  explicit NormalizationImpl(NormalizationOptions o = {});
  std::string class_name() const override { return "Normalization"; }

  // The input shape. ValueError for axes out of range, unknown kept sizes, or
  // an input the mean and variance do not broadcast to.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  json get_config() const override;  // {"axis": [...], "invert": ..., "mean": ..., "variance": ...}
  // Keras 2 and 3 configs (axis as an int, a list or null). ValueError for an unknown key.
  static std::shared_ptr<NormalizationImpl> from_config(const json& config);

  // Sets the "mean" and "variance" weights to the mean and population variance
  // of `data` over the reduced axes (its whole shape, batch axis included, is
  // what builds an unbuilt layer, as in Keras). ValueError when the layer was
  // given mean and variance, when data's kept axes differ from those it was built with.
  void adapt(const Tensor& data);
  // The same over batches (Keras's adapt on a dataset or an iterable of
  // batches): running mean and variance, combined batch by batch. ValueError for
  // an empty list or a batch of an incompatible shape.
  void adapt(const std::vector<Tensor>& batches);

  const std::vector<int>& axis() const { return axis_; }
  bool invert() const { return invert_; }
  const ArrayArg& mean_arg() const { return mean_arg_; }
  const ArrayArg& variance_arg() const { return variance_arg_; }
  // The mean and variance in use, in the broadcast shape (input rank, 1 on the
  // reduced axes). ValueError before the layer is built.
  Tensor mean() const;
  Tensor variance() const;

 protected:
  void build(const std::vector<Shape>& input_shapes) override;
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  // The sorted non-negative kept axes for an input of `s`; Keras's range and
  // known-size errors. Sets nothing.
  std::vector<int> keep_axes(const Shape& s) const;
  // The axes' python tuple, "(-1,)".
  std::string axis_str() const;
  void check_broadcast(const Shape& x) const;
  void check_adapt_shape(const Shape& data) const;
  // The divisor max(sqrt(variance), 1e-7) for the current variance.
  Tensor denominator() const;

  std::vector<int> axis_;
  bool invert_;
  ArrayArg mean_arg_;
  ArrayArg variance_arg_;

  // Set by build.
  Shape build_input_shape_;
  std::vector<int> keep_;
  Shape broadcast_shape_;       // input rank, the kept sizes, 1 elsewhere
  Variable adapt_mean_;         // weights, when mean/variance are not given
  Variable adapt_variance_;
  Variable count_;
  Tensor given_mean_;           // broadcast constants, when they are
  Tensor given_variance_;
  Tensor given_denominator_;
};

class Normalization : public LayerHolder<NormalizationImpl> {
 public:
  explicit Normalization(NormalizationOptions o = {})
      : LayerHolder(std::make_shared<NormalizationImpl>(std::move(o))) {}
  explicit Normalization(std::shared_ptr<NormalizationImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
