// layers/parts/keras_object.h — KerasObject, the interface of everything Keras saves
// by class name and config.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace minidl {

using json = nlohmann::json;

// An object Keras writes as {"class_name": ..., "config": ...}: initializers,
// regularizers, constraints, losses, optimizers, learning-rate schedules.
class KerasObject {
 public:
  virtual ~KerasObject() = default;
  // Keras class name, e.g. "GlorotUniform".
  virtual std::string class_name() const = 0;
  // Keras config object with Keras's keys, e.g. {"seed": null}.
  virtual json get_config() const = 0;
};

// {"class_name": ..., "config": ...} for `object`, or null for nullptr.
json class_and_config(const KerasObject* object);

}  // namespace minidl
