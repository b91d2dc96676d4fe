// layers/conv/conv_layer_internal.cpp — owner-named part resolution and config plumbing.
#include "layers/conv/conv_layer_internal.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace minidl::detail {

std::string config_owner(const json& c, const std::string& class_name) {
  if (c.is_object() && c.contains("name") && c["name"].is_string())
    return fmt::format("{} '{}'", class_name, c["name"].get<std::string>());
  return class_name;
}

std::shared_ptr<Initializer> resolve_initializer(const InitializerArg& arg, const std::string& owner) {
  auto init = naming_owner(owner, [&] { return arg.resolve(); });
  return init ? init : get_initializer("glorot_uniform");
}

std::shared_ptr<Activation> resolve_activation(const ActivationArg& arg, const std::string& owner) {
  auto act = naming_owner(owner, [&] { return arg.resolve(); });
  return act ? act : get_activation(nullptr);
}

std::shared_ptr<Regularizer> resolve_regularizer(const RegularizerArg& arg, const std::string& owner) {
  return naming_owner(owner, [&] { return arg.resolve(); });
}

std::shared_ptr<Constraint> resolve_constraint(const ConstraintArg& arg, const std::string& owner) {
  return naming_owner(owner, [&] { return arg.resolve(); });
}

void read_initializer(const ConfigReader& r, const json& c, const char* key, InitializerArg& out) {
  // A present null is Keras's None (glorot_uniform once resolved), so it is
  // read from the raw config rather than through r.has(), which skips nulls.
  if (!c.contains(key)) return;
  auto init = naming_owner(r.owner(), [&] { return get_initializer(c.at(key)); });
  out = init ? InitializerArg(init) : InitializerArg(nullptr);
}

void read_activation(const ConfigReader& r, const char* key, ActivationArg& out) {
  if (r.has(key)) out = naming_owner(r.owner(), [&] { return get_activation(r.raw(key)); });
}

void read_regularizer(const ConfigReader& r, const char* key, RegularizerArg& out) {
  if (r.has(key)) out = naming_owner(r.owner(), [&] { return get_regularizer(r.raw(key)); });
}

void read_constraint(const ConfigReader& r, const char* key, ConstraintArg& out) {
  if (r.has(key)) out = naming_owner(r.owner(), [&] { return get_constraint(r.raw(key)); });
}

WeightParts resolve_parts(const InitializerArg& initializer, const RegularizerArg& regularizer,
                          const ConstraintArg& constraint, const std::string& owner) {
  return {resolve_initializer(initializer, owner), resolve_regularizer(regularizer, owner),
          resolve_constraint(constraint, owner)};
}

void read_parts(const ConfigReader& r, const json& c, const std::string& weight, InitializerArg& initializer,
                RegularizerArg& regularizer, ConstraintArg& constraint) {
  read_initializer(r, c, (weight + "_initializer").c_str(), initializer);
  read_regularizer(r, (weight + "_regularizer").c_str(), regularizer);
  read_constraint(r, (weight + "_constraint").c_str(), constraint);
}

void write_parts(json& c, const std::string& weight, const WeightParts& parts) {
  c[weight + "_initializer"] = serialize_initializer(parts.initializer);
  c[weight + "_regularizer"] = serialize_regularizer(parts.regularizer);
  c[weight + "_constraint"] = serialize_constraint(parts.constraint);
}

}  // namespace minidl::detail
