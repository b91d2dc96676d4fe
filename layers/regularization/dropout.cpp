// layers/regularization/dropout.cpp — Dropout: an inverted-dropout mask while training, identity otherwise.
#include "layers/regularization/dropout.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "core/random.h"
#include "core/threads.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"
#include "ops/elementwise.h"
#include "ops/parallel_grain.h"

namespace minidl {

namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ull;

// splitmix64's output function: a cheap bijective mix whose outputs for
// consecutive inputs are statistically independent, so element j's bits can
// be computed directly from (key, j) in any order and on any thread.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

Tensor dropout_mask(const Shape& shape, double rate, uint64_t key) {
  MINIDL_CHECK(rate >= 0 && rate <= 1, ValueError, "dropout_mask: rate must be in [0, 1], received {}", rate);
  Tensor mask(shape);
  // An element is kept when its 32 random bits are >= rate * 2^32, i.e. with
  // probability 1 - rate up to 2^-32.
  const uint64_t cut = static_cast<uint64_t>(std::llround(rate * 4294967296.0));
  const float keep = rate < 1 ? static_cast<float>(1.0 / (1.0 - rate)) : 0.f;
  float* m = mask.data();
  const int64_t n = mask.numel();
  // The loop runs over pairs of elements: draw j's 64 bits feed elements 2j
  // and 2j + 1; an odd last element is done apart.
  const int64_t pairs = n / 2;
  parallel_for(
      pairs,
      [m, cut, keep, key](int64_t b, int64_t e) {
        // Locals, not closure members: stores through out cannot alias them,
        // which lets the compiler vectorize the loop.
        float* const out = m;
        const uint64_t c = cut, k0 = key;
        const float k = keep;
        for (int64_t j = b; j < e; ++j) {
          const uint64_t bits = mix64(k0 + static_cast<uint64_t>(j + 1) * kGolden);
          out[2 * j] = (bits & 0xffffffffull) >= c ? k : 0.f;
          out[2 * j + 1] = (bits >> 32) >= c ? k : 0.f;
        }
      },
      ops::grain(ops::Cost::kMemory, 2));
  if (n % 2) m[n - 1] = (mix64(key + static_cast<uint64_t>(pairs + 1) * kGolden) & 0xffffffffull) >= cut ? keep : 0.f;
  return mask;
}

DropoutImpl::DropoutImpl(double rate, DropoutOptions o)
    : Layer(common_options(o), "dropout"), rate_(rate), noise_shape_(std::move(o.noise_shape)), seed_(o.seed) {
  if (!(rate >= 0 && rate <= 1)) fail("Invalid value {} received for `rate`, expected a value between 0 and 1.", rate);
  if (noise_shape_)
    for (int64_t d : *noise_shape_)
      if (d != kNone && d < 1)
        fail("noise_shape must hold positive dimensions or None, received {}", shape_str(*noise_shape_));
  set_supports_masking(true);
}

Shape DropoutImpl::resolve_noise_shape(const Shape& s) const {
  if (!noise_shape_) return s;
  const Shape& ns = *noise_shape_;
  bool ok = ns.size() == s.size();
  Shape out(s.size());
  for (size_t i = 0; ok && i < s.size(); ++i) {
    out[i] = ns[i] == kNone ? s[i] : ns[i];
    ok = out[i] == s[i] || out[i] == 1 || s[i] == kNone;
  }
  if (!ok) fail("noise_shape {} is not broadcastable to the input shape {}", shape_str(ns), shape_str(s));
  return out;
}

std::vector<Shape> DropoutImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  resolve_noise_shape(s);
  return {s};
}

VariableList DropoutImpl::call(const std::vector<Variable>& inputs, const CallArgs& args) {
  const Variable& x = single_input(inputs);
  const Shape ns = resolve_noise_shape(x.shape());
  if (!args.training || rate_ == 0) return {x};
  const uint64_t key = seed_ ? mix64(*seed_ ^ mix64(seeded_calls_.fetch_add(1) + kGolden)) : random_u64();
  Tensor mask = dropout_mask(ns, rate_, key);
  Tensor y = ops::mul(x.value(), mask);  // a noise_shape mask broadcasts over its 1-axes
  return {make_result(std::move(y), {x}, "Dropout", [mask](const Tensor& g, const std::vector<bool>&) {
    return Grads{ops::mul(g, mask)};
  })};
}

json DropoutImpl::get_config() const {
  json c = base_config();
  c["rate"] = rate_;
  c["noise_shape"] = noise_shape_ ? shape_to_json(*noise_shape_) : json(nullptr);
  c["seed"] = seed_ ? json(*seed_) : json(nullptr);
  return c;
}

std::shared_ptr<DropoutImpl> DropoutImpl::from_config(const json& c) {
  // "p" is Keras 1's name of the rate.
  const std::vector<std::string> keys = {"rate", "noise_shape", "seed", "p"};
  return detail::layer_from_config<DropoutOptions>(c, "Dropout", keys, [](const ConfigReader& r, DropoutOptions o) {
    if (r.has("noise_shape")) o.noise_shape = r.shape("noise_shape");
    if (r.has("seed")) {
      const int64_t s = r.integer("seed");
      if (s < 0) raise<ValueError>("{}: config key 'seed' should be a non-negative integer, received {}", r.owner(), s);
      o.seed = static_cast<uint64_t>(s);
    }
    const double rate = r.has("rate") || !r.has("p") ? r.number("rate") : r.number("p");  // "p": Keras 1
    return std::make_shared<DropoutImpl>(rate, std::move(o));
  });
}

MINIDL_REGISTER_LAYER("Dropout", [](const json& c) -> LayerPtr { return DropoutImpl::from_config(c); });

}  // namespace minidl
