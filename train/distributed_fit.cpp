// train/distributed_fit.cpp — the replica side of fit: state broadcast, shards, bucketed gradient sums.
//
// Gradient buckets: the trainable weights are laid out in reverse order (the
// last layers' gradients are complete first in the backward sweep) into
// buckets of at most GradientSyncOptions::bucket_bytes, each one contiguous
// float buffer; a weight that does not fit in the room left opens the next
// bucket, and a weight larger than a bucket is split into equal buckets of its own.
// As the sweep reports a weight complete (BackwardObserver), its gradient,
// scaled by this rank's share of the global batch, is copied into its
// buckets; a bucket whose pieces are all in starts its sum (MPI_Iallreduce)
// while the sweep goes on to the layers below. Buckets start in index order on
// every rank, as MPI requires collectives to be issued in the same order
// everywhere. Open MPI advances a started sum only inside an MPI call, so
// after every tape entry of the sweep one MPI_Testall lets the sums move on
// (a progress thread would need MPI_THREAD_MULTIPLE and a core of its own,
// which the ranks of a full machine do not have; docs/DISTRIBUTED.md).
#include "train/distributed_fit.h"

#include <algorithm>
#include <cstring>

#include "core/errors.h"
#include "core/random.h"
#include "train/distributed.h"
#include "train/model.h"

