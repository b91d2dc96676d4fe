// train/predict.cpp — Model::predict and predict_on_batch: inference in batches, sharded across replicas.
#include <algorithm>
#include <memory>
#include <vector>

#include "core/errors.h"
#include "core/scratch.h"
#include "train/array_source.h"
#include "train/distributed.h"
#include "train/distributed_fit.h"
#include "train/model.h"
#include "train/predict_subbatch.h"

namespace minidl {

// predict over a source, in one process or as one of several replicas.
struct PredictLoop {
  ModelImpl& m;
  std::unique_ptr<distributed::detail::Replicas> rep =
      distributed::size() > 1 ? std::make_unique<distributed::detail::Replicas>(m) : nullptr;

  // Inference over a source, batch by batch, into one [N, ...] output.
  Tensor predict(BatchSource& source) {
    if (rep) return predict_sharded(source);
    NoGradGuard no_grad;
    Tensor out;
    Tensor x, y;
    int64_t row = 0;
    source.begin_epoch(0);
    const int64_t n = source.num_samples();
    while (source.next_batch(x, y)) {
      const Tensor& o = predict_batch(x);
      if (!out.defined()) out = Tensor(with_rows(o.shape(), n));
      MINIDL_CHECK(row + o.dim(0) <= n, ValueError,
                   "model '{}': predict's source gave more than the {} samples it announced", m.name(), n);
      out.slice_rows(row, row + o.dim(0)).copy_from(o);
      row += o.dim(0);
    }
    if (!out.defined()) return Tensor(output_shape(nullptr, 0));  // no batches
    return row == n ? out : out.slice_rows(0, row);
  }

  // The model's single output for a batch x (inference, no tape), in
  // sub-batches that run in parallel (train/predict_subbatch.h). The input
  // lists are each thread's scratch and the outputs pooled, so a steady-state
  // call allocates nothing (tests/alloc).
  static Tensor one_batch(ModelImpl& m, const Tensor& x) {
    MINIDL_CHECK(x.defined() && x.rank() >= 1, ValueError, "model '{}': predict received a batch without a batch axis",
                 m.name());
    m.ensure_graph(x.shape());
    return detail::predict_single_output(m, x);
  }
  Tensor predict_batch(const Tensor& x) { return one_batch(m, x); }

  // The output shape for `rows` inputs shaped like *x (like the graph's own input when x is null).
  Shape output_shape(const Shape* x, int64_t rows) {
    MINIDL_CHECK(x || !m.inputs().empty(), ValueError,
                 "model '{}': predict received no batches and the model is not built", m.name());
    const Shape in = x ? with_rows(*x, kNone) : with_rows(m.inputs()[0].shape(), kNone);
    const auto shapes = m.compute_output_shape({in});
    MINIDL_CHECK(shapes.size() == 1, ValueError, "model '{}' has {} outputs; use the vector form of predict",
                 m.name(), shapes.size());
    return with_rows(shapes[0], rows);
  }

  // Each rank predicts its shard of every batch; the rows are gathered back
  // in the source's order on every rank.
  Tensor predict_sharded(BatchSource& source) {
    NoGradGuard no_grad;
    std::vector<float> local;
    std::vector<int64_t> batch_rows;
    Shape in_shape;
    bool any = false;
    Tensor x, y;
    source.begin_epoch(0);
    while (source.next_batch(x, y)) {
      MINIDL_CHECK(x.defined() && x.rank() >= 1, ValueError,
                   "model '{}': predict received a batch without a batch axis", m.name());
      m.ensure_graph(x.shape());
      in_shape = x.shape();
      any = true;
      batch_rows.push_back(x.dim(0));
      const auto shard = rep->shard(x.dim(0));
      if (shard.rows() == 0) continue;
      const Tensor o = predict_batch(x.slice_rows(shard.begin, shard.end));
      local.insert(local.end(), o.data(), o.data() + o.numel());
    }
    int64_t total = 0;
    for (int64_t r : batch_rows) total += r;
    Tensor out(output_shape(any ? &in_shape : nullptr, total));
    const int64_t row = total ? out.numel() / total : 0;
    rep->gather_rows(local, batch_rows, row, out.data());
    return out;
  }
};

std::vector<Tensor> ModelImpl::predict(const std::vector<Tensor>& xs, int64_t batch_size) {
  MINIDL_CHECK(!xs.empty() && xs[0].defined() && xs[0].rank() >= 1, ValueError,
               "model '{}': predict needs input tensors with a batch axis", name());
  MINIDL_CHECK(batch_size >= 1, ValueError, "predict: batch_size must be >= 1, received {}", batch_size);
  const int64_t n = xs[0].dim(0);
  for (const auto& x : xs)
    MINIDL_CHECK(x.defined() && x.rank() >= 1 && x.dim(0) == n, ValueError,
                 "model '{}': all inputs must have {} samples", name(), n);
  ensure_graph(xs[0].shape());
  NoGradGuard no_grad;
  std::vector<Tensor> outputs;
  const ScratchLease<std::vector<Variable>> in;
  for (int64_t b = 0; b < n; b += batch_size) {
    const int64_t e = std::min(n, b + batch_size);
    in->clear();
    for (const auto& x : xs) in->emplace_back(x.slice_rows(b, e));
    const VariableList out = call_with_masks(*in, CallArgs{}, nullptr);
    if (outputs.empty())
      for (const auto& o : out) outputs.emplace_back(with_rows(o.shape(), n));
    for (size_t i = 0; i < out.size(); ++i) outputs[i].slice_rows(b, e).copy_from(out[i].value());
  }
  if (outputs.empty()) {  // n == 0: shapes from the graph
    for (const auto& s : compute_output_shape({with_rows(xs[0].shape(), kNone)})) outputs.emplace_back(with_rows(s, 0));
  }
  return outputs;
}

Tensor ModelImpl::predict(const Tensor& x, int64_t batch_size, int /*verbose*/) {
  MINIDL_CHECK(x.defined() && x.rank() >= 1, ValueError, "model '{}': predict needs an input tensor with a batch axis",
               name());
  MINIDL_CHECK(batch_size >= 1, ValueError, "predict: batch_size must be >= 1, received {}", batch_size);
  ensure_graph(x.shape());
  ArraySource source(x, Tensor(), Tensor(), batch_size, false);
  return distributed::detail::collective([&] { return PredictLoop{*this}.predict(source); });
}

Tensor ModelImpl::predict(BatchSource& source) {
  return distributed::detail::collective([&] { return PredictLoop{*this}.predict(source); });
}

Tensor ModelImpl::predict_on_batch(const Tensor& x) {
  if (x.defined() && x.rank() >= 1 && x.dim(0) == 0) return predict(std::vector<Tensor>{x}, 1).at(0);  // shapes only
  const Tensor o = PredictLoop::one_batch(*this, x);
  // A copy: the graph's output may be a view of the input (an identity model).
  Tensor out(o.shape());
  out.copy_from(o);
  return out;
}

}  // namespace minidl
