// train/distributed_fit.h — internal to train/: what fit, evaluate and predict do on several replicas.
//
// train/fit.cpp runs one loop; when distributed::size() > 1 it holds a
// Replicas and calls it at the few points where a replica differs from a
// single process (docs/DISTRIBUTED.md gives the semantics):
//   fit start   broadcast_state(): rank 0's weights and optimizer state everywhere;
//               shared_seed(): one shuffle for all ranks
//   each batch  shard(): this rank's rows of the global batch
//   train step  StepScope: gradients averaged in buckets during backward
//               (a BackwardObserver, which also lets MPI advance the started
//               sums after every tape entry), BatchNormalization statistics summed
//               across replicas (a CrossReplicaSum); finish_gradients()
//               before the optimizer
//   logs        sum(): the loss and metrics of all ranks, weighted by rows
//   predict     gather_rows(): every rank's shard rows back in batch order
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <unordered_map>
#include <vector>

#include "autograd/backward_observer.h"
#include "autograd/variable.h"
#include "layers/normalization/cross_replica.h"
#include "train/distributed.h"
#include "train/distributed_comm.h"

namespace minidl {
class ModelImpl;
}

namespace minidl::distributed::detail {

// Rows [begin, end) of a global batch of `rows` rows that rank `r` of `p`
// takes: contiguous blocks whose sizes differ by at most one, the first
// rows % p ranks one row larger.
struct Shard {
  int64_t begin = 0, end = 0;
  int64_t rows() const { return end - begin; }
};
Shard shard_of(int64_t rows, int r, int p);


// Runs f(). On several ranks an exception from f ends the whole job with its
// message (abort_job) instead of leaving the other ranks waiting for this one.
template <class F>
decltype(auto) collective(F&& f) {
  if (distributed::size() == 1) return f();
  try {
    return f();
  } catch (const std::exception& e) {
    abort_job(e.what());
  }
}

// How gradients are summed across ranks (benchmarks and tests; the defaults
// are what training uses). Read when a fit starts.
struct GradientSyncOptions {
  // Largest fused buffer; a weight larger than that is split into equal buckets.
  int64_t bucket_bytes = int64_t{1} << 20;
  // true: each bucket's sum starts (MPI_Iallreduce) as soon as its gradients
  // are complete in the backward sweep; false: the same buckets are summed one
  // after the other (MPI_Allreduce) after the backward. Both add the same
  // floats in the same order: the results are identical.
  bool overlap = true;
};
void set_gradient_sync_options(const GradientSyncOptions& options);
GradientSyncOptions gradient_sync_options();
// The seconds the last fit on several ranks waited for the sums after each
// train step's backward on this rank, one value per step.
std::vector<double> last_fit_step_waits();

class Replicas : public BackwardObserver, public CrossReplicaSum {
 public:
  explicit Replicas(ModelImpl& model);
  ~Replicas() override;
  Replicas(const Replicas&) = delete;
  Replicas& operator=(const Replicas&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  Shard shard(int64_t rows) const { return shard_of(rows, rank_, size_); }

  // Rank 0's weights (trainable and not), optimizer slots and step count on every rank.
  void broadcast_state();
  // A value drawn on rank 0 (from its global generator), the same on every rank.
  uint64_t shared_seed();

  // Sets the hooks of one train step on this thread; `share` is this rank's
  // rows / the global batch's rows. Clears them when it ends.
  class StepScope {
   public:
    StepScope(Replicas& r, const std::vector<Variable>& params, double share);
    ~StepScope();
    StepScope(const StepScope&) = delete;
    StepScope& operator=(const StepScope&) = delete;

   private:
    BackwardObserver* previous_observer_;
    CrossReplicaSum* previous_sum_;
  };
  // After backward: starts the buckets not yet started, waits for all and
  // writes the averaged gradients into the parameters' .grad.
  void finish_gradients(const std::vector<Variable>& params);
  // Marks the end of the forward pass (timing of the backward, for the bench).
  void forward_done() { backward_start_ = std::chrono::steady_clock::now(); }

  // In place: the sum over ranks (blocking).
  void sum(double* values, int64_t n) override;
  double share() const override { return share_; }

  void leaf_ready(const void* leaf_id, const Tensor& grad) override;
  void entry_done() override;

  // Local rows of every batch (`batch_rows` = each global batch's rows),
  // `row` floats each, gathered from all ranks into `out` in global order.
  void gather_rows(const std::vector<float>& local, const std::vector<int64_t>& batch_rows, int64_t row, float* out);

  const GradientSyncStats& stats() const { return stats_; }

 private:
  struct Bucket {
    std::vector<float> data;
    int pieces = 0;     // parts of weights in it
    int remaining = 0;  // pieces not yet reported this step
  };
  // A run of one weight's gradient inside one bucket.
  struct Piece {
    int bucket = 0;
    int64_t bucket_offset = 0, weight_offset = 0, numel = 0;
  };
  struct Slot {
    size_t first_piece = 0, pieces = 0;  // its pieces: pieces_[first_piece, first_piece + pieces)
    int64_t numel = 0;
    bool reported = false;
  };
  void write_pieces(Slot& s, const float* grad);
  void layout(const std::vector<Variable>& params);
  void start_ready_buckets();

  ModelImpl& model_;
  int rank_ = 0, size_ = 1;
  double share_ = 1.0;
  std::vector<Bucket> buckets_;
  std::vector<const void*> layout_ids_;                // the parameters the layout was made for
  std::unordered_map<const void*, size_t> slot_of_;  // parameter id -> index in slots_
  std::vector<Slot> slots_;
  std::vector<Piece> pieces_;
  GradientSyncOptions options_;
  size_t next_bucket_ = 0;  // buckets start in index order on every rank
  bool in_flight_ = false;  // started sums not yet seen complete
  AsyncSums sums_;
  GradientSyncStats stats_;
  std::vector<double> step_waits_;
  std::chrono::steady_clock::time_point backward_start_{};
};

}  // namespace minidl::distributed::detail
