// <minidl/minidl.h> — everything a user needs, in one include.
//
// Reading order for a learner (each header opens with an overview):
//   core/tensor.h -> ops/blas.h, ops/im2col.h -> autograd/variable.h ->
//   layers/layer.h + layers/node.h -> layers/conv2d.h -> layers/model.h ->
//   train/fit.h -> io/keras_h5.h
#pragma once

#include "core/errors.h"
#include "core/logging.h"
#include "core/random.h"
#include "core/shape.h"
#include "core/tensor.h"
#include "core/threads.h"

#include "ops/blas.h"
#include "ops/elementwise.h"
#include "ops/im2col.h"
#include "ops/reduce.h"
#include "ops/softmax.h"
#include "ops/transpose.h"

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "autograd/variable.h"