namespace minidl::distributed::detail {

namespace {

GradientSyncOptions g_options;
GradientSyncStats g_last_fit_stats;
std::vector<double> g_last_fit_step_waits;

}  // namespace

void set_gradient_sync_options(const GradientSyncOptions& options) {
  MINIDL_CHECK(options.bucket_bytes >= 4, ValueError, "distributed: bucket_bytes must be at least 4, received {}",
               options.bucket_bytes);
  g_options = options;
}
GradientSyncOptions gradient_sync_options() { return g_options; }
std::vector<double> last_fit_step_waits() { return g_last_fit_step_waits; }

Shard shard_of(int64_t rows, int r, int p) {
  const int64_t base = rows / p, extra = rows % p;
  const int64_t begin = r * base + std::min<int64_t>(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

Replicas::Replicas(ModelImpl& model)
    : model_(model), rank_(distributed::rank()), size_(distributed::size()), options_(g_options) {}

Replicas::~Replicas() {
  sums_.wait();
  if (stats_.steps > 0) {
    g_last_fit_stats = stats_;
    g_last_fit_step_waits = std::move(step_waits_);
  }
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
  in_flight_ = false;
  layout_ids_.clear();
  slot_of_.clear();
  slots_.assign(params.size(), Slot());
  pieces_.clear();
  buckets_.clear();
  const int64_t room = std::max<int64_t>(1, options_.bucket_bytes / static_cast<int64_t>(sizeof(float)));
  int64_t fill = 0;
  bool open = false;  // whether the last bucket takes more weights
  auto add_piece = [&](int64_t at, int64_t n) {
    pieces_.push_back({static_cast<int>(buckets_.size() - 1), fill, at, n});
    buckets_.back().pieces += 1;
    fill += n;
  };
  for (size_t k = params.size(); k-- > 0;) {
    Slot& s = slots_[k];
    s.numel = params[k].value().numel();
    s.first_piece = pieces_.size();
    if (open && fill + s.numel > room) open = false;
    if (s.numel > room) {
      // Equal parts, each a bucket of its own: all start together when the weight is complete.
      const int64_t parts = (s.numel + room - 1) / room;
      for (int64_t c = 0; c < parts; ++c) {
        buckets_.emplace_back();
        fill = 0;
        add_piece(s.numel * c / parts, s.numel * (c + 1) / parts - s.numel * c / parts);
      }
      open = false;
    } else if (s.numel > 0) {
      if (!open) {
        buckets_.emplace_back();
        fill = 0;
        open = true;
      }
      add_piece(0, s.numel);
    }
    s.pieces = pieces_.size() - s.first_piece;
  }
  for (const Piece& p : pieces_) {
    auto& data = buckets_[static_cast<size_t>(p.bucket)].data;
    data.resize(std::max(data.size(), static_cast<size_t>(p.bucket_offset + p.numel)));
  }
  for (size_t k = 0; k < params.size(); ++k) {
    layout_ids_.push_back(params[k].id());
    slot_of_.emplace(params[k].id(), k);
  }
  stats_.buckets = static_cast<int>(buckets_.size());
  stats_.bytes_per_step = 0;
  for (const auto& b : buckets_) stats_.bytes_per_step += static_cast<int64_t>(b.data.size() * sizeof(float));
}

Replicas::StepScope::StepScope(Replicas& r, const std::vector<Variable>& params, double share)
    : previous_observer_(backward_observer()), previous_sum_(cross_replica_sum()) {
  r.layout(params);
  r.share_ = share;
  r.next_bucket_ = 0;
  for (auto& b : r.buckets_) b.remaining = b.pieces;
  for (auto& s : r.slots_) s.reported = false;
  set_backward_observer(&r);
  set_cross_replica_sum(&r);
}

Replicas::StepScope::~StepScope() {
  set_backward_observer(previous_observer_);
  set_cross_replica_sum(previous_sum_);
}

void Replicas::sum(double* values, int64_t n) { allreduce_sum(values, n); }

// Copies a weight's gradient (null: zeros) times this rank's share into its
// pieces; counts the pieces in.
void Replicas::write_pieces(Slot& s, const float* grad) {
  const float share = static_cast<float>(share_);
  for (size_t i = s.first_piece; i < s.first_piece + s.pieces; ++i) {
    const Piece& p = pieces_[i];
    Bucket& b = buckets_[static_cast<size_t>(p.bucket)];
    float* dst = b.data.data() + p.bucket_offset;
    if (grad) {
      const float* src = grad + p.weight_offset;
      for (int64_t j = 0; j < p.numel; ++j) dst[j] = src[j] * share;
    } else {
      std::fill_n(dst, p.numel, 0.f);
    }
    --b.remaining;
  }
  s.reported = true;
}

void Replicas::leaf_ready(const void* leaf_id, const Tensor& grad) {
  auto it = slot_of_.find(leaf_id);
  if (it == slot_of_.end()) return;  // a leaf that is not a trainable weight
  Slot& s = slots_[it->second];
  if (s.reported) return;
  MINIDL_CHECK(grad.numel() == s.numel, ValueError, "distributed fit: a gradient of {} values for a weight of {}",
               grad.numel(), s.numel);
  write_pieces(s, grad.data());
  if (options_.overlap) start_ready_buckets();
}

void Replicas::entry_done() {
  if (in_flight_) in_flight_ = !sums_.progress();
}

void Replicas::start_ready_buckets() {
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].remaining == 0) {
    Bucket& b = buckets_[next_bucket_++];
    sums_.start(b.data.data(), static_cast<int64_t>(b.data.size()));
    in_flight_ = true;
  }
}

void Replicas::finish_gradients(const std::vector<Variable>& params) {
  const auto backward_end = std::chrono::steady_clock::now();
  // Weights the sweep did not report: their gradient (if any) as it stands,
  // zeros otherwise; every rank reaches the same buckets.
  for (size_t k = 0; k < params.size(); ++k) {
    Slot& s = slots_[k];
    if (s.reported) continue;
    const Tensor& g = params[k].grad();
    write_pieces(s, g.defined() ? g.data() : nullptr);
  }
  if (options_.overlap) {
    start_ready_buckets();
    sums_.wait();
    in_flight_ = false;
  } else {
    for (auto& b : buckets_) allreduce_sum(b.data.data(), static_cast<int64_t>(b.data.size()));
  }
  for (size_t k = 0; k < params.size(); ++k) {
    Variable p = params[k];
    if (!p.grad().defined()) continue;
    const Slot& s = slots_[k];
    float* grad = p.mutable_grad().data();
    for (size_t i = s.first_piece; i < s.first_piece + s.pieces; ++i) {
      const Piece& piece = pieces_[i];
      std::memcpy(grad + piece.weight_offset,
                  buckets_[static_cast<size_t>(piece.bucket)].data.data() + piece.bucket_offset,
                  static_cast<size_t>(piece.numel) * sizeof(float));
    }
  }
  const auto done = std::chrono::steady_clock::now();
  ++stats_.steps;
  stats_.backward_seconds += std::chrono::duration<double>(backward_end - backward_start_).count();
  const double wait = std::chrono::duration<double>(done - backward_end).count();
  stats_.wait_seconds += wait;
  step_waits_.push_back(wait);
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
