// tests/support/counting_new.cpp — replacement global operator new/delete for
// test_alloc (see counting_new.h).
//
// Every operator new goes to malloc/aligned_alloc after counting, every delete
// to free: the replacement must cover all the forms, or a library call that
// picks an uncovered one would pair our malloc with the runtime's delete.
#include "support/counting_new.h"

// Every operator new here is malloc and every delete free; GCC cannot see that
// the two are replaced together and warns about the pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <cxxabi.h>
#include <execinfo.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <vector>

namespace minidl::testing {
namespace {

std::atomic<int64_t> g_count{0};

// Tracing: a fixed buffer of stacks, filled without allocating.
constexpr int kDepth = 14;
constexpr int kMaxRecords = 1 << 14;
struct Record {
  int depth;
  void* frames[kDepth];
};
Record g_records[kMaxRecords];
std::atomic<int> g_next{0};
std::atomic<bool> g_tracing{false};
thread_local bool t_in_trace = false;  // backtrace() itself may allocate once

void record() {
  if (t_in_trace) return;
  t_in_trace = true;
  const int i = g_next.fetch_add(1);
  if (i < kMaxRecords) g_records[i].depth = backtrace(g_records[i].frames, kDepth);
  t_in_trace = false;
}

void* counted(std::size_t n) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  if (g_tracing.load(std::memory_order_relaxed)) record();
  return std::malloc(n ? n : 1);
}

void* counted_aligned(std::size_t n, std::align_val_t al) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  if (g_tracing.load(std::memory_order_relaxed)) record();
  const std::size_t a = std::max(static_cast<std::size_t>(al), sizeof(void*));
  return std::aligned_alloc(a, (std::max<std::size_t>(n, 1) + a - 1) / a * a);
}

std::string symbol(void* addr) {
  char** s = backtrace_symbols(&addr, 1);
  std::string text = s ? s[0] : "?";
  std::free(s);
  // "lib.so(mangled+0x12) [0x...]": demangle the part in parentheses.
  const auto open = text.find('('), plus = text.find('+', open == std::string::npos ? 0 : open);
  if (open != std::string::npos && plus != std::string::npos && plus > open + 1) {
    const std::string mangled = text.substr(open + 1, plus - open - 1);
    int status = 0;
    char* d = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
    if (status == 0 && d) {
      std::string name = d;
      std::free(d);
      if (name.size() > 160) name = name.substr(0, 160) + "...";
      return name + text.substr(plus, text.find(')', plus) - plus);
    }
  }
  return text;
}

}  // namespace

int64_t allocation_count() { return g_count.load(); }

void start_tracing() {
  void* warm[2];
  backtrace(warm, 2);  // loads the unwinder now, not inside a traced call
  g_next = 0;
  g_tracing = true;
}

void stop_tracing() { g_tracing = false; }

void print_trace(std::FILE* out, int max_stacks) {
  const int n = std::min(g_next.load(), kMaxRecords);
  std::map<std::vector<void*>, int> stacks;
  for (int i = 0; i < n; ++i)
    ++stacks[std::vector<void*>(g_records[i].frames + 2, g_records[i].frames + g_records[i].depth)];
  std::vector<std::pair<int, std::vector<void*>>> sorted;
  for (auto& [frames, count] : stacks) sorted.emplace_back(count, frames);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::fprintf(out, "%d traced allocations, %zu distinct stacks\n", n, sorted.size());
  for (int s = 0; s < std::min<int>(max_stacks, static_cast<int>(sorted.size())); ++s) {
    std::fprintf(out, "--- %d x\n", sorted[s].first);
    for (void* f : sorted[s].second) std::fprintf(out, "    %s\n", symbol(f).c_str());
  }
}

bool tracing_requested() { return std::getenv("MINIDL_ALLOC_TRACE") != nullptr; }

int traced_stacks_to_print() {
  const char* env = std::getenv("MINIDL_ALLOC_TRACE");
  const int n = env ? std::atoi(env) : 0;
  return n > 1 ? n : 40;
}

}  // namespace minidl::testing

using minidl::testing::counted;
using minidl::testing::counted_aligned;

void* operator new(std::size_t n) {
  if (void* p = counted(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new(std::size_t n, std::align_val_t al) {
  if (void* p = counted_aligned(n, al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t al) {
  if (void* p = counted_aligned(n, al)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return counted_aligned(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return counted_aligned(n, al);
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
