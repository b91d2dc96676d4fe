// layers/pooling/pooling2d.cpp — MaxPooling2D and AveragePooling2D on ops/pooling.h.
#include "layers/pooling/pooling2d.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>

#include "layers/base/config_utils.h"
#include "layers/base/core_layers_internal.h"
#include "layers/base/registry.h"
#include "ops/pooling.h"
#include "ops/transpose.h"

namespace minidl {

Pooling2DImpl::Pooling2DImpl(Kind kind, Size2D pool_size, Pooling2DOptions o)
    : Layer(common_options(o), to_snake_case(kind == Kind::kMax ? "MaxPooling2D" : "AveragePooling2D")),
      kind_(kind),
      pool_size_(pool_size),
      strides_(o.strides.value_or(pool_size)) {
  const std::string owner = fmt::format("{} '{}'", class_name(), name());
  check_positive(pool_size_, "pool_size", owner);
  check_positive(strides_, "strides", owner);
  padding_ = normalize_padding(o.padding, owner);
  data_format_ = normalize_data_format(o.data_format, owner);
}

std::vector<Shape> Pooling2DImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  return {output_shape_for(single_shape(input_shapes))};
}

Shape Pooling2DImpl::output_shape_for(const Shape& s) const {
  if (s.size() != 4)
    fail("expected input of rank 4 ({}), received shape {}",
         data_format_ == "channels_first" ? "batch, channels, rows, cols" : "batch, rows, cols, channels",
         shape_str(s));
  const int rows_axis = data_format_ == "channels_first" ? 2 : 1;
  const bool same = padding_ == "same";
  Shape out = s;
  const Size2D window[2] = {pool_size_, strides_};
  for (int i = 0; i < 2; ++i) {
    const int64_t in = s[rows_axis + i];
    const int64_t k = i == 0 ? window[0].rows : window[0].cols;
    const int64_t stride = i == 0 ? window[1].rows : window[1].cols;
    if (in == 0) fail("received an input with an empty spatial dimension, shape {}", shape_str(s));
    if (!same && in != kNone && in < k)
      fail("Negative dimension size: the pool window ({}, {}) is larger than the input {} with \"valid\" padding",
           pool_size_.rows, pool_size_.cols, shape_str(s));
    out[rows_axis + i] = ops::pool_output_length(in, k, same, stride);
  }
  return out;
}

VariableList Pooling2DImpl::call(const std::vector<Variable>& inputs, const CallArgs&) {
  const Variable& x = single_input(inputs);
  const Shape out_shape = output_shape_for(x.shape());  // also validates
  // channels_first with several channels is transposed to NHWC at the boundary:
  // pooling each plane as a one-channel image loses the vectorized loop over
  // channels (measured 2x slower forward at C = 32). One channel needs no copy.
  const bool transpose = data_format_ == "channels_first" && x.shape()[1] > 1;
  const Tensor xin = transpose ? ops::nchw_to_nhwc(x.value()) : x.value();  // [N, H, W, C] block
  const ImageBlock blk = image_block(xin.shape(), data_format_ == "channels_first" && !transpose);
  const ops::Pool2DGeometry g = ops::make_pool_geometry(blk.B, blk.H, blk.W, blk.C, pool_size_.rows, pool_size_.cols,
                                                        strides_.rows, strides_.cols, padding_ == "same");
  Tensor yb({g.N, g.OH, g.OW, g.C});  // [B, OH, OW, C]
  const Shape x_shape = x.shape();
  const Shape block_shape{blk.B, blk.H, blk.W, blk.C};
  // Output and gradient conversions between the NHWC block and the layer's layout.
  auto to_layer = [transpose](const Tensor& t, const Shape& layer_shape) {
    return transpose ? ops::nhwc_to_nchw(t) : t.reshape(layer_shape);
  };
  // The max pool's argmax routes the gradient; it is recorded only when a tape
  // will be kept. Its int64 indices live in a block from the tensor cache
  // (two floats per index), so each step reuses the previous step's block.
  const bool average = kind_ == Kind::kAverage;
  std::shared_ptr<float[]> argmax_block;
  if (average) {
    ops::avg_pool2d(xin.data(), g, yb.data());
  } else {
    if (grad_enabled() && x.requires_grad()) argmax_block = aligned_floats(2 * yb.numel());
    ops::max_pool2d(xin.data(), g, yb.data(), argmax_block ? reinterpret_cast<int64_t*>(argmax_block.get()) : nullptr);
  }
  // (A literal tape name: class_name() builds a std::string, and
  // "AveragePooling2D" is too long for its inline storage, a heap allocation
  // per step. The tape entry itself keeps any name inline.)
  return {make_result(to_layer(yb, out_shape), {x}, average ? "avg_pool2d" : "max_pool2d",
                      [average, argmax_block, transpose, block_shape, x_shape, g](const Tensor& dy,
                                                                                  const std::vector<bool>&) {
                        const Tensor dyb = transpose ? ops::nchw_to_nhwc(dy) : dy.reshape({g.N, g.OH, g.OW, g.C});
                        Tensor dxb(block_shape);
                        if (average) {
                          ops::avg_pool2d_backward(dyb.data(), g, dxb.data());
                        } else {
                          ops::max_pool2d_backward(dyb.data(), reinterpret_cast<const int64_t*>(argmax_block.get()),
                                                   g, dxb.data());
                        }
                        return Grads{transpose ? ops::nhwc_to_nchw(dxb) : dxb.reshape(x_shape)};
                      })};
}

json Pooling2DImpl::get_config() const {
  json c = base_config();
  c["pool_size"] = pool_size_.to_json();
  c["padding"] = padding_;
  c["strides"] = strides_.to_json();
  c["data_format"] = data_format_;
  return c;
}

std::pair<Size2D, Pooling2DOptions> Pooling2DImpl::parse_config(const json& c, const std::string& class_name) {
  const std::string owner = detail::layer_owner(c, class_name);
  ConfigReader r(c, owner);
  r.check_keys({"pool_size", "padding", "strides", "data_format"});
  Pooling2DOptions o;
  detail::set_common_options(o, detail::naming_owner(owner, [&] { return common_options_from_config(r); }));
  const Size2D pool_size = size2d_from_json(c, "pool_size", 2, owner);
  if (r.has("strides")) o.strides = size2d_from_json(c, "strides", pool_size, owner);
  o.padding = r.str("padding", "valid");
  o.data_format = r.str("data_format", "");
  return {pool_size, std::move(o)};
}

MINIDL_REGISTER_LAYER("MaxPooling2D", [](const json& c) -> LayerPtr { return MaxPooling2DImpl::from_config(c); },
                      {"MaxPool2D"});
MINIDL_REGISTER_LAYER("AveragePooling2D",
                      [](const json& c) -> LayerPtr { return AveragePooling2DImpl::from_config(c); }, {"AvgPool2D"});

}  // namespace minidl
