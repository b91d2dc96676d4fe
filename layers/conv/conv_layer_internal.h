// layers/conv/conv_layer_internal.h — checks and config plumbing shared by the
// convolution family built on Conv2D's kernels: DepthwiseConv2D,
// SeparableConv2D and Conv2DTranspose. Internal to layers/; not part of the
// public API.
//
// Every function that throws names its owner, the "<Class> '<name>'" prefix
// Layer::fail uses, so messages read the same as the layers' own.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>

#include "core/errors.h"
#include "core/shape.h"
#include "layers/parts/activations.h"
#include "layers/base/config_utils.h"
#include "layers/parts/constraints.h"
#include "layers/conv/conv_utils.h"
#include "layers/parts/initializers.h"
#include "layers/parts/regularizers.h"

namespace minidl::detail {

// Runs f, prefixing the message of a ValueError it throws with `owner`: the
// part headers (get_activation, get_initializer, ...) do not know which layer asked.
template <class F>
auto with_owner(const std::string& owner, F&& f) {
  try {
    return f();
  } catch (const ValueError& e) {
    throw ValueError(owner + ": " + e.what());
  }
}

// "<class_name> '<name>'" when the config has a string name, else class_name.
std::string config_owner(const json& config, const std::string& class_name);

// The argument checks Keras's Conv base class makes: kernel_size, strides and
// dilation_rate all >= 1, and not strides > 1 together with dilation_rate > 1.
// ValueError "<owner>: ..." echoing the values received.
void check_conv_arguments(const std::string& owner, const IntPair& kernel_size, const IntPair& strides,
                          const IntPair& dilation_rate);

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

// Channel count of a rank-4 conv input in the given layout. ValueError
// "<owner>: expected input of rank 4 ..." or "... channel dimension ... None".
int64_t conv_input_channels(const std::string& owner, const Shape& s, bool channels_first);

// (rows, cols) of a forward convolution's output for input shape s (rank 4,
// checked by conv_input_channels first); None stays None. ValueError for zero
// spatial dims and, with "valid" padding, inputs smaller than the dilated kernel.
std::pair<int64_t, int64_t> conv_output_rows_cols(const std::string& owner, const Shape& s, bool channels_first,
                                                  const IntPair& kernel_size, const IntPair& strides,
                                                  const IntPair& dilation_rate, bool same_padding);

}  // namespace minidl::detail
