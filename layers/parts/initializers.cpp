// layers/parts/initializers.cpp — the Keras initializers: fans, random draws, variance scaling, Orthogonal, Identity.
#include "layers/parts/initializers.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "core/random.h"
#include "layers/parts/part_config.h"

namespace minidl {
namespace {

// A seeded initializer restarts its own generator on every call, so its values
// depend on nothing but the seed; unseeded ones share the global stream.
class DrawSource {
 public:
  explicit DrawSource(const std::optional<uint64_t>& seed) : local_(seed.value_or(0)), seeded_(seed.has_value()) {}
  Generator& gen() { return seeded_ ? local_ : global_generator(); }

 private:
  Generator local_;
  bool seeded_;
};

// Draws in double and rounds once, so limits are respected after the cast.
void fill_uniform(Tensor& t, double lo, double hi, Generator& g) {
  std::uniform_real_distribution<double> d(lo, hi);
  for (float& v : t.span()) v = static_cast<float>(d(g));
}

void fill_normal(Tensor& t, double mean, double stddev, Generator& g) {
  std::normal_distribution<double> d(0.0, 1.0);
  for (float& v : t.span()) v = static_cast<float>(mean + stddev * d(g));
}

// TensorFlow's truncated normal: standard draws beyond 2 are redrawn.
void fill_truncated_normal(Tensor& t, double mean, double stddev, Generator& g) {
  std::normal_distribution<double> d(0.0, 1.0);
  for (float& v : t.span()) {
    double z = d(g);
    while (std::fabs(z) > 2.0) z = d(g);
    v = static_cast<float>(mean + stddev * z);
  }
}

// prod(shape[a] for a in axes), Python indexing; ValueError naming `owner` for an axis outside the rank.
double product_of_axes(const Shape& shape, const std::vector<int64_t>& axes, const char* key, std::string_view owner) {
  const auto rank = static_cast<int64_t>(shape.size());
  double n = 1;
  for (int64_t a : axes) {
    MINIDL_CHECK(a >= -rank && a < rank, ValueError,
                 "{}: {} {} do not fit a weight of shape {}: axis {} is out of range for rank {}", owner, key,
                 json(axes).dump(), shape_str(shape), a, rank);
    n *= double(shape[static_cast<size_t>(a < 0 ? a + rank : a)]);
  }
  return n;
}

Fans fans_of(const Shape& shape, const FanAxes& input_axes, const FanAxes& output_axes, std::string_view owner) {
  MINIDL_CHECK(is_fully_defined(shape), ValueError, "{}: shape {} has an unknown dimension", owner, shape_str(shape));
  // Keras uses the axes only when both are given.
  if (input_axes && output_axes)
    return {product_of_axes(shape, *input_axes, "input_axes", owner),
            product_of_axes(shape, *output_axes, "output_axes", owner)};
  const size_t r = shape.size();
  if (r == 0) return {1, 1};
  if (r == 1) return {double(shape[0]), double(shape[0])};
  if (r == 2) return {double(shape[0]), double(shape[1])};
  double receptive = 1;
  for (size_t i = 0; i + 2 < r; ++i) receptive *= double(shape[i]);
  return {double(shape[r - 2]) * receptive, double(shape[r - 1]) * receptive};
}

json axes_json(const FanAxes& axes) { return axes ? json(*axes) : json(nullptr); }

}  // namespace

Fans compute_fans(const Shape& shape, const FanAxes& input_axes, const FanAxes& output_axes) {
  return fans_of(shape, input_axes, output_axes, "compute_fans");
}

Tensor Constant::operator()(const Shape& shape) const { return Tensor::full(shape, static_cast<float>(value_)); }

RandomUniform::RandomUniform(double minval, double maxval, std::optional<uint64_t> seed)
    : minval_(minval), maxval_(maxval), seed_(seed) {
  MINIDL_CHECK(minval <= maxval, ValueError, "RandomUniform: minval ({}) must not exceed maxval ({})", minval, maxval);
}

json RandomUniform::get_config() const {
  return {{"minval", minval_}, {"maxval", maxval_}, {"seed", detail::seed_json(seed_)}};
}

Tensor RandomUniform::operator()(const Shape& shape) const {
  Tensor t(shape);
  DrawSource src(seed_);
  fill_uniform(t, minval_, maxval_, src.gen());
  return t;
}

NormalInitializer::NormalInitializer(const char* class_name, bool truncated, double mean, double stddev,
                                     std::optional<uint64_t> seed)
    : class_name_(class_name), truncated_(truncated), mean_(mean), stddev_(stddev), seed_(seed) {
  MINIDL_CHECK(stddev >= 0, ValueError, "{}: stddev must be >= 0, received {}", class_name, stddev);
}

json NormalInitializer::get_config() const {
  return {{"mean", mean_}, {"stddev", stddev_}, {"seed", detail::seed_json(seed_)}};
}

Tensor NormalInitializer::operator()(const Shape& shape) const {
  Tensor t(shape);
  DrawSource src(seed_);
  if (truncated_)
    fill_truncated_normal(t, mean_, stddev_, src.gen());
  else
    fill_normal(t, mean_, stddev_, src.gen());
  return t;
}

VarianceScaling::VarianceScaling(double scale, std::string mode, std::string distribution, std::optional<uint64_t> seed,
                                 FanAxes input_axes, FanAxes output_axes)
    : scale_(scale),
      mode_(std::move(mode)),
      distribution_(detail::to_lower(distribution)),
      seed_(seed),
      input_axes_(std::move(input_axes)),
      output_axes_(std::move(output_axes)) {
  MINIDL_CHECK(scale > 0, ValueError, "VarianceScaling: scale must be a positive float, received {}", scale);
  MINIDL_CHECK(mode_ == "fan_in" || mode_ == "fan_out" || mode_ == "fan_avg", ValueError,
               "VarianceScaling: invalid mode '{}' (expected 'fan_in', 'fan_out' or 'fan_avg')", mode_);
  // Keras 2.3 called the corrected truncated normal "normal"; tf.keras reads it the same way.
  if (distribution_ == "normal") distribution_ = "truncated_normal";
  MINIDL_CHECK(distribution_ == "truncated_normal" || distribution_ == "untruncated_normal" || distribution_ == "uniform",
               ValueError,
               "VarianceScaling: invalid distribution '{}' (expected 'truncated_normal', 'untruncated_normal', "
               "'uniform' or 'normal')",
               distribution);
}

json VarianceScaling::get_config() const {
  json c = preset_config();
  c["scale"] = scale_;
  c["mode"] = mode_;
  c["distribution"] = distribution_;
  return c;
}

json VarianceScaling::preset_config() const {
  return {{"seed", detail::seed_json(seed_)}, {"input_axes", axes_json(input_axes_)},
          {"output_axes", axes_json(output_axes_)}};
}

Tensor VarianceScaling::operator()(const Shape& shape) const {
  const Fans fans = fans_of(shape, input_axes_, output_axes_, class_name());
  double n = mode_ == "fan_in" ? fans.fan_in : mode_ == "fan_out" ? fans.fan_out : (fans.fan_in + fans.fan_out) / 2;
  n = std::max(1.0, n);
  Tensor t(shape);
  DrawSource src(seed_);
  if (distribution_ == "uniform") {
    const double limit = std::sqrt(3.0 * scale_ / n);
    fill_uniform(t, -limit, limit, src.gen());
  } else if (distribution_ == "untruncated_normal") {
    fill_normal(t, 0.0, std::sqrt(scale_ / n), src.gen());
  } else {
    // 0.8796... is the stddev of a unit normal truncated to [-2, 2]; dividing
    // by it makes the truncated draws have variance scale / n.
    fill_truncated_normal(t, 0.0, std::sqrt(scale_ / n) / 0.87962566103423978, src.gen());
  }
  return t;
}

Orthogonal::Orthogonal(double gain, std::optional<uint64_t> seed) : gain_(gain), seed_(seed) {}

json Orthogonal::get_config() const { return {{"gain", gain_}, {"seed", detail::seed_json(seed_)}}; }

Tensor Orthogonal::operator()(const Shape& shape) const {
  MINIDL_CHECK(shape.size() >= 2, ValueError,
               "Orthogonal: the tensor to initialize must be at least two-dimensional, received shape {}",
               shape_str(shape));
  const int64_t cols = shape.back();
  const int64_t rows = numel(shape) / std::max<int64_t>(cols, 1);
  Tensor out = Tensor::zeros(shape);
  if (out.numel() == 0) return out;
  // Factor a tall m x n normal matrix (m >= n) and transpose Q back when the
  // weight matrix is wide, as Keras does.
  const int64_t m = std::max(rows, cols), n = std::min(rows, cols);
  std::vector<double> a(static_cast<size_t>(m * n));  // column-major: a[j*m + i]
  {
    DrawSource src(seed_);
    std::normal_distribution<double> d(0.0, 1.0);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) a[j * m + i] = d(src.gen());
  }
  // Modified Gram-Schmidt makes every R diagonal entry the (positive) norm of
  // the residual column, which is exactly Keras's sign fix q *= sign(diag(r)).
  // Reorthogonalising once more keeps Q^T Q = I to double precision.
  for (int64_t j = 0; j < n; ++j) {
    double* qj = &a[j * m];
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t k = 0; k < j; ++k) {
        const double* qk = &a[k * m];
        double dot = 0;
        for (int64_t i = 0; i < m; ++i) dot += qk[i] * qj[i];
        for (int64_t i = 0; i < m; ++i) qj[i] -= dot * qk[i];
      }
    double norm = 0;
    for (int64_t i = 0; i < m; ++i) norm += qj[i] * qj[i];
    norm = std::sqrt(norm);
    MINIDL_CHECK(norm > 0, RuntimeError, "Orthogonal: random matrix was rank deficient");
    for (int64_t i = 0; i < m; ++i) qj[i] /= norm;
  }
  float* o = out.data();  // viewed as [rows, cols]
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const double q = rows >= cols ? a[c * m + r] : a[r * m + c];  // Q[r, c] or Q^T[r, c]
      o[r * cols + c] = static_cast<float>(gain_ * q);
    }
  return out;
}

Tensor Identity::operator()(const Shape& shape) const {
  MINIDL_CHECK(shape.size() == 2, ValueError,
               "Identity: identity matrix initializer can only be used for 2D matrices, received shape {}",
               shape_str(shape));
  Tensor t = Tensor::zeros(shape);
  for (int64_t i = 0; i < std::min(shape[0], shape[1]); ++i) t.data()[i * shape[1] + i] = static_cast<float>(gain_);
  return t;
}

json Constant::get_config() const { return {{"value", value_}}; }

json Identity::get_config() const { return {{"gain", gain_}}; }

template <const FillPreset& preset>
json PresetFill<preset>::get_config() const {
  return json::object();
}

template <const VarianceScalingPreset& preset>
json PresetVarianceScaling<preset>::get_config() const {
  return preset_config();
}

template class PresetFill<kZeros>;
template class PresetFill<kOnes>;
template class PresetVarianceScaling<kGlorotUniform>;
template class PresetVarianceScaling<kGlorotNormal>;
template class PresetVarianceScaling<kHeUniform>;
template class PresetVarianceScaling<kHeNormal>;
template class PresetVarianceScaling<kLecunUniform>;
template class PresetVarianceScaling<kLecunNormal>;

}  // namespace minidl
