// train/distributed_mpi.cpp — the MPI calls behind train/distributed.h and train/distributed_comm.h.
//
// The only file that includes <mpi.h> (scripts/check_layering.sh). Built with
// MPI when train/CMakeLists.txt finds it (MINIDL_WITH_MPI); otherwise every
// function describes one process. MPI runs in MPI_THREAD_FUNNELED mode: only
// the thread that called init() calls MPI (minidl's worker threads compute
// kernels and never communicate). Errors inside MPI keep MPI's default
// handler, MPI_ERRORS_ARE_FATAL: the job ends rather than hangs.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "core/errors.h"
#include "train/distributed.h"
#include "train/distributed_comm.h"

#if MINIDL_WITH_MPI
#include <mpi.h>
#endif

namespace minidl::distributed {

#if MINIDL_WITH_MPI

namespace {

bool mpi_running() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

// True when a launcher (mpirun/mpiexec of Open MPI or MPICH, srun with PMI/PMIx)
// started this process as part of a job. Any other process stays one process
// without MPI_Init: a singleton init would start Open MPI's runtime for a
// program that trains alone (the main job, every CLI command).
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}

int checked_count(int64_t n) {
  MINIDL_CHECK(n >= 0 && n <= 0x7fffffff, ValueError, "distributed: {} values in one MPI call; at most 2^31 - 1", n);
  return static_cast<int>(n);
}

// A std::terminate on any rank (an exception nobody caught, a throwing
// destructor) ends the whole job with the exception's message.
[[noreturn]] void terminate_job() {
  std::string what = "terminate called";
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
      what = "terminate called with an exception that is not a std::exception";
    }
  }
  abort_job(what);
}

}  // namespace

Session init(int& argc, char**& argv) {
  Session s;
  if (mpi_running() || !launched_by_mpi()) return s;
  int provided = 0;
  MINIDL_CHECK(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) == MPI_SUCCESS, RuntimeError,
               "distributed::init: MPI_Init_thread failed");
  std::set_terminate(terminate_job);
  s.owns_ = true;
  return s;
}

Session::~Session() {
  if (!owns_ || !mpi_running()) return;
  // Finalizing while other ranks wait in a collective for this one would hang them.
  if (std::uncaught_exceptions() > 0 && size() > 1) abort_job("an exception is leaving the program");
  MPI_Finalize();
}

int rank() {
  if (!mpi_running()) return 0;
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int size() {
  if (!mpi_running()) return 1;
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

bool built_with_mpi() { return true; }

void abort_job(const std::string& message) {
  std::fprintf(stderr, "rank %d: %s\n", rank(), message.c_str());
  std::fflush(stderr);
  std::fflush(stdout);
  if (mpi_running()) MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

namespace detail {

void broadcast(float* data, int64_t n, int root) {
  if (size() > 1) MPI_Bcast(data, checked_count(n), MPI_FLOAT, root, MPI_COMM_WORLD);
}
void broadcast(double* data, int64_t n, int root) {
  if (size() > 1) MPI_Bcast(data, checked_count(n), MPI_DOUBLE, root, MPI_COMM_WORLD);
}
void broadcast(uint64_t* data, int64_t n, int root) {
  if (size() > 1) MPI_Bcast(data, checked_count(n), MPI_UINT64_T, root, MPI_COMM_WORLD);
}
void allreduce_sum(double* data, int64_t n) {
  if (size() > 1) MPI_Allreduce(MPI_IN_PLACE, data, checked_count(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
void allreduce_sum(float* data, int64_t n) {
  if (size() > 1) MPI_Allreduce(MPI_IN_PLACE, data, checked_count(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

void allgather(const float* local, const std::vector<int64_t>& counts, float* out) {
  const int me = rank();
  if (size() == 1) {
    std::copy_n(local, counts.at(0), out);
    return;
  }
  std::vector<int> c(counts.size()), displ(counts.size());
  int64_t at = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    c[r] = checked_count(counts[r]);
    displ[r] = checked_count(at);
    at += counts[r];
  }
  MPI_Allgatherv(local, c[static_cast<size_t>(me)], MPI_FLOAT, out, c.data(), displ.data(), MPI_FLOAT,
                 MPI_COMM_WORLD);
}

void barrier() {
  if (size() > 1) MPI_Barrier(MPI_COMM_WORLD);
}

struct AsyncSums::Requests {
  std::vector<MPI_Request> pending;
};

AsyncSums::AsyncSums() : requests_(std::make_unique<Requests>()) { requests_->pending.reserve(64); }
AsyncSums::~AsyncSums() {
  if (!requests_->pending.empty() && mpi_running()) wait();
}

void AsyncSums::start(float* data, int64_t n) {
  if (size() == 1) return;
  MPI_Request r;
  MPI_Iallreduce(MPI_IN_PLACE, data, checked_count(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r);
  requests_->pending.push_back(r);
}

bool AsyncSums::progress() {
  auto& p = requests_->pending;
  if (p.empty()) return true;
  int done = 0;
  MPI_Testall(static_cast<int>(p.size()), p.data(), &done, MPI_STATUSES_IGNORE);
  if (done) p.clear();  // MPI_Testall freed them all
  return done != 0;
}

void AsyncSums::wait() {
  auto& p = requests_->pending;
  if (p.empty()) return;
  MPI_Waitall(static_cast<int>(p.size()), p.data(), MPI_STATUSES_IGNORE);
  p.clear();
}

}  // namespace detail

#else  // one process: no MPI in this build

Session init(int& /*argc*/, char**& /*argv*/) { return Session(); }
Session::~Session() = default;
int rank() { return 0; }
int size() { return 1; }
bool built_with_mpi() { return false; }

void abort_job(const std::string& message) {
  std::fprintf(stderr, "rank 0: %s\n", message.c_str());
  std::fflush(stderr);
  std::fflush(stdout);
  std::_Exit(1);
}

namespace detail {

void broadcast(float*, int64_t, int) {}
void broadcast(double*, int64_t, int) {}
void broadcast(uint64_t*, int64_t, int) {}
void allreduce_sum(double*, int64_t) {}
void allreduce_sum(float*, int64_t) {}
void allgather(const float* local, const std::vector<int64_t>& counts, float* out) {
  std::copy_n(local, counts.at(0), out);
}
void barrier() {}

struct AsyncSums::Requests {};
AsyncSums::AsyncSums() = default;
AsyncSums::~AsyncSums() = default;
void AsyncSums::start(float*, int64_t) {}
bool AsyncSums::progress() { return true; }
void AsyncSums::wait() {}

}  // namespace detail

#endif

}  // namespace minidl::distributed
