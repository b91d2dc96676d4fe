// layers/base/dtype_policy.cpp — the policies minidl computes with, the global policy, and the
// bfloat16 cast on the tape.
#include "layers/base/dtype_policy.h"

#include <mutex>
#include <set>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/gemm_bf16.h"

namespace minidl {
namespace {

// Dtype names Keras's standardize_dtype accepts besides "float32": a policy
// named after one of them is valid Keras but computes in a dtype minidl does not have.
const std::set<std::string>& other_keras_dtypes() {
  static const std::set<std::string> names = {
      "float16", "bfloat16", "float64", "float", "double", "int8", "int16", "int32", "int64", "int",
      "uint8", "uint16", "uint32", "uint64", "bool", "string", "complex64", "complex128", "float8_e4m3fn",
      "float8_e5m2"};
  return names;
}

std::mutex g_policy_mutex;
DTypePolicy* g_global_policy = nullptr;  // set_global_policy's; nullptr means "float32"

}  // namespace

DTypePolicy::DTypePolicy() : DTypePolicy(global_policy()) {}

DTypePolicy::DTypePolicy(const std::string& name) : name_(name), variable_dtype_("float32") {
  if (name == "float32") {
    compute_dtype_ = "float32";
  } else if (name == "mixed_bfloat16") {
    compute_dtype_ = "bfloat16";
    bfloat16_ = true;
  } else if (name == "mixed_float16" || other_keras_dtypes().count(name)) {
    raise<ValueError>(
        "DTypePolicy '{}' is not supported: minidl computes with the 'float32' and 'mixed_bfloat16' policies only",
        name);
  } else {
    raise<ValueError>(
        "Cannot convert '{}' to a mixed precision DTypePolicy. Valid policies include 'mixed_float16', "
        "'mixed_bfloat16', and the name of any float dtype such as 'float32'.",
        name);
  }
}

void set_global_policy(const std::string& name) { set_global_policy(DTypePolicy(name)); }

void set_global_policy(const DTypePolicy& policy) {
  std::lock_guard<std::mutex> lock(g_policy_mutex);
  if (!g_global_policy)
    g_global_policy = new DTypePolicy(policy);  // lives as long as the process: layers may read it at exit
  else
    *g_global_policy = policy;
}

DTypePolicy global_policy() {
  std::lock_guard<std::mutex> lock(g_policy_mutex);
  if (g_global_policy) return *g_global_policy;
  return DTypePolicy("float32");
}

Variable cast_to_bfloat16(const Variable& x) {
  // Rounding is idempotent and the cast's gradient is the identity: a value
  // that is already a cast (the previous layer's output) is passed on as it is.
  if (x.grad_fn() && x.grad_fn()->name() == "CastToBfloat16") return x;
  const Tensor& xv = x.value();
  Tensor y(xv.shape());
  const float* src = xv.data();
  float* dst = y.data();
  parallel_for(
      xv.numel(), [src, dst](int64_t i0, int64_t i1) { ops::round_to_bfloat16(src + i0, dst + i0, i1 - i0); }, 1 << 14);
  return make_result(std::move(y), {x}, "CastToBfloat16",
                     [](const Tensor& g, const std::vector<bool>&) -> Grads { return {g}; });
}

}  // namespace minidl
