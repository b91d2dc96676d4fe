// layers/conv/conv_layer_internal.h — a layer's parts (activation; each weight's
// initializer, regularizer and constraint) resolved, read from a config and
// written back, with ValueErrors prefixed by the owner "<Class> '<name>'", as
// Layer::fail writes them. Used by ConvBase and PReLU; internal to layers/.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>

#include "core/errors.h"
#include "layers/base/config_utils.h"
#include "layers/base/layer_options_internal.h"
#include "layers/parts/activations.h"
#include "layers/parts/constraints.h"
#include "layers/parts/initializers.h"
#include "layers/parts/regularizers.h"

namespace minidl::detail {

// "<class_name> '<name>'" when the config has a string name, else class_name.
std::string config_owner(const json& config, const std::string& class_name);

// Parts resolved with owner-prefixed errors. Initializers fall back to
// glorot_uniform when unset (Keras's add_weight does that for None); activations
// to linear; regularizers and constraints stay null.
std::shared_ptr<Initializer> resolve_initializer(const InitializerArg& arg, const std::string& owner);
std::shared_ptr<Activation> resolve_activation(const ActivationArg& arg, const std::string& owner);
std::shared_ptr<Regularizer> resolve_regularizer(const RegularizerArg& arg, const std::string& owner);
std::shared_ptr<Constraint> resolve_constraint(const ConstraintArg& arg, const std::string& owner);

// Reading parts from a config: a key that is absent leaves `out` alone (the
// argument's default); a present key (null included, meaning Keras's None) is
// parsed. ValueError prefixed with the reader's owner for bad identifiers.
void read_initializer(const ConfigReader& r, const json& config, const char* key, InitializerArg& out);
void read_activation(const ConfigReader& r, const char* key, ActivationArg& out);
void read_regularizer(const ConfigReader& r, const char* key, RegularizerArg& out);
void read_constraint(const ConfigReader& r, const char* key, ConstraintArg& out);

// The three parts of one weight, resolved: what add_weight takes and what the
// config keys "<weight>_initializer", "<weight>_regularizer" and
// "<weight>_constraint" hold.
struct WeightParts {
  std::shared_ptr<Initializer> initializer;  // never null once resolved
  std::shared_ptr<Regularizer> regularizer;
  std::shared_ptr<Constraint> constraint;
};

WeightParts resolve_parts(const InitializerArg& initializer, const RegularizerArg& regularizer,
                          const ConstraintArg& constraint, const std::string& owner);
// Reads the three keys of `weight` ("kernel" reads kernel_initializer, ...) as the read_* functions do.
void read_parts(const ConfigReader& r, const json& config, const std::string& weight, InitializerArg& initializer,
                RegularizerArg& regularizer, ConstraintArg& constraint);
// Writes the three keys of `weight`.
void write_parts(json& config, const std::string& weight, const WeightParts& parts);

}  // namespace minidl::detail
