// train/distributed_fit.cpp — the replica side of fit: state broadcast, shards, bucketed gradient sums.
//
// Gradient buckets: the trainable weights are laid out in reverse order (the
// last layers' gradients are complete first in the backward sweep) into
// buckets of about kBucketBytes, each one contiguous float buffer. As the
// sweep reports a weight complete (BackwardObserver), its gradient, scaled by
// this rank's share of the global batch, is copied into its bucket; a bucket
// whose weights are all in starts its sum (MPI_Iallreduce) while the sweep
// goes on to the layers below. Buckets start in index order on every rank, as
// MPI requires collectives to be issued in the same order everywhere.
#include "train/distributed_fit.h"

#include <algorithm>
#include <cstring>

#include "core/errors.h"
#include "core/random.h"
#include "train/distributed.h"
#include "train/model.h"

namespace minidl::distributed::detail {

namespace {

// Horovod fuses up to 64 MB and PyTorch DDP buckets 25 MB for large models;
// a small CNN (the mnist_cnn has 4.8 MB of gradients) needs smaller buckets
// to have more than one, so that the first can travel during the backward.
constexpr int64_t kBucketBytes = int64_t{1} << 20;

}  // namespace

Shard shard_of(int64_t rows, int r, int p) {
  const int64_t base = rows / p, extra = rows % p;
  const int64_t begin = r * base + std::min<int64_t>(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

Replicas::Replicas(ModelImpl& model) : model_(model), rank_(distributed::rank()), size_(distributed::size()) {}

namespace {
GradientSyncStats g_last_fit_stats;
}  // namespace

Replicas::~Replicas() {
  sums_.wait();
  if (stats_.steps > 0) g_last_fit_stats = stats_;
}

void Replicas::broadcast_state() {
  for (Variable w : model_.weights()) {
    Tensor& v = w.mutable_value();
    broadcast(v.data(), v.numel());
  }
  if (auto* opt = dynamic_cast<OptimizerBase*>(model_.optimizer().get())) {
    for (const Variable& p : model_.trainable_weights())
      for (Tensor& slot : opt->slots_of(p)) broadcast(slot.data(), slot.numel());
    uint64_t it = static_cast<uint64_t>(opt->iterations());
    broadcast(&it, 1);
    opt->set_iterations(static_cast<int64_t>(it));
  }
}

uint64_t Replicas::shared_seed() {
  uint64_t seed = rank_ == 0 ? random_u64() : 0;
  broadcast(&seed, 1);
  return seed;
}

void Replicas::layout(const std::vector<Variable>& params) {
  bool same = layout_ids_.size() == params.size();
  for (size_t i = 0; same && i < params.size(); ++i) same = layout_ids_[i] == params[i].id();
  if (same) return;
  sums_.wait();
  layout_ids_.clear();
  slot_of_.clear();
  slots_.assign(params.size(), Slot());
  buckets_.clear();
  int64_t fill = 0;
  for (size_t k = params.size(); k-- > 0;) {
    const int64_t numel = params[k].value().numel();
    if (buckets_.empty() || (fill > 0 && (fill + numel) * 4 > kBucketBytes)) {
      buckets_.emplace_back();
      fill = 0;
    }
    slots_[k] = {static_cast<int>(buckets_.size() - 1), fill, numel, false};
    fill += numel;
    buckets_.back().params += 1;
    buckets_.back().data.resize(static_cast<size_t>(fill));
  }
  for (size_t k = 0; k < params.size(); ++k) {
    layout_ids_.push_back(params[k].id());
    slot_of_.emplace(params[k].id(), k);
  }
  stats_.buckets = static_cast<int>(buckets_.size());
  stats_.bytes_per_step = 0;
  for (const auto& b : buckets_) stats_.bytes_per_step += static_cast<int64_t>(b.data.size()) * 4;
}

Replicas::StepScope::StepScope(Replicas& r, const std::vector<Variable>& params, double share)
    : previous_observer_(backward_observer()), previous_sum_(cross_replica_sum()) {
  r.layout(params);
  r.share_ = share;
  r.next_bucket_ = 0;
  for (auto& b : r.buckets_) {
    b.remaining = b.params;
    b.started = false;
  }
  for (auto& s : r.slots_) s.reported = false;
  set_backward_observer(&r);
  set_cross_replica_sum(&r);
}

Replicas::StepScope::~StepScope() {
  set_backward_observer(previous_observer_);
  set_cross_replica_sum(previous_sum_);
}

void Replicas::sum(double* values, int64_t n) { allreduce_sum(values, n); }

void Replicas::leaf_ready(const void* leaf_id, const Tensor& grad) {
  auto it = slot_of_.find(leaf_id);
  if (it == slot_of_.end()) return;  // a leaf that is not a trainable weight
  Slot& s = slots_[it->second];
  if (s.reported) return;
  MINIDL_CHECK(grad.numel() == s.numel, ValueError, "distributed fit: a gradient of {} values for a weight of {}",
               grad.numel(), s.numel);
  Bucket& b = buckets_[static_cast<size_t>(s.bucket)];
  float* dst = b.data.data() + s.offset;
  const float* src = grad.data();
  const float share = static_cast<float>(share_);
  for (int64_t i = 0; i < s.numel; ++i) dst[i] = src[i] * share;
  s.reported = true;
  if (--b.remaining == 0) start_ready_buckets();
  sums_.progress();
}

void Replicas::start_ready_buckets() {
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].remaining == 0) {
    Bucket& b = buckets_[next_bucket_++];
    b.started = true;
    sums_.start(b.data.data(), static_cast<int64_t>(b.data.size()));
  }
}

void Replicas::finish_gradients(const std::vector<Variable>& params) {
  const auto backward_end = std::chrono::steady_clock::now();
  // Weights the sweep did not report: their gradient (if any) as it stands,
  // zeros otherwise; every rank reaches the same buckets.
  for (size_t k = 0; k < params.size(); ++k) {
    Slot& s = slots_[k];
    if (s.reported) continue;
    Bucket& b = buckets_[static_cast<size_t>(s.bucket)];
    float* dst = b.data.data() + s.offset;
    const Tensor& g = params[k].grad();
    if (g.defined()) {
      for (int64_t i = 0; i < s.numel; ++i) dst[i] = g.data()[i] * static_cast<float>(share_);
    } else {
      std::fill_n(dst, s.numel, 0.f);
    }
    s.reported = true;
    --b.remaining;
  }
  start_ready_buckets();
  sums_.wait();
  for (size_t k = 0; k < params.size(); ++k) {
    Variable p = params[k];
    if (!p.grad().defined()) continue;
    const Slot& s = slots_[k];
    std::memcpy(p.mutable_grad().data(), buckets_[static_cast<size_t>(s.bucket)].data.data() + s.offset,
                static_cast<size_t>(s.numel) * sizeof(float));
  }
  const auto done = std::chrono::steady_clock::now();
  ++stats_.steps;
  stats_.backward_seconds += std::chrono::duration<double>(backward_end - backward_start_).count();
  stats_.wait_seconds += std::chrono::duration<double>(done - backward_end).count();
}

void Replicas::gather_rows(const std::vector<float>& local, const std::vector<int64_t>& batch_rows, int64_t row,
                           float* out) {
  std::vector<int64_t> counts(static_cast<size_t>(size_), 0);
  for (int r = 0; r < size_; ++r)
    for (int64_t rows : batch_rows) counts[static_cast<size_t>(r)] += shard_of(rows, r, size_).rows() * row;
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  std::vector<float> all(static_cast<size_t>(total));
  allgather(local.data(), counts, all.data());
  // all holds rank 0's rows of every batch, then rank 1's, ...: put them back batch by batch.
  std::vector<int64_t> read(static_cast<size_t>(size_), 0);
  for (int r = 1; r < size_; ++r) read[static_cast<size_t>(r)] = read[static_cast<size_t>(r) - 1] + counts[r - 1];
  int64_t at = 0;
  for (int64_t rows : batch_rows) {
    for (int r = 0; r < size_; ++r) {
      const int64_t n = shard_of(rows, r, size_).rows() * row;
      std::copy_n(all.data() + read[static_cast<size_t>(r)], n, out + at);
      read[static_cast<size_t>(r)] += n;
      at += n;
    }
  }
}

}  // namespace minidl::distributed::detail

namespace minidl::distributed {

GradientSyncStats last_fit_stats() { return detail::g_last_fit_stats; }

}  // namespace minidl::distributed
