// train/predict_subbatch.cpp — predict's sub-batches (train/predict_subbatch.h): their size, and
// running them in parallel.
#include "train/predict_subbatch.h"

#include <algorithm>
#include <vector>

#include "core/errors.h"
#include "core/scratch.h"
#include "core/threads.h"
#include "layers/base/node.h"
#include "train/array_source.h"
#include "train/model.h"

namespace minidl::detail {

namespace {

// The activations one sub-batch may keep in cache: a layer's input and output
// for every image of the sub-batch (the L2 of one core of the machines measured
// in docs/PERFORMANCE.md holds 1.25-2 MiB).
constexpr int64_t kSubBatchBytes = int64_t{1} << 20;

// The fewest images per sub-batch: each sub-batch reads every weight of the
// model once, and below a few images that read is a large part of the work.
constexpr int64_t kMinSubBatch = 4;

// A network whose layers do less than this many multiply-adds per image on
// average is one of many small operations (MobileNet: about 40k, ResNet-8 on
// 32x32 images: 0.4M): split one operation at a time over threads, each
// thread's part is a few microseconds against a hand-off that costs about as
// much, and the whole batch's activations (ResNet-8's: 2 MiB a layer at batch
// 32) stream through memory between the small operations. Above it (the Keras
// mnist_cnn: 1.5M, with a 4.7 MB Dense kernel every sub-batch would read again)
// the operations themselves split well, and grow more efficient with the batch
// (longer GEMMs, one kernel transform for more tiles). Measured at batch 32 on 2
// threads (AMD EPYC Zen 5, OpenBLAS's Haswell kernels): ResNet-8 about 15% faster in 4
// sub-batches than whole, the mnist_cnn no faster in 2, 4 or 8.
constexpr int64_t kSmallLayerWork = int64_t{1} << 20;

// What the walk over a model's layers gathers, per image.
struct Footprint {
  int64_t largest = 0;  // floats of the largest value a layer computes
  int64_t work = 0;     // multiply-adds, roughly: kernel size times output positions, or output size
  int64_t layers = 0;   // layers with a node (models inside the model counted by their layers)
  bool unknown = false; // some value's shape is not known
};

// Adds the layer's nodes (or, for a model inside the model, its layers' nodes) to f.
void add_footprint(const Layer& layer, Footprint& f) {
  if (!layer.sublayer_list().empty()) {
    for (const auto& sub : layer.sublayer_list()) add_footprint(*sub, f);
    return;
  }
  int64_t kernel = 0;  // the layer's largest weight
  for (const Weight& w : layer.own_weights()) kernel = std::max(kernel, w.variable.value().numel());
  for (const auto& node : layer.inbound_nodes()) {
    ++f.layers;
    for (const auto& spec : node->output_specs()) {
      const Shape& shape = spec->shape;
      int64_t floats = 1;
      for (size_t d = 1; d < shape.size(); ++d) {
        if (shape[d] == kNone) f.unknown = true;
        floats *= std::max<int64_t>(shape[d], 1);
      }
      const int64_t channels = shape.size() > 1 ? std::max<int64_t>(shape.back(), 1) : 1;
      f.largest = std::max(f.largest, floats);
      f.work += kernel > 0 ? kernel * (floats / channels) : floats;
    }
  }
}

// Whether two threads may call the model at once: every layer is built (a first
// call builds), and none records activity losses during the call.
bool callable_in_parallel(const Layer& layer) {
  if (!layer.built() || layer.activity_regularizer()) return false;
  for (const auto& sub : layer.sublayer_list())
    if (!callable_in_parallel(*sub)) return false;
  return true;
}

// The model's single output for x, as the graph computes it.
Tensor run_model(ModelImpl& m, const Tensor& x) {
  NoGradGuard no_grad;
  const ScratchLease<std::vector<Variable>> in;
  in->assign(1, Variable(x));
  const VariableList outs = m.call_with_masks(*in, CallArgs{}, nullptr);
  MINIDL_CHECK(outs.size() == 1, ValueError, "model '{}' has {} outputs; use the vector form of predict", m.name(),
               outs.size());
  return outs[0].value();
}

// How many sub-batches of at most `sub` images cover `batch`: a power of two, so
// that they share out evenly over 2, 4 or 8 threads, and fewer when that would
// leave sub-batches below kMinSubBatch images.
int64_t sub_batch_count(int64_t batch, int64_t sub) {
  const int64_t needed = (batch + sub - 1) / sub;
  int64_t count = 1;
  while (count < needed) count *= 2;
  while (count > 1 && batch / count < kMinSubBatch) count /= 2;
  return count;
}

}  // namespace

int64_t predict_sub_batches(const ModelImpl& m, int64_t batch) {
  if (batch < 2 * kMinSubBatch) return 1;
  Footprint f;
  for (const auto& layer : m.sublayer_list()) add_footprint(*layer, f);
  if (f.unknown || f.largest <= 0 || f.layers == 0 || f.work >= kSmallLayerWork * f.layers) return 1;
  const int64_t per_image = 2 * f.largest * static_cast<int64_t>(sizeof(float));
  return sub_batch_count(batch, std::max<int64_t>(kSubBatchBytes / per_image, 1));
}

Tensor predict_single_output(ModelImpl& m, const Tensor& x) {
  MINIDL_CHECK(x.defined() && x.rank() >= 1, ValueError, "model '{}': predict received a batch without a batch axis",
               m.name());
  const int64_t batch = x.dim(0);
  const int64_t count = predict_sub_batches(m, batch);  // of batch/count images, give or take one
  if (count <= 1) return run_model(m, x);
  const auto rows = [&](int64_t c) { return batch * c / count; };
  const ScratchLease<std::vector<Tensor>> outputs;
  outputs->resize(static_cast<size_t>(count));
  const auto run = [&](int64_t c) {
    (*outputs)[static_cast<size_t>(c)] = run_model(m, x.slice_rows(rows(c), rows(c + 1)));
  };
  if (callable_in_parallel(m)) {
    parallel_chunks(count, parallel_slots(count), [&](int64_t, int64_t c) { run(c); });
  } else {
    for (int64_t c = 0; c < count; ++c) run(c);
  }
  const Tensor& first = outputs->front();
  Tensor out = Tensor::empty(with_rows(first.shape(), batch));  // every row written below
  for (int64_t c = 0; c < count; ++c) {
    const Tensor& o = (*outputs)[static_cast<size_t>(c)];
    MINIDL_CHECK(o.rank() == first.rank() && o.dim(0) == rows(c + 1) - rows(c), ValueError,
                 "model '{}': predict's sub-batch {} of rows [{}, {}) gave an output of shape {}", m.name(), c,
                 rows(c), rows(c + 1), shape_str(o.shape()));
    out.slice_rows(rows(c), rows(c + 1)).copy_from(o);
  }
  return out;
}

}  // namespace minidl::detail
