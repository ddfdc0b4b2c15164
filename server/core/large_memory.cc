#include "server/core/large_memory.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace atable {
namespace {

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

constexpr size_t kPageBytes = 4096;

}  // namespace

void* AllocateLarge(size_t bytes, size_t alignment) {
  if (bytes < kLargeBytes) {
    if (alignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator new(bytes);
    return ::operator new (bytes, std::align_val_t{alignment});
  }
  // Map 2 MiB more than needed, then give back what lies before the first 2 MiB boundary and
  // after the request's last page.
  const size_t length = RoundUp(bytes, kPageBytes);
  void* mapped = mmap(nullptr, length + kHugePageBytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(mapped);
  const uintptr_t aligned = RoundUp(start, kHugePageBytes);
  if (aligned > start) munmap(mapped, aligned - start);
  const uintptr_t end = start + length + kHugePageBytes;
  if (end > aligned + length)
    munmap(reinterpret_cast<void*>(aligned + length), end - (aligned + length));
  // Advice only: without huge pages (or with them off) the mapping works in 4 KiB pages.
  madvise(reinterpret_cast<void*>(aligned), length, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

void FreeLarge(void* p, size_t bytes, size_t alignment) noexcept {
  if (p == nullptr) return;
  if (bytes < kLargeBytes) {
    if (alignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      ::operator delete(p);
    } else {
      ::operator delete (p, std::align_val_t{alignment});
    }
    return;
  }
  munmap(p, RoundUp(bytes, kPageBytes));
}

}  // namespace atable
