// layers/core/dense.cpp — Dense: one GEMM forward, two backward; bfloat16 products under mixed_bfloat16.
#include "layers/core/dense.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"
#include "ops/blas.h"
#include "ops/gemm_bf16.h"
#include "ops/batch_sum.h"

namespace minidl {

namespace {
// Rows per group of the products over the batch (forward, dx, and the kernel
// and bias gradients' sums): few enough that per-replica batches of 64
// samples hold whole groups, enough that each group's product is an efficient GEMM.
constexpr int64_t kDenseRowsPerGroup = 64;
// Inference with at most this many rows multiplies each row by the kernel as a
// matrix-vector product (ops::gemv_row): OpenBLAS's sgemm packs the whole kernel
// on every call, which at one or two rows costs more than reading it once per row.
constexpr int64_t kGemvMaxRows = 2;
}  // namespace

DenseImpl::DenseImpl(int64_t units, DenseOptions o)
    : Layer(common_options(o, o.activity_regularizer), "dense"),
      units_(units),
      activation_(o.activation.has_value() ? o.activation.resolve() : get_activation(nullptr)),
      use_bias_(o.use_bias),
      kernel_initializer_(o.kernel_initializer.has_value() ? o.kernel_initializer.resolve()
                                                           : get_initializer("glorot_uniform")),
      bias_initializer_(o.bias_initializer.has_value() ? o.bias_initializer.resolve() : get_initializer("zeros")),
      kernel_regularizer_(o.kernel_regularizer.resolve()),
      bias_regularizer_(o.bias_regularizer.resolve()),
      kernel_constraint_(o.kernel_constraint.resolve()),
      bias_constraint_(o.bias_constraint.resolve()) {
  if (units < 1) fail("Received an invalid value for `units`, expected a positive integer. Received: units={}", units);
  // Dense passes masks through, as tf.keras's Dense does.
  set_supports_masking(true);
}

void DenseImpl::check_input_shape(const Shape& s) const {
  if (s.size() < 2)
    fail("Input 0 is incompatible with the layer: expected min_ndim=2, found ndim={}. Full shape received: {}",
         s.size(), shape_str(s));
  if (s.back() == kNone) fail("The last dimension of the inputs to `Dense` should be defined. Found `None`.");
  if (kernel_.defined() && s.back() != kernel_.shape()[0])
    fail(
        "Input 0 is incompatible with the layer: expected axis -1 of input shape to have value {}, but received "
        "input with shape {}",
        kernel_.shape()[0], shape_str(s));
}

void DenseImpl::build(const std::vector<Shape>& input_shapes) {
  const Shape& s = single_shape(input_shapes);
  check_input_shape(s);
  if (s.back() < 1) fail("the last dimension of the input must be positive, received shape {}", shape_str(s));
  kernel_ =
      add_weight("kernel", {s.back(), units_}, kernel_initializer_, kernel_regularizer_, true, kernel_constraint_);
  if (use_bias_) bias_ = add_weight("bias", {units_}, bias_initializer_, bias_regularizer_, true, bias_constraint_);
}

std::vector<Shape> DenseImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  Shape s = single_shape(input_shapes);
  check_input_shape(s);
  s.back() = units_;
  return {s};
}

