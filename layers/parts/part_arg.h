// layers/parts/part_arg.h — arguments that name an object or hold one: NameOrObject,
// and PartArg, the options-struct field that says which part (initializer,
// regularizer, constraint, activation) a layer uses.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <concepts>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

namespace minidl {

// A Keras name ("adam", "he_normal") or a shared pointer to a T; the derived
// argument classes resolve a name with the lookup of their kind.
template <class T>
class NameOrObject {
 public:
  NameOrObject(const char* name) : name_(name) {}
  NameOrObject(std::string name) : name_(std::move(name)) {}
  template <class U>
    requires std::derived_from<U, T>
  NameOrObject(std::shared_ptr<U> object) : object_(std::move(object)) {}

  // The name given ("" when an object was).
  const std::string& name() const { return name_; }

 protected:
  std::string name_;
  std::shared_ptr<T> object_;
};

// A part by name, object (copied through its clone()) or pointer, or nothing
// (resolves to nullptr: the layer's own default). `get` is the part's by-name
// lookup (get_initializer, ...).
template <class Part, std::shared_ptr<Part> (*get)(const nlohmann::json&)>
class PartArg : public NameOrObject<Part> {
 public:
  using NameOrObject<Part>::NameOrObject;
  PartArg() : NameOrObject<Part>(std::string()) {}
  PartArg(std::nullptr_t) : PartArg() {}
  PartArg(const Part& part) : NameOrObject<Part>(part.clone()) {}

  bool has_value() const { return this->object_ || !this->name_.empty(); }
  // The part named or held (nullptr when unset). ValueError for an unknown name.
  std::shared_ptr<Part> resolve() const {
    return this->object_ ? this->object_ : this->name_.empty() ? nullptr : get(this->name_);
  }
};

}  // namespace minidl
