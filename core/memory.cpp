// core/memory.cpp — the cache of freed tensor blocks, the small-object pool and the read budget (core/memory.h).
#include "core/memory.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/errors.h"

#include <unistd.h>

namespace minidl {
namespace {

int64_t default_limit() {
  if (const char* env = std::getenv("MINIDL_CACHE_MB")) {
    const long mb = std::atol(env);
    if (mb >= 0) return static_cast<int64_t>(mb) << 20;
  }
  return int64_t{256} << 20;
}

size_t size_class(size_t bytes) {
  if (bytes <= 4096) return std::max<size_t>(64, (bytes + 63) / 64 * 64);
  const size_t step = std::bit_floor(bytes) / 8;  // eighths of the power of two below
  return (bytes + step - 1) / step * step;
}

// The cache itself. Leaked on purpose (never destroyed): tensors in static
// objects may be freed after any static destructor has run.
class Cache {
 public:
  void* take(size_t cls) {
    {
      std::lock_guard lk(mu_);
      auto it = free_.find(cls);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= static_cast<int64_t>(cls);
        ++hits_;
        note_live(static_cast<int64_t>(cls));
        return p;
      }
      ++misses_;
      note_live(static_cast<int64_t>(cls));
    }
    void* p = std::aligned_alloc(64, cls);
    if (!p) {
      std::lock_guard lk(mu_);
      live_ -= static_cast<int64_t>(cls);
      throw std::bad_alloc();
    }
    return p;
  }

  void give(void* p, size_t cls) noexcept {
    {
      std::lock_guard lk(mu_);
      live_ -= static_cast<int64_t>(cls);
      if (cached_ + static_cast<int64_t>(cls) <= limit_) {
        try {
          free_[cls].push_back(p);
          cached_ += static_cast<int64_t>(cls);
          return;
        } catch (...) {  // no memory for the free list: give the block back instead
        }
      }
    }
    std::free(p);
  }

  void empty() {
    std::unordered_map<size_t, std::vector<void*>> drop;
    {
      std::lock_guard lk(mu_);
      drop.swap(free_);
      cached_ = 0;
    }
    for (auto& [cls, blocks] : drop)
      for (void* p : blocks) std::free(p);
  }

  MemoryStats stats() {
    std::lock_guard lk(mu_);
    return {misses_, hits_, cached_, live_, peak_, 0};
  }

  void set_limit(int64_t bytes) {
    {
      std::lock_guard lk(mu_);
      limit_ = bytes;
    }
    empty();
  }
  int64_t limit() {
    std::lock_guard lk(mu_);
    return limit_;
  }

 private:
  void note_live(int64_t bytes) {
    live_ += bytes;
    peak_ = std::max(peak_, live_);
  }

  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  int64_t limit_ = default_limit();
  int64_t cached_ = 0, hits_ = 0, misses_ = 0, live_ = 0, peak_ = 0;
};

// The small-object pool: free lists threaded through the free blocks
// themselves, so giving a block back never allocates. Leaked on purpose, as
// the cache is; LeakSanitizer sees every block through the lists or the user.
class Pool {
 public:
  static constexpr size_t kGrain = 16;
  static constexpr size_t kClasses = kPoolMaxBytes / kGrain;

  void* take(size_t bytes) {
    const size_t c = (bytes + kGrain - 1) / kGrain - 1;
    std::lock_guard lk(mu_);
    if (FreeBlock* b = free_[c]) {
      free_[c] = b->next;
      return b;
    }
    // A slab of blocks: at least kMinSlab, and half as many again as the class
    // holds. When several threads share the pool, the most blocks alive at once
    // differs a little from step to step with how the threads interleave; the
    // slack keeps such a steady state from going back to the system.
    const size_t block = (c + 1) * kGrain;
    const size_t n = std::max(kMinSlab, obtained_[c] / 2);
    auto* slab = static_cast<char*>(::operator new(n * block));  // throws std::bad_alloc
    ++misses_;
    obtained_[c] += n;
    for (size_t i = n - 1; i >= 1; --i) {
      auto* b = reinterpret_cast<FreeBlock*>(slab + i * block);
      b->next = free_[c];
      free_[c] = b;
    }
    return slab;
  }

  void give(void* p, size_t bytes) noexcept {
    const size_t c = (bytes + kGrain - 1) / kGrain - 1;
    auto* b = static_cast<FreeBlock*>(p);
    std::lock_guard lk(mu_);
    b->next = free_[c];
    free_[c] = b;
  }

  int64_t misses() {
    std::lock_guard lk(mu_);
    return misses_;
  }

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  static constexpr size_t kMinSlab = 8;
  std::mutex mu_;
  FreeBlock* free_[kClasses] = {};
  size_t obtained_[kClasses] = {};  // blocks of each class obtained from the system, ever
  int64_t misses_ = 0;
};

Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

// Allocates shared_ptr control blocks from the cache too.
template <class T>
struct CachedAllocator {
  using value_type = T;
  CachedAllocator() = default;
  template <class U>
  CachedAllocator(const CachedAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(cache().take(size_class(n * sizeof(T)))); }
  void deallocate(T* p, size_t n) noexcept { cache().give(p, size_class(n * sizeof(T))); }
  template <class U>
  bool operator==(const CachedAllocator<U>&) const {
    return true;
  }
};

struct CachedDeleter {
  size_t cls;
  void operator()(float* p) const noexcept { cache().give(p, cls); }
};

}  // namespace

std::shared_ptr<float[]> aligned_floats(int64_t n) {
  MINIDL_CHECK(n >= 0, ValueError, "aligned_floats: expected n >= 0, received {}", n);
  // Past 2^60 floats the byte count and its size class would wrap around size_t.
  MINIDL_CHECK(n <= (int64_t{1} << 60), ValueError, "aligned_floats: {} floats are more than any address space holds",
               n);
  const size_t cls = size_class(static_cast<size_t>(n) * sizeof(float));
  auto* p = static_cast<float*>(cache().take(cls));
  try {
    return std::shared_ptr<float[]>(p, CachedDeleter{cls}, CachedAllocator<float>());
  } catch (...) {
    cache().give(p, cls);
    throw;
  }
}

MemoryStats memory_stats() {
  MemoryStats s = cache().stats();
  s.pool_allocations = pool().misses();
  return s;
}

void* pool_allocate(std::size_t bytes) {
  if (bytes == 0 || bytes > kPoolMaxBytes) return ::operator new(std::max<size_t>(bytes, 1));
  return pool().take(bytes);
}

void pool_deallocate(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (bytes == 0 || bytes > kPoolMaxBytes) {
    ::operator delete(p);
    return;
  }
  pool().give(p, bytes);
}

void empty_cache() { cache().empty(); }

void set_cache_limit(int64_t bytes) {
  MINIDL_CHECK(bytes >= 0, ValueError, "set_cache_limit: expected bytes >= 0, received {}", bytes);
  cache().set_limit(bytes);
}

int64_t cache_limit() { return cache().limit(); }

int64_t max_read_bytes() {
  if (const char* env = std::getenv("MINIDL_MAX_READ_BYTES"); env != nullptr && *env != '\0') {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(env, &end, 10);
    MINIDL_CHECK(errno == 0 && end != env && *end == '\0' && v > 0, ValueError,
                 "MINIDL_MAX_READ_BYTES must be a positive number of bytes, found '{}'", env);
    return static_cast<int64_t>(v);
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return int64_t{1} << 32;
  return static_cast<int64_t>(pages) / 2 * static_cast<int64_t>(page);
}

}  // namespace minidl
