// layers/parts/initializers.h — Keras weight initializers.
//
// An Initializer turns a weight shape into a new Tensor of starting values,
// with Keras's formulas and defaults:
//
//   auto init = get_initializer("he_normal");           // by Keras name
//   Tensor k = (*init)({3, 3, 16, 32});                  // a Conv2D kernel, HWIO
//   json j = serialize_initializer(init);                // {"class_name": "HeNormal", "config": {"seed": null}}
//
// The variance-scaling family uses the fans of the shape as Keras's
// `_compute_fans` does (see compute_fans). Random initializers draw from the
// global generator (core/random.h) unless constructed with a seed; a seeded
// initializer uses its own generator, restarted on every call, so it returns
// the same values each time (as tf.keras 2 seeded initializers do).
//
// Layers take an InitializerArg in their options struct, which accepts a name,
// an initializer object or a shared pointer:
//   Dense(10, {.kernel_initializer = "he_normal"});
//   Dense(10, {.kernel_initializer = RandomNormal(0.0, 0.01)});
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/shape.h"
#include "core/tensor.h"
#include "layers/parts/keras_object.h"
#include "layers/parts/part_arg.h"

namespace minidl {

// Which axes of a weight shape hold its input units, or its output units
// (Keras 3.15's `input_axes` / `output_axes`); unset = Keras's default rule.
using FanAxes = std::optional<std::vector<int64_t>>;

// Keras's fan computation for a weight shape. When both input_axes and
// output_axes are given: fan_in = prod(shape[a] for a in input_axes), fan_out
// likewise (a negative axis counts from the end, an empty list gives 1).
// Otherwise (either one unset, as in Keras) the default rule:
//   rank 0 -> (1, 1); rank 1 -> (shape[0], shape[0]); rank 2 -> (shape[0], shape[1]);
//   rank >= 3 (conv kernels, HWIO) -> receptive = prod(shape[:-2]),
//   (shape[-2] * receptive, shape[-1] * receptive).
// ValueError for an unknown dimension, or an axis outside [-rank, rank).
struct Fans {
  double fan_in = 1, fan_out = 1;
};
Fans compute_fans(const Shape& shape, const FanAxes& input_axes = std::nullopt,
                  const FanAxes& output_axes = std::nullopt);

class Initializer : public KerasObject {
 public:
  // A new tensor of `shape` (fully defined; ValueError otherwise, or when the
  // initializer cannot produce that shape, e.g. Identity of rank 3).
  virtual Tensor operator()(const Shape& shape) const = 0;
  // A copy of this initializer.
  virtual std::shared_ptr<Initializer> clone() const = 0;
};

// Zeros and Ones: a Keras class name and the value every element gets.
struct FillPreset {
  const char* class_name;
  float value;
};

// Every element preset.value; config {}.
template <const FillPreset& preset>
class PresetFill : public Initializer {
 public:
  std::string class_name() const override { return preset.class_name; }
  json get_config() const override;  // {}
  Tensor operator()(const Shape& shape) const override { return Tensor::full(shape, preset.value); }
  std::shared_ptr<Initializer> clone() const override { return std::make_shared<PresetFill>(*this); }
};

inline constexpr FillPreset kZeros{"Zeros", 0.f};
inline constexpr FillPreset kOnes{"Ones", 1.f};
using Zeros = PresetFill<kZeros>;
using Ones = PresetFill<kOnes>;
// Instantiated, with get_config, in initializers.cpp.
extern template class PresetFill<kZeros>;
extern template class PresetFill<kOnes>;

class Constant : public Initializer {
 public:
  explicit Constant(double value = 0.0) : value_(value) {}
  std::string class_name() const override { return "Constant"; }
  json get_config() const override;
  Tensor operator()(const Shape& shape) const override;
  std::shared_ptr<Initializer> clone() const override { return std::make_shared<Constant>(*this); }
  double value() const { return value_; }

 private:
  double value_;
};

// U[minval, maxval). ValueError if minval > maxval.
class RandomUniform : public Initializer {
 public:
  explicit RandomUniform(double minval = -0.05, double maxval = 0.05, std::optional<uint64_t> seed = std::nullopt);
  std::string class_name() const override { return "RandomUniform"; }
  json get_config() const override;
  Tensor operator()(const Shape& shape) const override;
  std::shared_ptr<Initializer> clone() const override { return std::make_shared<RandomUniform>(*this); }

