// layers/base/kernel_bias_options.h — the option fields of a layer that computes
// activation(x . kernel + bias): Dense, Conv2D and Conv2DTranspose.
#pragma once

#include "layers/base/layer.h"
#include "layers/parts/activations.h"

// Keras's arguments from `activation` to `bias_constraint`, in Keras's order and
// with its defaults. An options struct lists its layer's own arguments first,
// then these, then MINIDL_COMMON_LAYER_OPTIONS, so designated initializers can
// name any of them: Dense(10, {.activation = "relu", .kernel_regularizer = L2(1e-4)}).
// activation unset is linear (Keras's None).
#define MINIDL_KERNEL_BIAS_OPTIONS                                        \
  ::minidl::ActivationArg activation{};                                   \
  bool use_bias = true;                                                   \
  ::minidl::InitializerArg kernel_initializer = "glorot_uniform";         \
  ::minidl::InitializerArg bias_initializer = "zeros";                    \
  ::minidl::RegularizerArg kernel_regularizer{};                          \
  ::minidl::RegularizerArg bias_regularizer{};                            \
  ::minidl::RegularizerArg activity_regularizer{};                        \
  ::minidl::ConstraintArg kernel_constraint{};                            \
  ::minidl::ConstraintArg bias_constraint {}
