// train/array_source.cpp — arrays in memory as a BatchSource (train/array_source.h).
#include "train/array_source.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace minidl {

namespace {

// Copies rows idx[begin..end) of src into dst (dst has end - begin rows).
void gather_rows(const Tensor& src, const std::vector<int64_t>& idx, int64_t begin, int64_t end, Tensor& dst) {
  const int64_t row = src.dim(0) ? src.numel() / src.dim(0) : 0;
  for (int64_t i = begin; i < end; ++i)
    std::copy_n(src.data() + idx[i] * row, row, dst.data() + (i - begin) * row);
}

}  // namespace

ArraySource::ArraySource(Tensor x, Tensor y, Tensor sample_weight, int64_t batch_size, bool shuffle,
                         Generator* generator)
    : x_(std::move(x)),
      y_(std::move(y)),
      sw_(std::move(sample_weight)),
      n_(x_.dim(0)),
      batch_size_(batch_size),
      shuffle_(shuffle),
      generator_(generator ? generator : &global_generator()) {
  if (sw_.defined()) sw_ = sw_.reshape({n_, 1});  // rows of one value, for gather_rows
  if (shuffle_) {
    order_.resize(static_cast<size_t>(n_));
    const int64_t rows = std::min(batch_size_, std::max<int64_t>(n_, 1));
    xb_ = Tensor(with_rows(x_.shape(), rows));
    if (y_.defined()) yb_ = Tensor(with_rows(y_.shape(), rows));
    if (sw_.defined()) swb_ = Tensor({rows, 1});
  }
}

void ArraySource::begin_epoch(int /*epoch*/) {
  next_ = 0;
  if (!shuffle_) return;
  std::iota(order_.begin(), order_.end(), 0);
  std::shuffle(order_.begin(), order_.end(), *generator_);
}

bool ArraySource::next_batch(Tensor& x, Tensor& y) {
  if (next_ >= n_) return false;
  const int64_t b = next_, e = std::min(n_, next_ + batch_size_);
  next_ = e;
  if (!shuffle_) {
    x = x_.slice_rows(b, e);
    if (y_.defined()) y = y_.slice_rows(b, e);
    if (sw_.defined()) batch_sw_ = sw_.slice_rows(b, e).reshape({e - b});
    return true;
  }
  x = xb_.slice_rows(0, e - b);
  gather_rows(x_, order_, b, e, x);
  if (y_.defined()) {
    y = yb_.slice_rows(0, e - b);
    gather_rows(y_, order_, b, e, y);
  }
  if (sw_.defined()) {
    Tensor rows = swb_.slice_rows(0, e - b);
    gather_rows(sw_, order_, b, e, rows);
    batch_sw_ = rows.reshape({e - b});
  }
  return true;
}

}  // namespace minidl