 private:
  double minval_, maxval_;
  std::optional<uint64_t> seed_;
};

// What RandomNormal and TruncatedNormal share: draws from N(mean, stddev),
// redrawn when `truncated` and farther than 2 stddev from the mean (stddev is
// that of the normal before truncation, as in TensorFlow). Config {"mean",
// "stddev", "seed"}. ValueError if stddev < 0.
class NormalInitializer : public Initializer {
 public:
  std::string class_name() const override { return class_name_; }
  json get_config() const override;
  Tensor operator()(const Shape& shape) const override;

 protected:
  NormalInitializer(const char* class_name, bool truncated, double mean, double stddev, std::optional<uint64_t> seed);

 private:
  const char* class_name_;
  bool truncated_;
  double mean_, stddev_;
  std::optional<uint64_t> seed_;
};

// N(mean, stddev).
class RandomNormal : public NormalInitializer {
 public:
  explicit RandomNormal(double mean = 0.0, double stddev = 0.05, std::optional<uint64_t> seed = std::nullopt)
      : NormalInitializer("RandomNormal", false, mean, stddev, seed) {}
  std::shared_ptr<Initializer> clone() const override { return std::make_shared<RandomNormal>(*this); }
};

// N(mean, stddev), truncated to 2 stddev.
class TruncatedNormal : public NormalInitializer {
 public:
  explicit TruncatedNormal(double mean = 0.0, double stddev = 0.05, std::optional<uint64_t> seed = std::nullopt)
      : NormalInitializer("TruncatedNormal", true, mean, stddev, seed) {}
  std::shared_ptr<Initializer> clone() const override { return std::make_shared<TruncatedNormal>(*this); }
};

// With n = fan_in, fan_out or (fan_in + fan_out) / 2 per `mode` (at least 1),
// the fans of compute_fans(shape, input_axes, output_axes):
//   "truncated_normal":   truncated N(0, sqrt(scale / n) / 0.87962566103423978)
//   "untruncated_normal": N(0, sqrt(scale / n))
//   "uniform":            U[-sqrt(3 scale / n), sqrt(3 scale / n))
// "normal" (Keras 2.3) is read as "truncated_normal". ValueError when scale <= 0,
// mode is not fan_in|fan_out|fan_avg, or distribution is unknown; on a call,
// when an axis does not fit the shape. get_config is Keras 3.15's: {"scale",
// "mode", "distribution", "seed", "input_axes", "output_axes"}, the axes null
// when unset.
class VarianceScaling : public Initializer {
 public:
  explicit VarianceScaling(double scale = 1.0, std::string mode = "fan_in", std::string distribution = "truncated_normal",
                           std::optional<uint64_t> seed = std::nullopt, FanAxes input_axes = std::nullopt,
                           FanAxes output_axes = std::nullopt);
  std::string class_name() const override { return "VarianceScaling"; }
  json get_config() const override;
  Tensor operator()(const Shape& shape) const override;
  std::shared_ptr<Initializer> clone() const override { return std::make_shared<VarianceScaling>(*this); }

  double scale() const { return scale_; }
  const std::string& mode() const { return mode_; }
  const std::string& distribution() const { return distribution_; }
  const std::optional<uint64_t>& seed() const { return seed_; }
  const FanAxes& input_axes() const { return input_axes_; }
  const FanAxes& output_axes() const { return output_axes_; }

 protected:
  // {"seed", "input_axes", "output_axes"}: the config of the named special cases.
  json preset_config() const;

