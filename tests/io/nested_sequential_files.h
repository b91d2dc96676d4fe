// tests/io/nested_sequential_files.h — test data for tests/io/nested_sequential_io_test.cpp: a small ConvNeXt-like
// model written as Keras 3.15 writes it, in `.keras` and legacy `.h5`, with minidl's HDF5 and zip writers. The
// configs and weight paths follow Keras 3.15: models/sequential.py get_config (the InputLayer Keras prepends when
// the Sequential is first called, then build_input_shape), models/functional.py (nodes {"args", "kwargs"}, an
// operation keeps only its name), saving_lib (weights at /layers/sequential/layers/conv2d/vars/0 of
// model.weights.h5: keys are snake-cased class names made unique per list, operations are not layers) and
// legacy_h5_format (one group per top-level layer, a nested model's weights listed by their scoped paths, trainable
// first, top_level_model_weights).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/hdf5.h"
#include "io/zip.h"
#include "support/files.h"
#include "support/tensors.h"

namespace minidl::testing::convnext_like {

using json = nlohmann::json;

// Input 16x16x3 -> stem (Conv2D 8, 4x4 stride 4; LayerNormalization) -> 4x4x8 -> block -> downsampling
// (LayerNormalization; Conv2D 16, 2x2 stride 2) -> 2x2x16 -> GlobalAveragePooling2D -> LayerNormalization
// -> Dense 5 softmax.
constexpr int64_t kSide = 16, kDim = 8, kWide = 16, kClasses = 5, kBatch = 2;

// The weights in Keras 3 order (kernel then bias; gamma then beta), shared by every model built here.
struct Weights {
  std::map<std::string, Tensor> t;
  Weights() {
    uint64_t seed = 100;
    auto put = [&](const std::string& k, const Shape& s, float scale, float offset = 0) {
      Tensor v = random_tensor(s, ++seed);
      for (int64_t i = 0; i < v.numel(); ++i) v[i] = v[i] * scale + offset;
      t[k] = v;
    };
    put("stem_kernel", {4, 4, 3, kDim}, 0.3f);
    put("stem_bias", {kDim}, 0.1f);
    put("stem_gamma", {kDim}, 0.2f, 1.0f);
    put("stem_beta", {kDim}, 0.1f);
    put("dw_kernel", {7, 7, kDim, 1}, 0.2f);
    put("dw_bias", {kDim}, 0.1f);
    put("ln_gamma", {kDim}, 0.2f, 1.0f);
    put("ln_beta", {kDim}, 0.1f);
    put("pw1_kernel", {kDim, 4 * kDim}, 0.4f);
    put("pw1_bias", {4 * kDim}, 0.1f);
    put("pw2_kernel", {4 * kDim, kDim}, 0.3f);
    put("pw2_bias", {kDim}, 0.1f);
    put("scale_gamma", {kDim}, 0.5f);  // far from init_values, so the branch counts
    put("ds_gamma", {kDim}, 0.2f, 1.0f);
    put("ds_beta", {kDim}, 0.1f);
    put("ds_kernel", {2, 2, kDim, kWide}, 0.3f);
    put("ds_bias", {kWide}, 0.1f);
    put("head_gamma", {kWide}, 0.2f, 1.0f);
    put("head_beta", {kWide}, 0.1f);
    put("head_kernel", {kWide, kClasses}, 0.5f);
    put("head_bias", {kClasses}, 0.1f);
  }
  const Tensor& operator[](const std::string& k) const { return t.at(k); }
};

inline const Weights& weights() {
  static const Weights w;
  return w;
}

// --- configs as Keras 3.15 writes them --------------------------------------------------------

inline json dtype_policy() {
  return {{"module", "keras"}, {"class_name", "DTypePolicy"}, {"config", {{"name", "float32"}}}, {"registered_name", nullptr}};
}

inline json initializer(const std::string& cls) {
  json c = json::object();
  if (cls == "GlorotUniform") c = {{"seed", nullptr}, {"input_axes", nullptr}, {"output_axes", nullptr}};
  return {{"module", "keras.initializers"}, {"class_name", cls}, {"config", c}, {"registered_name", nullptr}};
}

inline json common(const std::string& name) { return {{"name", name}, {"trainable", true}, {"dtype", dtype_policy()}}; }

inline json conv2d(const std::string& name, int64_t filters, int64_t k, int64_t s) {
  json c = common(name);
  c.update({{"filters", filters}, {"kernel_size", {k, k}}, {"strides", {s, s}}, {"padding", "valid"},
            {"data_format", "channels_last"}, {"dilation_rate", {1, 1}}, {"groups", 1}, {"activation", "linear"},
            {"use_bias", true}, {"kernel_initializer", initializer("GlorotUniform")},
            {"bias_initializer", initializer("Zeros")}, {"kernel_regularizer", nullptr},
            {"bias_regularizer", nullptr}, {"activity_regularizer", nullptr}, {"kernel_constraint", nullptr},
            {"bias_constraint", nullptr}});
  return c;
}

inline json layer_norm(const std::string& name) {
  json c = common(name);
  // Keras's build() turns axis -1 into the list [-1], and get_config writes the list.
  c.update({{"axis", {-1}}, {"epsilon", 1e-6}, {"center", true}, {"scale", true}, {"rms_scaling", false},
            {"beta_initializer", initializer("Zeros")}, {"gamma_initializer", initializer("Ones")},
            {"beta_regularizer", nullptr}, {"gamma_regularizer", nullptr}, {"beta_constraint", nullptr},
            {"gamma_constraint", nullptr}});
  return c;
}

inline json depthwise(const std::string& name) {
  json c = common(name);
  c.update({{"depth_multiplier", 1}, {"kernel_size", {7, 7}}, {"strides", {1, 1}}, {"padding", "same"},
            {"data_format", "channels_last"}, {"dilation_rate", {1, 1}}, {"activation", "linear"},
            {"use_bias", true}, {"depthwise_initializer", initializer("GlorotUniform")},
            {"bias_initializer", initializer("Zeros")}, {"depthwise_regularizer", nullptr},
            {"bias_regularizer", nullptr}, {"activity_regularizer", nullptr}, {"depthwise_constraint", nullptr},
            {"bias_constraint", nullptr}});
  return c;
}

inline json dense(const std::string& name, int64_t units, const std::string& activation) {
  json c = common(name);
  c.update({{"units", units}, {"activation", activation}, {"use_bias", true},
            {"kernel_initializer", initializer("GlorotUniform")}, {"bias_initializer", initializer("Zeros")},
            {"kernel_regularizer", nullptr}, {"bias_regularizer", nullptr}, {"kernel_constraint", nullptr},
            {"bias_constraint", nullptr}, {"quantization_config", nullptr}});
  return c;
}

inline json activation(const std::string& name, const std::string& fn) {
  json c = common(name);
  c["activation"] = fn;
  return c;
}

inline json input_layer(const std::string& name, const json& batch_shape) {
  return {{"batch_shape", batch_shape}, {"dtype", "float32"}, {"sparse", false},
          {"ragged", false},           {"name", name},       {"optional", false}};
}

inline json shape_of(std::initializer_list<int64_t> dims) {
  json s = json::array({nullptr});
  for (int64_t d : dims) s.push_back(d);
  return s;
}

// One serialized layer: `.keras` wraps it with module/registered_name (and build_config when built
// from a shape); the legacy `.h5` writes only class_name and config.
struct Writer {
  bool keras;
  json entry(const std::string& module, const std::string& cls, json config, const json& build_shape,
             const json& registered = nullptr) const {
    json e = {{"class_name", cls}, {"config", std::move(config)}};
    if (!keras) return e;
    e = {{"module", module}, {"class_name", cls}, {"config", e["config"]}, {"registered_name", registered}};
    if (!build_shape.is_null()) e["build_config"] = {{"input_shape", build_shape}};
    return e;
  }
  json layer(const std::string& cls, json config, const json& build_shape) const {
    return entry("keras.layers", cls, std::move(config), build_shape);
  }
  // A nested Sequential: the InputLayer Keras prepends when the model is first called, then its layers.
  json sequential(const std::string& name, const std::string& input_name, const json& in_shape,
                  std::vector<json> layers) const {
    json list = json::array({entry("keras.layers", "InputLayer", input_layer(input_name, in_shape), nullptr)});
    for (auto& l : layers) list.push_back(std::move(l));
    json c = {{"name", name}, {"trainable", true}, {"dtype", dtype_policy()}, {"layers", list},
              {"build_input_shape", in_shape}};
    return entry("keras", "Sequential", c, in_shape);
  }
};

inline json keras_tensor(const std::string& layer, const json& shape) {
  return {{"class_name", "__keras_tensor__"},
          {"config", {{"shape", shape}, {"dtype", "float32"}, {"keras_history", {layer, 0, 0}}}}};
}

inline json call(std::vector<json> args) { return {{"args", args}, {"kwargs", json::object()}}; }

// The model_config / config.json of the model, in Keras 3.15's `.keras` form or its legacy `.h5` form.
inline json model_config(bool keras) {
  const Writer w{keras};
  const json s_in = shape_of({kSide, kSide, 3}), s4 = shape_of({4, 4, kDim}), s4w = shape_of({4, 4, 4 * kDim});
  const json s2 = shape_of({2, 2, kWide}), s_vec = shape_of({kWide});
  json layers = json::array();
  std::string prev = "input_layer";
  json prev_shape = s_in;
  auto add = [&](json e, const std::string& name, std::vector<json> args, const json& out_shape) {
    e["name"] = name;
    e["inbound_nodes"] = json::array({call(std::move(args))});
    layers.push_back(std::move(e));
    prev = name;
    prev_shape = out_shape;
  };
  json in = w.entry("keras.layers", "InputLayer", input_layer("input_layer", s_in), nullptr);
  in["name"] = "input_layer";
  in["inbound_nodes"] = json::array();
  layers.push_back(in);

  add(w.sequential("convnext_stem", "input_layer_1", s_in,
                   {w.layer("Conv2D", conv2d("convnext_stem_conv", kDim, 4, 4), s_in),
                    w.layer("LayerNormalization", layer_norm("convnext_stem_layernorm"), s4)}),
      "convnext_stem", {keras_tensor(prev, prev_shape)}, s4);
  const std::string block_in = prev;
  add(w.layer("DepthwiseConv2D", depthwise("block_depthwise_conv"), s4), "block_depthwise_conv",
      {keras_tensor(prev, prev_shape)}, s4);
  add(w.layer("LayerNormalization", layer_norm("block_layernorm"), s4), "block_layernorm",
      {keras_tensor(prev, prev_shape)}, s4);
  add(w.layer("Dense", dense("block_pointwise_conv_1", 4 * kDim, "linear"), s4), "block_pointwise_conv_1",
      {keras_tensor(prev, prev_shape)}, s4w);
  add(w.layer("Activation", activation("block_gelu", "gelu"), nullptr), "block_gelu",
      {keras_tensor(prev, prev_shape)}, s4w);
  add(w.layer("Dense", dense("block_pointwise_conv_2", kDim, "linear"), s4w), "block_pointwise_conv_2",
      {keras_tensor(prev, prev_shape)}, s4);
  json ls = common("block_layer_scale");
  ls.update({{"init_values", 1e-6}, {"projection_dim", kDim}});
  add(w.entry("keras.src.applications.convnext", "LayerScale", ls, s4, "LayerScale"), "block_layer_scale",
      {keras_tensor(prev, prev_shape)}, s4);
  add(w.layer("Activation", activation("block_identity", "linear"), nullptr), "block_identity",
      {keras_tensor(prev, prev_shape)}, s4);
  // `inputs + layer(x)`: an operation with two tensor arguments; Keras writes only its name.
  add(w.entry("keras.src.ops.numpy", "Add", {{"name", "add"}}, nullptr, "Add"), "add",
      {keras_tensor(block_in, s4), keras_tensor(prev, prev_shape)}, s4);
  add(w.sequential("convnext_downsampling_block_0", "input_layer_2", s4,
                   {w.layer("LayerNormalization", layer_norm("convnext_downsampling_layernorm_0"), s4),
                    w.layer("Conv2D", conv2d("convnext_downsampling_conv_0", kWide, 2, 2), s4)}),
      "convnext_downsampling_block_0", {keras_tensor(prev, prev_shape)}, s2);
  json gap = common("head_gap");
  gap.update({{"data_format", "channels_last"}, {"keepdims", false}});
  add(w.layer("GlobalAveragePooling2D", gap, nullptr), "head_gap", {keras_tensor(prev, prev_shape)}, s_vec);
  add(w.layer("LayerNormalization", layer_norm("head_layernorm"), s_vec), "head_layernorm",
      {keras_tensor(prev, prev_shape)}, s_vec);
  add(w.layer("Dense", dense("head_dense", kClasses, "softmax"), s_vec), "head_dense",
      {keras_tensor(prev, prev_shape)}, shape_of({kClasses}));

  json c = {{"name", "convnext_like"},
            {"trainable", true},
            {"layers", layers},
            {"input_layers", {"input_layer", 0, 0}},
            {"output_layers", {"head_dense", 0, 0}}};
  if (!keras) return {{"class_name", "Functional"}, {"config", c}};
  return {{"module", "keras.src.models.functional"},
          {"class_name", "Functional"},
          {"config", c},
          {"registered_name", "Functional"},
          {"build_config", {{"input_shape", nullptr}}},
          {"compile_config", json::object()}};
}

// (weights-file key or layer group, layer name, [weight keys in Keras order]) of each top-level layer,
// nested Sequential models holding their layers.
struct LayerWeights {
  std::string key, name;
  std::vector<std::string> weights;
  std::vector<LayerWeights> inner;
};

inline std::vector<LayerWeights> layout() {
  return {{"input_layer", "input_layer", {}, {}},
          {"sequential",
           "convnext_stem",
           {},
           {{"conv2d", "convnext_stem_conv", {"stem_kernel", "stem_bias"}, {}},
            {"layer_normalization", "convnext_stem_layernorm", {"stem_gamma", "stem_beta"}, {}}}},
          {"depthwise_conv2d", "block_depthwise_conv", {"dw_kernel", "dw_bias"}, {}},
          {"layer_normalization", "block_layernorm", {"ln_gamma", "ln_beta"}, {}},
          {"dense", "block_pointwise_conv_1", {"pw1_kernel", "pw1_bias"}, {}},
          {"activation", "block_gelu", {}, {}},
          {"dense_1", "block_pointwise_conv_2", {"pw2_kernel", "pw2_bias"}, {}},
          {"layer_scale", "block_layer_scale", {"scale_gamma"}, {}},
          {"activation_1", "block_identity", {}, {}},
          {"sequential_1",
           "convnext_downsampling_block_0",
           {},
           {{"layer_normalization", "convnext_downsampling_layernorm_0", {"ds_gamma", "ds_beta"}, {}},
            {"conv2d", "convnext_downsampling_conv_0", {"ds_kernel", "ds_bias"}, {}}}},
          {"global_average_pooling2d", "head_gap", {}, {}},
          {"layer_normalization_1", "head_layernorm", {"head_gamma", "head_beta"}, {}},
          {"dense_2", "head_dense", {"head_kernel", "head_bias"}, {}}};
}

// Keras's own short names of the weights (the dataset names under the variables' scopes).
inline std::string short_name(const std::string& key) {
  if (key == "scale_gamma") return "variable";  // LayerScale's add_weight has no name
  return key.substr(key.find('_') + 1);
}

// model.weights.h5 as saving_lib writes it: vars/ of every saveable (attr name), layers/<key>/...
inline void write_keras3_weights(const h5::Group& root, const std::vector<LayerWeights>& list, const std::string& base) {
  for (const auto& l : list) {
    const std::string path = base + "/" + l.key;
    const h5::Group vars = root.create_group(path + "/vars");
    vars.write_string_attr("name", l.name);
    for (size_t i = 0; i < l.weights.size(); ++i) vars.write_tensor(std::to_string(i), weights()[l.weights[i]]);
    if (!l.inner.empty()) write_keras3_weights(root, l.inner, path + "/layers");
  }
}

inline std::string write_keras_file() {
  const std::string path = fresh_path("convnext_like.keras");
  h5::H5File w = h5::H5File::create_in_memory("model.weights.h5");
  w.root().create_group("vars").write_string_attr("name", "convnext_like");
  write_keras3_weights(w.root(), layout(), "layers");
  const std::string cfg = model_config(true).dump();
  const std::string meta = R"({"keras_version": "3.15.1", "date_saved": "2026-12-06@21:56:37"})";
  write_zip(path, {{"metadata.json", Bytes(meta.begin(), meta.end())},
                   {"config.json", Bytes(cfg.begin(), cfg.end())},
                   {"model.weights.h5", w.image()}});
  return path;
}

// The legacy layout of legacy_h5_format.save_weights_to_hdf5_group: layer_names of model.layers (no
// operations), one group per layer whose weight_names are the variables' paths: a nested model's
// variables carry its scope ("convnext_stem/convnext_stem_conv/kernel"), trainable ones first.
inline std::string write_h5_file() {
  const std::string path = fresh_path("convnext_like.h5");
  h5::H5File f = h5::H5File::create(path);
  const h5::Group root = f.root();
  root.write_string_attr("model_config", model_config(false).dump());
  root.write_string_attr("keras_version", "3.15.1");
  root.write_string_attr("backend", "numpy");
  const h5::Group mw = root.create_group("model_weights");
  std::vector<std::string> names;
  for (const auto& l : layout()) names.push_back(l.name);
  mw.write_string_array_attr("layer_names", names);
  mw.write_string_attr("backend", "numpy");
  mw.write_string_attr("keras_version", "3.15.1");
  auto write_group = [&](const std::string& group_name, const std::vector<std::pair<std::string, std::string>>& ws) {
    const h5::Group g = mw.create_group(group_name);
    std::vector<std::string> wn;
    for (const auto& [wpath, key] : ws) {
      g.write_tensor(wpath, weights()[key]);
      wn.push_back(wpath);
    }
    if (wn.empty()) {
      g.write_empty_array_attr("weight_names");
    } else {
      g.write_string_array_attr("weight_names", wn);
    }
  };
  for (const auto& l : layout()) {
    std::vector<std::pair<std::string, std::string>> ws;
    for (const auto& k : l.weights) ws.emplace_back(l.name + "/" + short_name(k), k);
    for (const auto& sub : l.inner)
      for (const auto& k : sub.weights) ws.emplace_back(l.name + "/" + sub.name + "/" + short_name(k), k);
    write_group(l.name, ws);
  }
  write_group("top_level_model_weights", {});
  return path;
}

}  // namespace minidl::testing::convnext_like
