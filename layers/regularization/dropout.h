// layers/regularization/dropout.h — Dropout: zero a random fraction `rate` of the inputs while training.
//
//   auto drop = Dropout(0.5);
//   Variable y = drop(x, {.training = true});   // each element kept with p = 0.5, kept ones x2
//   Variable z = drop(x);                       // inference: z is x itself (no copy)
//
// Inverted dropout, as Keras: kept elements are scaled by 1 / (1 - rate) while
// training so inference is the identity. noise_shape (batch axis included,
// None entries taken from the input) shares one keep/drop decision along the
// axes where it is 1: noise_shape (None, 1, C) drops whole channels for all timesteps.
//
// Randomness: each training call draws its mask from a fast counter-based
// generator (splitmix64) keyed by one 64-bit value. Without a seed that key is
// drawn from the global generator (core/random.h), so set_random_seed(s) makes
// every mask of a run reproducible. With a seed, call k of the layer uses a key
// derived from (seed, k): the masks vary from call to call but repeat exactly
// in a new run, whatever the global seed. The mask for a given key does not
// depend on the thread count.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layers/base/layer.h"

namespace minidl {

struct DropoutOptions {
  std::optional<Shape> noise_shape{};  // full shape incl. batch; kNone = take the input's dimension
  std::optional<uint64_t> seed{};
  MINIDL_COMMON_LAYER_OPTIONS;
};

class DropoutImpl : public Layer {
 public:
  // ValueError unless 0 <= rate <= 1 ("Invalid value 1.5 received for `rate`,
  // expected a value between 0 and 1."). rate = 1 drops everything (output 0).
  explicit DropoutImpl(double rate, DropoutOptions o = {});
  std::string class_name() const override { return "Dropout"; }

  // Same shape. ValueError when noise_shape does not fit the input (rank
  // differs or a dimension is neither the input's nor 1).
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
  json get_config() const override;  // {"rate", "noise_shape", "seed"}
  // Reads "rate" (or Keras 1 "p"), "noise_shape" (null or a list with nulls) and "seed".
  static std::shared_ptr<DropoutImpl> from_config(const json& config);

  double rate() const { return rate_; }
  const std::optional<Shape>& noise_shape() const { return noise_shape_; }
  const std::optional<uint64_t>& seed() const { return seed_; }

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;

 private:
  // The noise shape for an input of shape `s` (s itself without noise_shape).
  Shape resolve_noise_shape(const Shape& s) const;

  double rate_;
  std::optional<Shape> noise_shape_;
  std::optional<uint64_t> seed_;
  std::atomic<uint64_t> seeded_calls_{0};  // generator position for a seeded layer, not per-call context
};

class Dropout : public LayerHolder<DropoutImpl> {
 public:
  explicit Dropout(double rate, DropoutOptions o = {})
      : LayerHolder(std::make_shared<DropoutImpl>(rate, std::move(o))) {}
  explicit Dropout(std::shared_ptr<DropoutImpl> p) : LayerHolder(std::move(p)) {}
};

// The keep mask Dropout uses, exposed for tests: a tensor of `shape` whose
// elements are 1 / (1 - rate) (kept) or 0 (dropped), drawn from `key`.
// Requires 0 <= rate <= 1; with rate == 1 every element is 0.
Tensor dropout_mask(const Shape& shape, double rate, uint64_t key);

}  // namespace minidl