 private:
  double scale_;
  std::string mode_, distribution_;
  std::optional<uint64_t> seed_;
  FanAxes input_axes_, output_axes_;
};

// A named special case of VarianceScaling: a Keras class name with its scale,
// mode and distribution fixed.
struct VarianceScalingPreset {
  const char* class_name;
  double scale;
  const char* mode;
  const char* distribution;
};

// The VarianceScaling that `preset` names; it serializes as its own class with
// config {"seed", "input_axes", "output_axes"} (Keras 3.15's keys).
template <const VarianceScalingPreset& preset>
class PresetVarianceScaling : public VarianceScaling {
 public:
  explicit PresetVarianceScaling(std::optional<uint64_t> seed = std::nullopt, FanAxes input_axes = std::nullopt,
                                 FanAxes output_axes = std::nullopt)
      : VarianceScaling(preset.scale, preset.mode, preset.distribution, seed, std::move(input_axes),
                        std::move(output_axes)) {}
  std::string class_name() const override { return preset.class_name; }
  json get_config() const override;  // preset_config()
  std::shared_ptr<Initializer> clone() const override { return std::make_shared<PresetVarianceScaling>(*this); }
};

inline constexpr VarianceScalingPreset kGlorotUniform{"GlorotUniform", 1.0, "fan_avg", "uniform"};
inline constexpr VarianceScalingPreset kGlorotNormal{"GlorotNormal", 1.0, "fan_avg", "truncated_normal"};
inline constexpr VarianceScalingPreset kHeUniform{"HeUniform", 2.0, "fan_in", "uniform"};
inline constexpr VarianceScalingPreset kHeNormal{"HeNormal", 2.0, "fan_in", "truncated_normal"};
inline constexpr VarianceScalingPreset kLecunUniform{"LecunUniform", 1.0, "fan_in", "uniform"};
inline constexpr VarianceScalingPreset kLecunNormal{"LecunNormal", 1.0, "fan_in", "truncated_normal"};

using GlorotUniform = PresetVarianceScaling<kGlorotUniform>;
using GlorotNormal = PresetVarianceScaling<kGlorotNormal>;
using HeUniform = PresetVarianceScaling<kHeUniform>;
using HeNormal = PresetVarianceScaling<kHeNormal>;
using LecunUniform = PresetVarianceScaling<kLecunUniform>;
using LecunNormal = PresetVarianceScaling<kLecunNormal>;
// Instantiated, with get_config, in initializers.cpp.
extern template class PresetVarianceScaling<kGlorotUniform>;
extern template class PresetVarianceScaling<kGlorotNormal>;
extern template class PresetVarianceScaling<kHeUniform>;
extern template class PresetVarianceScaling<kHeNormal>;
extern template class PresetVarianceScaling<kLecunUniform>;
extern template class PresetVarianceScaling<kLecunNormal>;

// gain * Q, Q with orthonormal columns (or rows, when the flattened matrix
// (prod(shape[:-1]), shape[-1]) is wide), from the QR decomposition of a
// normal matrix with the signs fixed so diag(R) > 0. ValueError for rank < 2.
class Orthogonal : public Initializer {
 public:
  explicit Orthogonal(double gain = 1.0, std::optional<uint64_t> seed = std::nullopt);
  std::string class_name() const override { return "Orthogonal"; }
  json get_config() const override;
  Tensor operator()(const Shape& shape) const override;
  std::shared_ptr<Initializer> clone() const override { return std::make_shared<Orthogonal>(*this); }

 private:
  double gain_;
  std::optional<uint64_t> seed_;
};

// gain * eye(rows, cols) for 2-D shapes; ValueError for any other rank.
class Identity : public Initializer {
 public:
  explicit Identity(double gain = 1.0) : gain_(gain) {}
  std::string class_name() const override { return "Identity"; }
  json get_config() const override;
  Tensor operator()(const Shape& shape) const override;
  std::shared_ptr<Initializer> clone() const override { return std::make_shared<Identity>(*this); }

 private:
  double gain_;
};

// The initializer an identifier names: a Keras name, case-insensitive
// ("glorot_uniform", "GlorotUniform", "he_normal", "zeros", "uniform", ...), a
// {"class_name", "config"} object (Keras 2 or 3 form) or null (-> nullptr).
// Throws ValueError for an unknown name (listing the known ones), a config key
// the class does not take, or an invalid parameter.
std::shared_ptr<Initializer> get_initializer(const json& identifier);

// {"class_name": ..., "config": ...}, or null for nullptr: the form layer configs
// carry into every file minidl writes. An unset input_axes / output_axes (null in
// get_config) is left out: tf.keras 2.x and Keras 3 before 3.15 reject the keys,
// and Keras 3.15 reads their absence as null. Set axes are written.
json serialize_initializer(const std::shared_ptr<Initializer>& init);

// An options-struct field that holds "which initializer": a name, an object or
// a pointer. Unset (default-constructed or nullptr) resolves to nullptr, which
// the layer replaces with its own default.
using InitializerArg = PartArg<Initializer, get_initializer>;

}  // namespace minidl