VariableList DenseImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  check_input_shape(x.shape());
  const int64_t in = kernel_.shape()[0], units = units_;
  const int64_t rows = x.value().numel() / in;  // every leading axis folds into the GEMM's rows
  Shape out_shape = x.shape();
  out_shape.back() = units;
  Tensor y(out_shape);  // [rows, units]
  // Under mixed_bfloat16 every product multiplies bfloat16 operands (the kernel and the
  // gradient rounded, x already is) with float32 accumulation, and the bias is bfloat16.
  const bool bf16 = computes_in_bfloat16();
  const auto gemm = bf16 ? &ops::gemm_bf16 : &ops::gemm;
  float beta = 0.f;
  if (use_bias_) {
    // Pre-filling y with the bias lets the one sgemm add it (beta = 1) instead of a second pass.
    const float* b = bias_.value().data();
    for (int64_t r = 0; r < rows; ++r) std::memcpy(y.data() + r * units, b, sizeof(float) * units);
    if (bf16) ops::round_to_bfloat16(y.data(), y.data(), rows * units);
    beta = 1.f;
  }
  const Tensor xv = x.value(), wv = kernel_.value();
  // Every product over the batch runs per group of samples (ops/batch_sum.h):
  // the forward and dx make the same GEMM calls for a sample whatever else is
  // in the batch, and the kernel and bias gradients add the groups pairwise,
  // so replicas holding parts of a batch get the bits of one process holding
  // all of it, even with BLAS kernels whose rounding depends on a row's place.
  const int64_t samples = xv.rank() >= 2 ? xv.dim(0) : 1;
  const int64_t per_sample = samples > 0 ? rows / samples : 1;
  const int64_t group_rows =
      ops::samples_per_group(per_sample, kDenseRowsPerGroup, kDenseRowsPerGroup) * per_sample;
  if (!bf16 && !grad_enabled() && rows <= kGemvMaxRows)  // inference only: training keeps the groups' GEMMs
    for (int64_t r = 0; r < rows; ++r)
      ops::gemv_row(false, units, in, 1.f, xv.data() + r * in, wv.data(), units, beta, y.data() + r * units);
  else
    for (int64_t r0 = 0; r0 < rows; r0 += group_rows)
      gemm(false, false, std::min(group_rows, rows - r0), units, in, 1.f, xv.data() + r0 * in, in, wv.data(), units,
           beta, y.data() + r0 * units, units);

  const Variable parents[] = {x, kernel_, use_bias_ ? bias_ : Variable()};
  const bool has_bias = use_bias_;
  Variable z = make_result(
      std::move(y), std::span<const Variable>(parents, has_bias ? 3 : 2), "Dense",
      [xv, wv, rows, in, units, has_bias, gemm, group_rows](const Tensor& g, const std::vector<bool>& need) {
        Grads grads(has_bias ? 3 : 2);
        if (need[0]) {  // dx = g * W^T: [rows, units] x [units, in], per group of samples
          grads[0] = Tensor(xv.shape());
          for (int64_t r0 = 0; r0 < rows; r0 += group_rows)
            gemm(false, true, std::min(group_rows, rows - r0), in, units, 1.f, g.data() + r0 * units, units,
                 wv.data(), units, 0.f, grads[0].data() + r0 * in, in);
        }
        if (need[1]) {  // dW = x^T * g: [in, rows] x [rows, units]
          grads[1] = Tensor({in, units});
          if (rows == 0) grads[1].fill(0.f);
          else
            ops::pairwise_groups(ops::group_count(rows, group_rows), in * units, grads[1].data(),
                                 [&](int64_t k, float* part) {
                                   const int64_t r0 = k * group_rows, n = std::min(group_rows, rows - r0);
                                   gemm(true, false, in, units, n, 1.f, xv.data() + r0 * in, in,
                                        g.data() + r0 * units, units, 0.f, part, units);
                                 });
        }
        if (has_bias && need[2]) {  // [units]
          grads[2] = Tensor({units});
          ops::sum_rows_pairwise(g.data(), rows, units, group_rows, grads[2].data());
        }
        return grads;
      });
  if (activation_->name() == "linear") return {z};
  return {(*activation_)(z)};
}

json DenseImpl::get_config() const {
  json c = base_config();
  c["units"] = units_;
  c["activation"] = serialize_activation(activation_);
  c["use_bias"] = use_bias_;
  c["kernel_initializer"] = serialize_initializer(kernel_initializer_);
  c["bias_initializer"] = serialize_initializer(bias_initializer_);
  c["kernel_regularizer"] = serialize_regularizer(kernel_regularizer_);
  c["bias_regularizer"] = serialize_regularizer(bias_regularizer_);
  c["activity_regularizer"] = serialize_regularizer(activity_regularizer());
  c["kernel_constraint"] = serialize_constraint(kernel_constraint_);
  c["bias_constraint"] = serialize_constraint(bias_constraint_);
  return c;
}

std::shared_ptr<DenseImpl> DenseImpl::from_config(const json& c) {
  // The keys of every era once io/keras_config.cpp has renamed Keras 1's (output_dim, init, W_*, b_*, bias).
  // Keras 3 writes lora_rank and lora_alpha only for a LoRA-enabled Dense, which minidl does not
  // build, so they stay unknown keys.
  const std::vector<std::string> keys = {"units",           "activation",         "use_bias",
                                         "kernel_initializer", "bias_initializer",  "kernel_regularizer",
                                         "bias_regularizer",   "kernel_constraint", "bias_constraint"};
  return detail::layer_from_config<DenseOptions>(c, "Dense", keys, [&c](const ConfigReader& r, DenseOptions o) {
    // Errors of the parts are prefixed with the layer by layer_from_config.
    o.activation = get_activation(detail::config_part(c, "activation"));
    o.use_bias = r.boolean("use_bias", true);
    if (r.has("kernel_initializer")) o.kernel_initializer = get_initializer(r.raw("kernel_initializer"));
    if (r.has("bias_initializer")) o.bias_initializer = get_initializer(r.raw("bias_initializer"));
    o.kernel_regularizer = get_regularizer(detail::config_part(c, "kernel_regularizer"));
    o.bias_regularizer = get_regularizer(detail::config_part(c, "bias_regularizer"));
    o.kernel_constraint = get_constraint(detail::config_part(c, "kernel_constraint"));
    o.bias_constraint = get_constraint(detail::config_part(c, "bias_constraint"));
    return std::make_shared<DenseImpl>(r.integer("units"), std::move(o));
  });
}

MINIDL_REGISTER_LAYER("Dense", [](const json& c) -> LayerPtr { return DenseImpl::from_config(c); });

}  // namespace minidl
