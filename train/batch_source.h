// train/batch_source.h — a stream of batches that fit, evaluate and predict can read.
//
// Arrays in memory are the common case (fit(x, y, ...)), but some inputs are
// too large or too slow to hold at once: a folder of images decoded while the
// model trains (io/image_dataset.h). Such an input is a BatchSource, the C++
// form of a batched Keras dataset: it decides the batch size and the order of
// its samples, and fit reads it pass by pass:
//
//   source.begin_epoch(epoch);
//   while (source.next_batch(x, y)) { ... one step on (x, y) ... }
//
// As with a tf.data dataset in Keras, FitOptions::batch_size and ::shuffle do
// not apply to a source: it is already batched and shuffles itself.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace minidl {

class BatchSource {
 public:
  virtual ~BatchSource() = default;

  // Samples in one full pass.
  virtual int64_t num_samples() const = 0;
  // Batches in one full pass (the progress bar's target).
  virtual int64_t num_batches() const = 0;
  // Starts pass number `epoch` (0-based); a shuffling source draws that pass's
  // order here, from its own seed and the epoch, so a pass is reproducible.
  virtual void begin_epoch(int epoch) = 0;
  // Fills the next batch of the pass: x [B, ...] and, when the source has
  // labels, y [B, ...] (otherwise y is left empty). Returns false, touching
  // neither, once the pass is over.
  virtual bool next_batch(Tensor& x, Tensor& y) = 0;
};

}  // namespace minidl
