// layers/base/registry.h — Keras class name -> layer factory, used by from_config and the .h5 loader.
//
// Each layer registers itself beside its definition:
//   MINIDL_REGISTER_LAYER("Conv2D", [](const json& c) -> LayerPtr { return Conv2DImpl::from_config(c); },
//                         {"Convolution2D"});
// and users register their own layers the same way (or call
// LayerRegistry::instance().add at run time), which is how a Keras file with a
// custom layer loads. There is no central switch over class names.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "layers/base/config_utils.h"
#include "layers/base/layer.h"

namespace minidl {

using LayerFactory = std::function<LayerPtr(const json& config)>;

class LayerRegistry {
 public:
  static LayerRegistry& instance();

  // Registers `class_name` (and aliases). Re-registering a name replaces it (a
  // user may override a built-in).
  void add(const std::string& class_name, LayerFactory factory, const std::vector<std::string>& aliases = {});
  bool contains(const std::string& class_name) const;
  // ValueError "Unknown layer: 'X'..." listing that the class can be registered.
  LayerPtr create(const std::string& class_name, const json& config) const;
  std::vector<std::string> class_names() const;

 private:
  std::vector<std::pair<std::string, LayerFactory>> entries_;
};

struct LayerRegistrar {
  LayerRegistrar(const std::string& class_name, LayerFactory factory, const std::vector<std::string>& aliases = {}) {
    LayerRegistry::instance().add(class_name, std::move(factory), aliases);
  }
};

#define MINIDL_CONCAT_INNER(a, b) a##b
#define MINIDL_CONCAT(a, b) MINIDL_CONCAT_INNER(a, b)
#define MINIDL_REGISTER_LAYER(...) \
  static const ::minidl::LayerRegistrar MINIDL_CONCAT(minidl_layer_registrar_, __COUNTER__)(__VA_ARGS__)

// {"class_name": ..., "config": {...}} -> layer (Keras's deserialize). ValueError when
// the object is malformed or the class unknown.
LayerPtr layer_from_config(const json& class_and_config);
// Layer -> {"class_name": ..., "config": {...}} (Keras's serialize).
json serialize_layer(const Layer& layer);

// The construction arguments every layer config carries: name, trainable,
// dtype, and batch_input_shape (or Keras 3 batch_shape, or input_shape + batch_size).
LayerOptions common_options_from_config(const ConfigReader& r);

}  // namespace minidl
