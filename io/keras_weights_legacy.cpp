// io/keras_weights_legacy.cpp — reading the legacy weight layout (Keras 1, Keras 2, tf.keras, Keras 3 `.h5`): a group
// with `layer_names`, one subgroup per layer whose `weight_names` lists its datasets in
// Keras order. Datasets are always found through weight_names (their paths carry scopes,
// model-name prefixes and uniquifiers that cannot be rebuilt from the layer name).
//
// Conversions follow Keras 2's preprocess_weights_for_loading: Keras 1 channels_first
// kernels (out, in, kh, kw) -> (kh, kw, in, out); kernels saved by Theano, which convolves
// where TensorFlow correlates, are rotated 180 degrees. Keras 1 files carry no backend
// attribute; Theano wrote weight names without the ":0" TensorFlow appends, which is how
// the backend is recognised here (Keras itself skips the flip then, and mispredicts).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

#include "core/errors.h"
#include "core/message.h"
#include "io/keras_internal.h"

namespace minidl::keras_io {
namespace {

struct Source {
  h5::Group group;
  std::string version;
  bool theano = false;
};

std::string string_attr_or(const h5::Object& o, const std::string& name, const std::string& fallback) {
  return o.has_attr(name) ? o.read_string_attr(name) : fallback;
}

// out[i0, i1, i2, i3] = in[j...] where out axis k is in axis perm[k].
Tensor permute4(const Tensor& in, const int (&perm)[4]) {
  const Shape& s = in.shape();
  const Shape os = {s[perm[0]], s[perm[1]], s[perm[2]], s[perm[3]]};
  const std::vector<int64_t> st = strides_of(s);
  Tensor out(os);
  float* o = out.data();
  for (int64_t a = 0; a < os[0]; ++a)
    for (int64_t b = 0; b < os[1]; ++b)
      for (int64_t c = 0; c < os[2]; ++c)
        for (int64_t d = 0; d < os[3]; ++d)
          *o++ = in[a * st[perm[0]] + b * st[perm[1]] + c * st[perm[2]] + d * st[perm[3]]];
  return out;
}

// Keras's convert_kernel: reverse every axis but the last two (the spatial ones of HWIO).
Tensor flip_spatial(const Tensor& in) {
  const Shape& s = in.shape();
  const int spatial = in.rank() - 2;
  const std::vector<int64_t> st = strides_of(s);
  Tensor out(s);
  std::vector<int64_t> idx(s.size(), 0);
  for (int64_t flat = 0; flat < in.numel(); ++flat) {
    int64_t src = 0;
    for (size_t k = 0; k < s.size(); ++k)
      src += (static_cast<int>(k) < spatial ? s[k] - 1 - idx[k] : idx[k]) * st[k];
    out[flat] = in[src];
    for (int k = static_cast<int>(s.size()) - 1; k >= 0 && ++idx[k] == s[k]; --k) idx[k] = 0;
  }
  return out;
}

bool is_conv_class(const std::string& c) {
  return c == "Conv1D" || c == "Conv2D" || c == "Conv3D" || c == "Conv2DTranspose";
}

Tensor convert(const WeightSlot& slot, Tensor v, const Source& src) {
  const std::string cls = slot.owner->class_name();
  if (slot.short_name != "kernel" || !is_conv_class(cls)) return v;
  const json cfg = slot.owner->get_config();
  const bool first = cfg.value("data_format", std::string("channels_last")) == "channels_first";
  if (src.version.rfind('1', 0) == 0 && v.rank() == 4) {
    if (cls == "Conv2D" && first) v = permute4(v, {2, 3, 1, 0});
    if (cls == "Conv2DTranspose") v = first ? permute4(v, {2, 3, 0, 1}) : permute4(v, {0, 1, 3, 2});
  }
  if (src.theano && v.rank() >= 3) v = flip_spatial(v);
  const Shape& want = slot.variable.shape();
  if (v.shape() != want && v.rank() == 4) {
    const Shape& s = v.shape();
    if (Shape{s[3], s[2], s[0], s[1]} == want) v = permute4(v, {3, 2, 0, 1});
  }
  return v;
}

// Reads, converts and checks one dataset for `slot`. ValueError naming the file, the
// dataset path, the expected and the found shape or type.
Tensor read_weight(const h5::Group& layer_group, const std::string& weight_name, const WeightSlot& slot,
                   const Source& src) {
  const h5::Dataset d = layer_group.open_dataset(weight_name);
  const Shape& want = slot.variable.shape();
  auto mismatch = [&](const std::string& found) {
    raise<ValueError>("{}: {}: weight '{}' of {} expects a numeric dataset of shape {}, the file has {}", d.file_name(),
                      d.path(), slot.full_name, layer_label(*slot.owner), shape_str(want), found);
  };
  // Integer datasets are converted, as Keras assigns any stored number type (Normalization's `count`).
  if (d.type_class() != h5::TypeClass::kFloat && d.type_class() != h5::TypeClass::kInteger)
    mismatch(fmt::format("{} of shape {}", d.type_name(), shape_str(d.shape())));
  // Conversions only permute: the element count must already agree (and nothing larger is read).
  if (d.shape().size() != want.size() || d.numel() != numel(want)) mismatch(fmt::format("shape {}", shape_str(d.shape())));
  Tensor v = convert(slot, d.read_tensor(), src);
  if (v.shape() != want) mismatch(fmt::format("shape {}", shape_str(d.shape())));
  return v;
}

// Plans one layer; ValueError on any mismatch.
void plan_layer(const Layer& layer, const h5::Group& g, const Source& src, std::vector<Assignment>& out) {
  const std::vector<WeightSlot> slots = legacy_slots(layer);
  const std::vector<std::string> names = read_names_attr(g, "weight_names");
  if (names.size() != slots.size()) {
    std::vector<std::string> expected;
    for (const auto& s : slots) expected.push_back(fmt::format("{} {}", s.full_name, shape_str(s.variable.shape())));
    raise<ValueError>("{}: {}: {} has {} weight(s) [{}], the file lists {} [{}]", g.file_name(), g.path(),
                      layer_label(layer), slots.size(), join_capped(expected), names.size(), join_capped(names));
  }
  for (size_t i = 0; i < slots.size(); ++i) out.push_back({slots[i].variable, read_weight(g, names[i], slots[i], src)});
}

Source make_source(const h5::Group& group, const h5::Group& file_root, const std::vector<std::string>& layer_names) {
  Source src{group, "", false};
  src.version = string_attr_or(group, "keras_version", string_attr_or(file_root, "keras_version", "1"));
  std::string backend = string_attr_or(group, "backend", string_attr_or(file_root, "backend", ""));
  if (backend.empty()) {
    // Theano never appended ":0" to variable names; TensorFlow always did.
    bool any = false, tf_names = false;
    for (const auto& ln : layer_names) {
      if (!group.is_group(ln)) continue;
      for (const auto& wn : read_names_attr(group.open_group(ln), "weight_names")) {
        any = true;
        tf_names = tf_names || (wn.size() > 2 && wn.compare(wn.size() - 2, 2, ":0") == 0);
      }
    }
    backend = any && !tf_names ? "theano" : "tensorflow";
  }
  src.theano = backend == "theano";
  return src;
}

}  // namespace

std::vector<Assignment> plan_legacy_weights(const ModelImpl& model, const h5::Group& group, const h5::Group& file_root,
                                            const LoadOptions& options) {
  if (!has_names_attr(group, "layer_names"))
    raise<IOError>("{}: {}: no 'layer_names' attribute: not a Keras weights group", group.file_name(), group.path());
  const std::vector<std::string> file_layers = read_names_attr(group, "layer_names");
  const Source src = make_source(group, file_root, file_layers);
  std::vector<Assignment> out;

  if (options.by_name) {
    std::map<std::string, std::vector<LayerPtr>> index;
    for (const auto& l : model.layers()) index[l->name()].push_back(l);
    for (const auto& name : file_layers) {
      auto it = index.find(name);
      if (it == index.end()) continue;
      const h5::Group g = group.open_group(name);
      for (const auto& layer : it->second) {
        plan_layer_by_name(*layer, options, out,
                           [&](std::vector<Assignment>& planned) { plan_layer(*layer, g, src, planned); });
      }
    }
    return out;
  }

  // Topological: the i-th layer with weights in the file goes to the i-th layer with weights in
  // the model (Keras's rule; weightless layers on either side are ignored).
  std::vector<LayerPtr> layers;
  std::vector<std::string> layer_names;
  for (const auto& l : model.layers())
    if (!legacy_slots(*l).empty()) {
      layers.push_back(l);
      layer_names.push_back(l->name());
    }
  std::vector<std::string> saved;
  for (const auto& name : file_layers)
    if (!read_names_attr(group.open_group(name), "weight_names").empty()) saved.push_back(name);
  if (saved.size() != layers.size())
    raise<ValueError>("{}: {}: layer count mismatch: the model has {} layer(s) with weights [{}], the file has {} [{}]",
                      group.file_name(), group.path(), layers.size(), join_capped(layer_names), saved.size(),
                      join_capped(saved));
  for (size_t k = 0; k < layers.size(); ++k) plan_layer(*layers[k], group.open_group(saved[k]), src, out);
  return out;
}

}  // namespace minidl::keras_io
