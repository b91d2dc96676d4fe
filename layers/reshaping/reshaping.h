// layers/reshaping/reshaping.h — Flatten, Reshape and Permute: layers that only move data.
//
//   Flatten()            (N, 7, 7, 64) -> (N, 3136), channels-last order
//   Reshape({-1, 4})     (N, 12)       -> (N, 3, 4); one -1 is inferred
//   Permute({2, 1})      (N, 10, 64)   -> (N, 64, 10); 1-based, batch axis fixed
//
// None of them has weights or supports masking (a mask reaching them is a
// TypeError, as in tf.keras). Flatten and Reshape return views of the input
// (no copy); Permute copies through ops::permute.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/base/layer.h"

namespace minidl {

// ---------------------------------------------------------------------------
// Flatten

struct FlattenOptions {
  // "channels_last" (Keras's default) or "channels_first". With channels_first,
  // Flatten first moves axis 1 to the end — (N, C, H, W) is flattened in
  // (H, W, C) order — exactly as tf.keras does, so a following Dense sees the
  // same feature order for both formats.
  std::string data_format = "channels_last";
  MINIDL_COMMON_LAYER_OPTIONS;
};

class FlattenImpl : public Layer {
 public:
  // ValueError for a data_format other than the two above.
  explicit FlattenImpl(FlattenOptions o = {});
  std::string class_name() const override { return "Flatten"; }

  // (N, d1, ..., dk) -> (N, d1*...*dk), None when any di is None; (N,) -> (N, 1).
  // ValueError for a rank-0 input.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  json get_config() const override;  // {"data_format": ...}
  static std::shared_ptr<FlattenImpl> from_config(const json& config);

  const std::string& data_format() const { return data_format_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  std::string data_format_;
};

class Flatten : public LayerHolder<FlattenImpl> {
 public:
  explicit Flatten(FlattenOptions o = {}) : LayerHolder(std::make_shared<FlattenImpl>(std::move(o))) {}
  explicit Flatten(std::shared_ptr<FlattenImpl> p) : LayerHolder(std::move(p)) {}
};

// ---------------------------------------------------------------------------
// Reshape

struct ReshapeOptions {
  MINIDL_COMMON_LAYER_OPTIONS;
};

class ReshapeImpl : public Layer {
 public:
  // target_shape excludes the batch axis. ValueError when it holds more than one
  // -1 ("Can only specify one unknown dimension.") or a dimension < 1 other than -1.
  explicit ReshapeImpl(Shape target_shape, ReshapeOptions o = {});
  std::string class_name() const override { return "Reshape"; }

  // (N, ...) -> (N, *target_shape) with the -1 resolved. When a non-batch input
  // dimension is None the -1 stays None. ValueError "total size of the new array
  // must be unchanged" when the sizes disagree (naming both shapes).
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  json get_config() const override;  // {"target_shape": [...]}
  static std::shared_ptr<ReshapeImpl> from_config(const json& config);

  const Shape& target_shape() const { return target_shape_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  // target_shape_ with the -1 resolved for a per-sample input of `sample_shape`
  // (fully known). ValueError when the sizes cannot match.
  Shape resolve(const Shape& sample_shape, const Shape& full_input_shape) const;

  Shape target_shape_;
};

class Reshape : public LayerHolder<ReshapeImpl> {
 public:
  explicit Reshape(Shape target_shape, ReshapeOptions o = {})
      : LayerHolder(std::make_shared<ReshapeImpl>(std::move(target_shape), std::move(o))) {}
  explicit Reshape(std::shared_ptr<ReshapeImpl> p) : LayerHolder(std::move(p)) {}
};

// ---------------------------------------------------------------------------
// Permute

struct PermuteOptions {
  MINIDL_COMMON_LAYER_OPTIONS;
};

class PermuteImpl : public Layer {
 public:
  // dims: a permutation of 1..k (1-based, the batch axis 0 never moves).
  // ValueError otherwise ("Invalid permutation `dims` for Permute Layer ...").
  explicit PermuteImpl(std::vector<int> dims, PermuteOptions o = {});
  std::string class_name() const override { return "Permute"; }

  // out[i + 1] = in[dims[i]]. ValueError unless the input has rank len(dims) + 1.
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  json get_config() const override;  // {"dims": [...]}
  static std::shared_ptr<PermuteImpl> from_config(const json& config);

  const std::vector<int>& dims() const { return dims_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  void check_rank(const Shape& s) const;
  std::vector<int> dims_;
};

class Permute : public LayerHolder<PermuteImpl> {
 public:
  explicit Permute(std::vector<int> dims, PermuteOptions o = {})
      : LayerHolder(std::make_shared<PermuteImpl>(std::move(dims), std::move(o))) {}
  explicit Permute(std::shared_ptr<PermuteImpl> p) : LayerHolder(std::move(p)) {}
};

}  // namespace minidl
