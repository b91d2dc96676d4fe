// train/distributed_comm.h — internal to train/: the few collectives data-parallel training uses.
//
// Implemented in train/distributed_mpi.cpp, the one file that includes
// <mpi.h>; without MPI (or before init) they act on one process: a sum or a
// broadcast leaves the values as they are. All act on MPI_COMM_WORLD, and
// every rank must call them in the same order.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace minidl::distributed::detail {

// Root's values everywhere.
void broadcast(float* data, int64_t n, int root = 0);
void broadcast(double* data, int64_t n, int root = 0);
void broadcast(uint64_t* data, int64_t n, int root = 0);
// In place: the element-wise sum over ranks.
void allreduce_sum(double* data, int64_t n);
void allreduce_sum(float* data, int64_t n);
// Every rank's `local` (counts[r] floats from rank r) concatenated in rank
// order into `out` (sum(counts) floats).
void allgather(const float* local, const std::vector<int64_t>& counts, float* out);
void barrier();

// In-place sums started without waiting (MPI_Iallreduce), completed by wait().
class AsyncSums {
 public:
  AsyncSums();
  ~AsyncSums();
  AsyncSums(const AsyncSums&) = delete;
  AsyncSums& operator=(const AsyncSums&) = delete;
  // Starts summing data[0..n) over ranks; data must stay untouched until wait().
  void start(float* data, int64_t n);
  // Lets started sums advance (MPI progresses them only inside MPI calls);
  // true when every started sum is complete. One MPI_Testall: microseconds.
  bool progress();
  // Completes every started sum.
  void wait();

 private:
  struct Requests;
  std::unique_ptr<Requests> requests_;
};

}  // namespace minidl::distributed::detail
