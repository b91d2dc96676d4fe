// layers/reshaping/image_reshaping_layer.h — what ZeroPadding2D, Cropping2D and UpSampling2D
// share: a data_format, a rank-4 input whose two spatial axes change size, and a
// kernel of ops/spatial.h applied to the input's [B, H, W, C] block, with its
// adjoint kernel as the backward pass. Padding2DLayer adds what ZeroPadding2D
// and Cropping2D, each the other's adjoint, share: four amounts under one key.
//
// Internal to layers/reshaping; users name the concrete layers.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layers/base/layer.h"
#include "layers/base/layer_options_internal.h"
#include "layers/base/registry.h"
#include "layers/reshaping/spatial_utils.h"

namespace minidl {

class ImageReshapingLayer : public Layer {
 public:
  const std::string& data_format() const { return data_format_; }

 protected:
  using Layer::Layer;

  // Sets data_format from the option ("" = keras.json default); ValueError
  // "<Class> 'name': The `data_format` argument must be one of ..." otherwise.
  // Called by the constructors after their own argument checks, in Keras's order.
  void init_data_format(const std::string& value);

  // s with each known spatial size n (rows i = 0, cols i = 1) replaced by
  // resize(i, n). ValueError naming the layer unless s has rank 4.
  template <class Resize>
  Shape resized_shape(const Shape& s, Resize&& resize) const {
    const int r = rows_axis(s);
    Shape out = s;
    for (int i = 0; i < 2; ++i)
      if (s[r + i] != kNone) out[r + i] = resize(i, s[r + i]);
    return out;
  }

  // The layer's output on x, differentiable: forward(x_block) computes the
  // output's [B, H', W', C] block from the input's, backward(dy_block, x_block)
  // the input gradient's block, where x_block is the input's ImageBlock.
  template <class Forward, class Backward>
  VariableList apply_to_images(const std::vector<Variable>& inputs, const char* op, Forward&& forward,
                               Backward backward) {
    const Variable& x = single_input(inputs);
    const Shape out_shape = compute_output_shape({x.shape()})[0];
    const bool cf = data_format_ == "channels_first";
    const ImageBlock b = image_block(x.shape(), cf), ob = image_block(out_shape, cf);
    Tensor y = forward(x.value().reshape({b.B, b.H, b.W, b.C}));
    return {make_result(y.reshape(out_shape), {x}, op,
                        [backward = std::move(backward), b, ob, x_shape = x.shape()](const Tensor& dy,
                                                                                   const std::vector<bool>&) {
                          Tensor g = dy.reshape({ob.B, ob.H, ob.W, ob.C});
                          return std::vector<Tensor>{backward(g, b).reshape(x_shape)};
                        })};
  }

  // base_config() plus "data_format".
  json image_config() const;

  // The options every image reshaping layer reads from a config through its
  // ConfigReader r (layers/base/config_utils.h): the common layer options and
  // "data_format" (a missing one is the keras.json default).
  template <class O, class Reader>
  static O image_options_from_config(const Reader& r) {
    O o;
    detail::set_common_options(o, common_options_from_config(r));
    o.data_format = r.str("data_format", "");
    return o;
  }

 private:
  // 1 for channels_last, 2 for channels_first; ValueError naming the layer
  // "expected input of rank 4 (batch, rows, cols, channels), received shape ..." unless s has rank 4.
  int rows_axis(const Shape& s) const;

  std::string data_format_;
};

// The options of ZeroPadding2D and Cropping2D.
struct Padding2DLayerOptions {
  std::string data_format = "";  // "" (None): keras.json image_data_format
  MINIDL_COMMON_LAYER_OPTIONS;
};

// ZeroPadding2D's and Cropping2D's common part: the amounts (top, bottom, left,
// right) removed or added at the image borders, named `key` in messages and configs.
class Padding2DLayer : public ImageReshapingLayer {
 public:
  // {"<key>": [[top, bottom], [left, right]], "data_format"} plus the base keys.
  json get_config() const override;

 protected:
  Padding2DLayer(Padding2D amounts, const char* key, const Padding2DLayerOptions& o,
                 const std::string& default_name_prefix)
      : ImageReshapingLayer(common_options(o), default_name_prefix), amounts_(amounts), key_(key) {}

  // Checks the amounts ("`<key>` values must be >= 0, received ((t, b), (l, r))"),
  // then sets data_format; called by the constructors (class_name() names the layer).
  void init(const std::string& data_format);

  const Padding2D& amounts() const { return amounts_; }

  // Impl from a Keras 2/3 config (Keras 1's flat [t, b, l, r] is accepted too):
  // the amounts under `key` (`fallback` when absent) and "data_format".
  // ValueError for unknown keys or wrong value types.
  template <class Impl>
  static std::shared_ptr<Impl> from_config_with(const json& c, const char* class_name, const char* key,
                                                Padding2D fallback) {
    ConfigReader r(c, class_name);
    r.check_keys({key, "data_format"});
    auto o = image_options_from_config<Padding2DLayerOptions>(r);
    return std::make_shared<Impl>(padding2d_from_json(c, key, fallback, class_name), std::move(o));
  }

 private:
  Padding2D amounts_;
  const char* key_;
};

}  // namespace minidl
