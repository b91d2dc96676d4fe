// train/distributed.h — data-parallel training over MPI: start the job, ask who we are.
//
// The same program runs as N processes (ranks), launched by MPI:
//
//   int main(int argc, char** argv) {
//     auto mpi = minidl::distributed::init(argc, argv);   // RAII: finalizes at scope end
//     ...
//     model->fit(x, y, {.batch_size = 128});               // 128 = the global batch
//   }
//   $ mpirun -np 2 ./train
//
// Once init() has run in a job of size() > 1, fit, evaluate and predict use
// every rank without further changes (docs/DISTRIBUTED.md): each rank holds a
// full replica of the model; at the start of fit rank 0 broadcasts the
// weights, the non-trainable state and the optimizer state; every global batch
// is split into one disjoint shard per rank; gradients are averaged in fused
// buckets overlapped with the backward pass; BatchNormalization normalizes with
// the statistics of the global batch; logs are averaged, so callbacks decide
// identically on every rank; only rank 0 prints the progress bar and writes
// files (Model::save, checkpoints). evaluate and predict are collective then:
// every rank must call them.
//
// Without MPI in the build (MINIDL_MPI=OFF, or AUTO without OpenMPI), without
// init(), and in a process no MPI launcher started (init() then leaves MPI
// alone), everything here still exists and describes one process.
#pragma once

#include <cstdint>
#include <string>

namespace minidl::distributed {

// Ends the MPI job when it goes out of scope (MPI_Finalize). If it is
// destroyed while an exception is propagating, it aborts the whole job
// instead, so the other ranks do not wait for this one forever.
class [[nodiscard]] Session {
 public:
  Session() = default;
  Session(Session&& other) noexcept : owns_(other.owns_) { other.owns_ = false; }
  Session& operator=(Session&&) = delete;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

 private:
  friend Session init(int& argc, char**& argv);
  bool owns_ = false;
};

// Initializes MPI (once; later calls return a guard that owns nothing) and
// installs the fault handling: an exception escaping fit on one rank, or a
// std::terminate, prints "rank R: <error>" and aborts every rank (MPI_Abort)
// with a non-zero exit status. Without MPI in the build it does nothing.
// RuntimeError if MPI fails to initialize.
Session init(int& argc, char**& argv);

// This process's rank in [0, size()), and the number of processes. 0 and 1
// before init() and without MPI.
int rank();
int size();
// Whether this build has MPI (MINIDL_MPI found OpenMPI).
bool built_with_mpi();

// Prints "rank R: <message>" to stderr and ends every process of the job with
// exit status 1 (MPI_Abort); without a job, std::exit(1).
[[noreturn]] void abort_job(const std::string& message);

// What the last fit on this rank spent on averaging gradients (benchmarks,
// docs/DISTRIBUTED.md). All zero until a fit has run on several ranks.
struct GradientSyncStats {
  int64_t steps = 0;           // train steps
  int64_t bytes_per_step = 0;  // gradient bytes each rank sums per step
  int buckets = 0;             // fused buffers per step
  double backward_seconds = 0; // over all steps: end of forward to end of backward
  double wait_seconds = 0;     // over all steps: after backward, waiting for the sums
};
GradientSyncStats last_fit_stats();

}  // namespace minidl::distributed
