// core/memory.h — where tensor storage comes from: a cache of freed blocks.
//
// A training step allocates the same tensors every step: activations, their
// gradients, temporaries. Fresh memory costs twice: malloc, and for large
// blocks the kernel's page faults when the block is first touched (measured on
// the 2-core box: 35-60 ms per 100 MB, about 8% of an mnist_cnn step). So a
// freed block is not returned to the system but kept in a cache keyed by its
// size class and handed out again to the next request of that class; after the
// first step a training loop gets all of its tensor storage from the cache.
// (PyTorch's CUDA caching allocator and ggml's arenas rest on the same idea.)
//
// Size classes: requests are rounded up to 64 bytes below 4 KiB, above that to
// eighths of a power of two (at most 12.5% slack), so shapes that differ a
// little (a partial last batch) still share blocks. The cache holds at most
// cache_limit() bytes (default 256 MiB, or MINIDL_CACHE_MB); a block freed
// beyond that goes back to the system. The shared_ptr control blocks come from
// the same cache, so a cache hit makes no malloc call at all.
//
//   std::shared_ptr<float[]> p = aligned_floats(1024);   // 64-byte aligned
//   MemoryStats s = memory_stats();                      // for tests and benchmarks
//
// Thread-safe (one mutex; a hit costs a few tens of nanoseconds).
//
// Below the tensor cache sits a second, simpler pool for the small objects
// of the autograd tape (Variable state, GradFn entries, their input lists and
// backward closures): a training step creates and drops a few hundred of
// them, and taking each from malloc made the step's allocation count grow
// with the model. PoolAllocator<T> hands them out from free lists instead:
//
//   auto fn = std::allocate_shared<GradFn>(PoolAllocator<GradFn>(), ...);
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace minidl {

// `n` floats (n >= 0), aligned to 64 bytes (an AVX-512 line), contents unspecified.
// Throws std::bad_alloc when the system has no memory left.
std::shared_ptr<float[]> aligned_floats(int64_t n);

struct MemoryStats {
  int64_t system_allocations = 0;  // blocks obtained from the system (cache misses), ever
  int64_t cache_hits = 0;          // requests served from the cache, ever
  int64_t cached_bytes = 0;        // bytes held by the cache right now
  int64_t live_bytes = 0;          // bytes handed out and not yet freed (size classes, not requests)
  int64_t peak_live_bytes = 0;     // maximum of live_bytes so far
  int64_t pool_allocations = 0;    // small-object pool slabs obtained from the system, ever
};
MemoryStats memory_stats();

// Returns every cached block to the system (like torch.cuda.empty_cache()).
void empty_cache();

// The cache's bound in bytes (>= 0; 0 disables caching). ValueError if negative.
void set_cache_limit(int64_t bytes);
int64_t cache_limit();

// --- the read budget -----------------------------------------------------------
//
// Readers of files (HDF5 datasets, .npy, IDX) allocate what a header declares, and a
// header of a few bytes can declare any size. Before allocating they compare the declared
// size with the file's size (where the data is stored raw) and with this budget.

// The most bytes one read may allocate for data whose size a file declares: the value of
// the environment variable MINIDL_MAX_READ_BYTES (a positive decimal integer) when set,
// else half of physical memory (sysconf), or 4 GiB when that is unknown. Read at each
// call. ValueError when MINIDL_MAX_READ_BYTES is set to anything else.
int64_t max_read_bytes();

// --- the small-object pool ----------------------------------------------------
//
// Why it exists: the tape's objects are small (tens to a few hundred bytes),
// short-lived (one step) and made in the same sizes every step. The pool keeps
// one free list per 16-byte size class up to kPoolMaxBytes and never gives
// memory back (its size is bounded by the largest tape built so far). A class
// grows by slabs of at least 8 blocks and half its size again, so one call to
// the system serves many blocks and a steady state keeps some slack. Blocks
// are 16-byte aligned; larger requests go to operator new. Thread-safe (one
// mutex); a block may be freed on another thread than the one that took it.
inline constexpr std::size_t kPoolMaxBytes = 1024;

// A block of at least `bytes` bytes (bytes >= 1). Throws std::bad_alloc when
// the system has no memory left.
void* pool_allocate(std::size_t bytes);
// Returns a block from pool_allocate with the same `bytes`.
void pool_deallocate(void* p, std::size_t bytes) noexcept;

// A standard allocator over the pool, for std::allocate_shared and containers.
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit
  T* allocate(std::size_t n) { return static_cast<T*>(pool_allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { pool_deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace minidl
