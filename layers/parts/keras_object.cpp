// layers/parts/keras_object.cpp — the {"class_name", "config"} record of a KerasObject.
#include "layers/parts/keras_object.h"

#include <nlohmann/json.hpp>

namespace minidl {

json class_and_config(const KerasObject* object) {
  if (!object) return nullptr;
  return {{"class_name", object->class_name()}, {"config", object->get_config()}};
}

}  // namespace minidl
