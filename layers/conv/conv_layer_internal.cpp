#include "layers/conv/conv_layer_internal.h"

#include <fmt/format.h>

#include "ops/im2col.h"

namespace minidl::detail {

std::string config_owner(const json& c, const std::string& class_name) {
  if (c.is_object() && c.contains("name") && c["name"].is_string())
    return fmt::format("{} '{}'", class_name, c["name"].get<std::string>());
  return class_name;
}

void check_conv_arguments(const std::string& owner, const IntPair& k, const IntPair& s, const IntPair& d) {
  if (k.first < 1 || k.second < 1)
    raise<ValueError>("{}: `kernel_size` must be positive integers, received kernel_size={}", owner, pair_str(k));
  if (s.first < 1 || s.second < 1)
    raise<ValueError>("{}: `strides` must be positive integers, received strides={}", owner, pair_str(s));
  if (d.first < 1 || d.second < 1)
    raise<ValueError>("{}: `dilation_rate` must be positive integers, received dilation_rate={}", owner,
                      pair_str(d));
  if (!s.both(1) && !d.both(1))
    raise<ValueError>(
        "{}: `strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides={} and "
        "dilation_rate={}",
        owner, pair_str(s), pair_str(d));
}

std::shared_ptr<Initializer> resolve_initializer(const InitializerArg& arg, const std::string& owner) {
  auto init = with_owner(owner, [&] { return arg.resolve(); });
  return init ? init : get_initializer("glorot_uniform");
}

std::shared_ptr<Activation> resolve_activation(const ActivationArg& arg, const std::string& owner) {
  auto act = with_owner(owner, [&] { return arg.resolve(); });
  return act ? act : get_activation(nullptr);
}

std::shared_ptr<Regularizer> resolve_regularizer(const RegularizerArg& arg, const std::string& owner) {
  return with_owner(owner, [&] { return arg.resolve(); });
}

std::shared_ptr<Constraint> resolve_constraint(const ConstraintArg& arg, const std::string& owner) {
  return with_owner(owner, [&] { return arg.resolve(); });
}

void read_initializer(const ConfigReader& r, const json& c, const char* key, InitializerArg& out) {
  // A present null is Keras's None (glorot_uniform once resolved), so it is
  // read from the raw config rather than through r.has(), which skips nulls.
  if (!c.contains(key)) return;
  auto init = with_owner(r.owner(), [&] { return get_initializer(c.at(key)); });
  out = init ? InitializerArg(init) : InitializerArg(nullptr);
}

void read_activation(const ConfigReader& r, const char* key, ActivationArg& out) {
  if (r.has(key)) out = with_owner(r.owner(), [&] { return get_activation(r.raw(key)); });
}

void read_regularizer(const ConfigReader& r, const char* key, RegularizerArg& out) {
  if (r.has(key)) out = with_owner(r.owner(), [&] { return get_regularizer(r.raw(key)); });
}

void read_constraint(const ConfigReader& r, const char* key, ConstraintArg& out) {
  if (r.has(key)) out = with_owner(r.owner(), [&] { return get_constraint(r.raw(key)); });
}

int64_t conv_input_channels(const std::string& owner, const Shape& s, bool channels_first) {
  if (s.size() != 4)
    raise<ValueError>("{}: expected input of rank 4 {}, received shape {}", owner,
                      channels_first ? "(batch, channels, rows, cols)" : "(batch, rows, cols, channels)",
                      shape_str(s));
  const int64_t c = s[channels_first ? 1 : 3];
  if (c == kNone)
    raise<ValueError>("{}: the channel dimension of the inputs should be defined, found None (input shape {})", owner,
                      shape_str(s));
  if (c < 1) raise<ValueError>("{}: expected at least one input channel, received input shape {}", owner, shape_str(s));
  return c;
}

std::pair<int64_t, int64_t> conv_output_rows_cols(const std::string& owner, const Shape& s, bool channels_first,
                                                  const IntPair& k, const IntPair& strides, const IntPair& d,
                                                  bool same) {
  const int64_t rows = s[channels_first ? 2 : 1], cols = s[channels_first ? 3 : 2];
  if (rows == 0 || cols == 0 || rows < kNone || cols < kNone)
    raise<ValueError>("{}: spatial dimensions must be positive, received input shape {}", owner, shape_str(s));
  const int64_t dkh = (k.first - 1) * d.first + 1, dkw = (k.second - 1) * d.second + 1;
  if (!same && ((rows != kNone && rows < dkh) || (cols != kNone && cols < dkw)))
    raise<ValueError>(
        "{}: with padding \"valid\" the input ({} x {}) must be at least as large as the dilated kernel ({} x {}: "
        "kernel_size={}, dilation_rate={}); received input shape {}",
        owner, rows == kNone ? "None" : std::to_string(rows), cols == kNone ? "None" : std::to_string(cols), dkh, dkw,
        pair_str(k), pair_str(d), shape_str(s));
  return {ops::conv_output_length(rows, k.first, same, strides.first, d.first),
          ops::conv_output_length(cols, k.second, same, strides.second, d.second)};
}

}  // namespace minidl::detail
