// train/predict_subbatch.h — predict's sub-batches: a large batch is computed a few images at a
// time, and the sub-batches run in parallel, one thread each.
//
// At batch 32 the activations of one layer outgrow the core's L2 cache (MobileNet's first
// blocks: 2 MiB), so every layer streams its input and output through memory, and the small
// layers of a real network split over threads one operation at a time pay a hand-off per
// operation. predict therefore cuts a batch into sub-batches whose activations stay in L2,
// and runs each sub-batch through the whole network on one thread (the inference plan's
// folded weights, each step's own workspace) while the other threads run the others.
//
// The split depends on the batch and the model alone, never on the thread count, so the
// results do not depend on it (docs/DESIGN.md "Results do not depend on the thread
// count"): one thread computes the same sub-batches one after the other. A sub-batch's
// outputs equal the same images' outputs computed alone within float rounding (the kernels
// block their loops by the batch they are given).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace minidl {

class ModelImpl;

namespace detail {

// How many sub-batches predict cuts a batch of `batch` inputs into (1: none),
// from the model's layers: a network of small layers (on average under 1M
// multiply-adds per image) is cut into sub-batches of at least 4 images whose
// largest layer input and output fit in 1 MiB, their number a power of two;
// other networks run the whole batch, each operation split over the threads.
int64_t predict_sub_batches(const ModelImpl& m, int64_t batch);

// The model's single output for the batch x (inference, no tape), once the model
// has its graph for x's shape (ModelImpl::ensure_graph), computed in
// predict_sub_batches(m, x.dim(0)) sub-batches; the graph's own output
// (possibly a view of x) when there is one sub-batch. ValueError as predict for a
// batch without a batch axis or a model with several outputs.
Tensor predict_single_output(ModelImpl& m, const Tensor& x);

}  // namespace detail
}  // namespace minidl
