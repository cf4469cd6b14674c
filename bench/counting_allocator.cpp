#include "counting_allocator.hpp"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<size_t> g_live{0};

void* counted(size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  g_live.fetch_add(malloc_usable_size(p), std::memory_order_relaxed);
  return p;
}
void* counted_aligned(size_t n, std::align_val_t a) {
  void* p = nullptr;
  const size_t al = std::max(sizeof(void*), size_t(a));
  if (posix_memalign(&p, al, n ? n : 1)) throw std::bad_alloc();
  g_live.fetch_add(malloc_usable_size(p), std::memory_order_relaxed);
  return p;
}
void uncount(void* p) {
  if (!p) return;
  g_live.fetch_sub(malloc_usable_size(p), std::memory_order_relaxed);
  std::free(p);
}
}  // namespace

namespace gicv3::bench {
size_t live_heap_bytes() { return g_live.load(std::memory_order_relaxed); }
}  // namespace gicv3::bench

void* operator new(size_t n) { return counted(n); }
void* operator new[](size_t n) { return counted(n); }
void* operator new(size_t n, std::align_val_t a) { return counted_aligned(n, a); }
void* operator new[](size_t n, std::align_val_t a) { return counted_aligned(n, a); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { uncount(p); }
void operator delete[](void* p) noexcept { uncount(p); }
void operator delete(void* p, size_t) noexcept { uncount(p); }
void operator delete[](void* p, size_t) noexcept { uncount(p); }
void operator delete(void* p, std::align_val_t) noexcept { uncount(p); }
void operator delete[](void* p, std::align_val_t) noexcept { uncount(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { uncount(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { uncount(p); }
