// core/threads.cpp — the thread pool behind the thread-count setting (core/threads.h).
#include "core/threads.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/errors.h"

namespace minidl {
namespace {

int default_threads() {
  if (const char* env = std::getenv("MINIDL_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

std::atomic<int> g_threads{default_threads()};

// A fixed pool of workers for parallel_for. Each job is split into as many
// chunks as threads; the caller runs chunk 0 itself.
class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  void run(int chunks, FunctionRef<void(int)> job) {
    std::lock_guard run_lock(run_mu_);  // one job at a time
    ensure_workers(chunks - 1);
    {
      std::lock_guard lk(mu_);
      job_ = &job;
      next_ = 1;
      chunks_ = chunks;
      pending_ = chunks - 1;
      error_ = nullptr;
      ++generation_;
    }
    cv_.notify_all();
    std::exception_ptr mine;
    try {
      job(0);
    } catch (...) {
      mine = std::current_exception();
    }
    std::unique_lock lk(mu_);
    done_cv_.wait(lk, [&] { return pending_ == 0; });
    job_ = nullptr;
    if (mine) std::rethrow_exception(mine);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void ensure_workers(int n) {
    while (static_cast<int>(workers_.size()) < n) workers_.emplace_back([this] { loop(); });
  }

  void loop() {
    uint64_t seen = 0;
    std::unique_lock lk(mu_);
    for (;;) {
      cv_.wait(lk, [&] { return stop_ || (generation_ != seen && job_ && next_ < chunks_); });
      if (stop_) return;
      seen = generation_;
      while (job_ && next_ < chunks_) {
        const int c = next_++;
        const auto* job = job_;
        lk.unlock();
        std::exception_ptr err;
        try {
          (*job)(c);
        } catch (...) {
          err = std::current_exception();
        }
        lk.lock();
        if (err && !error_) error_ = err;
        if (--pending_ == 0) done_cv_.notify_all();
      }
    }
  }

  std::mutex run_mu_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  const FunctionRef<void(int)>* job_ = nullptr;
  int next_ = 0, chunks_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool p;
  return p;
}

thread_local bool t_in_parallel = false;

}  // namespace

void set_num_threads(int n) {
  MINIDL_CHECK(n >= 1, ValueError, "set_num_threads: expected n >= 1, received {}", n);
  g_threads = n;
}

int num_threads() { return g_threads.load(); }

void parallel_for(int64_t n, FunctionRef<void(int64_t, int64_t)> fn, int64_t min_chunk) {
  if (n <= 0) return;
  min_chunk = std::max<int64_t>(1, min_chunk);
  const int64_t max_chunks = std::max<int64_t>(1, n / min_chunk);
  const int chunks = static_cast<int>(std::min<int64_t>(num_threads(), max_chunks));
  if (chunks <= 1 || t_in_parallel) {  // nested calls run inline
    fn(0, n);
    return;
  }
  pool().run(chunks, [&](int c) {
    t_in_parallel = true;
    const int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
    try {
      fn(b, e);
    } catch (...) {
      t_in_parallel = false;
      throw;
    }
    t_in_parallel = false;
  });
}

int64_t parallel_slots(int64_t chunks) { return std::clamp<int64_t>(num_threads(), 1, std::max<int64_t>(chunks, 1)); }

void parallel_chunks(int64_t chunks, int64_t slots, FunctionRef<void(int64_t, int64_t)> body) {
  if (chunks <= 0) return;
  MINIDL_CHECK(slots >= 1 && slots <= chunks, ValueError,
               "parallel_chunks: expected 1 <= slots <= chunks, received {} slots for {} chunks", slots, chunks);
  parallel_for(slots, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s)
      for (int64_t c = chunks * s / slots; c < chunks * (s + 1) / slots; ++c) body(s, c);
  });
}

}  // namespace minidl
