// layers/normalization/cross_replica.h — batch statistics over every replica's share of a batch.
//
// In data-parallel training each process (replica) holds a slice of the
// global batch. BatchNormalization in training mode then normalizes with the
// statistics of the whole global batch, as one process holding it would
// (synchronized batch normalization): its forward sums each feature's
// values and squared deviations over all replicas, and its backward sums the
// two per-feature gradient terms. layers/ knows nothing about processes: the
// training loop (train/distributed_fit.cpp) sets a CrossReplicaSum for the
// duration of a training step, and the kernels call it.
#pragma once

#include <cstdint>

namespace minidl {

class CrossReplicaSum {
 public:
  virtual ~CrossReplicaSum() = default;
  // Replaces values[0..n) by their sum over all replicas. Every replica calls
  // it with the same n, in the same order.
  virtual void sum(double* values, int64_t n) = 0;
  // This replica's weight in the global loss: its rows of the global batch
  // divided by the global batch's rows. The gradients a replica's backward
  // produces are in units of its own loss (the mean over its rows), and the
  // gradient average weights them by share().
  virtual double share() const = 0;
};

// The reducer the batch-norm kernels use (null: statistics of the local batch,
// the default). Not owned; the caller clears it before destroying it.
void set_cross_replica_sum(CrossReplicaSum* reducer);
CrossReplicaSum* cross_replica_sum();

}  // namespace minidl
