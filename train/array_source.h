// train/array_source.h — arrays in memory as a BatchSource: what fit(x, y), evaluate and predict read.
//
// fit(x, y, {.batch_size, .shuffle, .sample_weight}) and fit(source) share one
// loop (train/fit.cpp); arrays reach it through this source. A pass visits the
// samples in order, or in a fresh permutation per pass when shuffling (drawn
// from the given generator, the global one by default), batch_size rows at a
// time with a smaller last batch. Shuffled batches are gathered into buffers
// reused from batch to batch; ordered ones are views of the arrays.
#pragma once

#include <cstdint>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"
#include "train/batch_source.h"

namespace minidl {

// s with its batch axis (the first) set to n.
inline Shape with_rows(Shape s, int64_t n) {
  s[0] = n;
  return s;
}

class ArraySource final : public BatchSource {
 public:
  // x [N, ...]; y [N, ...] or undefined (predict); sample_weight [N] or
  // undefined. Requires batch_size >= 1 and matching sample counts (the
  // caller checks them and names its own call in the error).
  ArraySource(Tensor x, Tensor y, Tensor sample_weight, int64_t batch_size, bool shuffle,
              Generator* generator = nullptr);

  int64_t num_samples() const override { return n_; }
  int64_t num_batches() const override { return (n_ + batch_size_ - 1) / batch_size_; }
  void begin_epoch(int epoch) override;
  bool next_batch(Tensor& x, Tensor& y) override;
  // The sample weights of the batch next_batch last filled ([B]); undefined
  // when the source has none.
  const Tensor& batch_sample_weight() const { return batch_sw_; }

 private:
  Tensor x_, y_, sw_;
  int64_t n_ = 0, batch_size_ = 1;
  bool shuffle_ = false;
  Generator* generator_ = nullptr;
  int64_t next_ = 0;  // first row of the next batch in the pass
  std::vector<int64_t> order_;
  Tensor xb_, yb_, swb_;  // gather buffers of batch_size rows (shuffled passes)
  Tensor batch_sw_;
};

}  // namespace minidl
